// The one result model between "run" and "report": every renderer (summary, annotations, outputs) reads this.
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ManifestNode } from '../dbt/manifest.js';
import type { RunResult } from '../dbt/run-results.js';
import { bucketOf, isFailure, type Bucket } from '../dbt/statuses.js';

export interface NodeFacts {
  name: string;
  resourceType: string;
  /** Path relative to the repository root (forward slashes), when the file is in the repository. */
  file?: string;
  /** 1-based line in `file` where the node is declared (a generic test's entry in its YAML file). */
  line?: number;
}

export interface NodeOutcome extends NodeFacts {
  uid: string;
  status: string;
  bucket: Bucket;
  message: string | null;
  failures: number | null;
  seconds: number;
  chunk: string;
  compiledCode?: string | null;
  /** When dbt finished the node (ISO time from run_results timing), for "first failure first" ordering. */
  finishedAt?: string;
  /** For a skipped node: the errored or failed node upstream that made it skip, when it can be told. */
  cause?: string;
  /** adapter_response.rows_affected, when the adapter reported it. */
  rows?: number;
}

/** A node that errored or failed, then passed on a retry: green in the results, never silently. */
export interface FlakyNode {
  uid: string;
  /** The status of every attempt, in order. */
  statuses: string[];
}

export type Counts = Record<Bucket, number> & { total: number };

export interface ChunkSummary {
  index: number;
  name: string;
  counts: Counts;
  /** Actual wall seconds of the chunk's dbt process(es). */
  seconds: number;
  /** The planner's estimate of `seconds`. */
  predicted?: number;
  /** Seconds after the first chunk started that this one started (actual / planned). */
  startedAfter?: number;
  predictedStart?: number;
}

/**
 * Modelled makespans of this run's shape and of one dbt process with the same budget (what plain dbt would do): the
 * summary's speed figure is their ratio, labelled as an estimate. basis 'this run': re-costed after the run with the
 * node times it measured (plan/shape.ts speedInHindsight); absent: the planner's prediction.
 */
export interface SpeedEstimate {
  chosen: number;
  oneProcess: number;
  basis?: 'this run';
}

export interface RunReport {
  command: string;
  ok: boolean;
  counts: Counts;
  wallSeconds: number;
  speedEstimate?: SpeedEstimate;
  chunks: ChunkSummary[];
  nodes: NodeOutcome[];
  notes: string[];
  /** Nodes that passed only on a retry. */
  flaky?: FlakyNode[];
  /** Against the base branch's results (input compare-to); absent when not asked for. */
  comparison?: Comparison;
}

/** Retried nodes whose last attempt passed after an error or a failure. */
export function flakyOf(retried: FlakyNode[]): FlakyNode[] {
  return retried.filter(
    (x) =>
      x.statuses.length > 1 &&
      bucketOf(x.statuses[x.statuses.length - 1]) === 'passed' &&
      x.statuses.slice(0, -1).some((s) => isFailure(bucketOf(s))),
  );
}

export function emptyCounts(): Counts {
  return { passed: 0, failed: 0, warned: 0, errored: 0, skipped: 0, total: 0 };
}

export function countOf(nodes: { bucket: Bucket }[]): Counts {
  const c = emptyCounts();
  for (const n of nodes) {
    c[n.bucket]++;
    c.total++;
  }
  return c;
}

/** Facts of a manifest node for reports: display name, type, and its file relative to the repository root. */
export function nodeFacts(
  n: ManifestNode | undefined,
  uid: string,
  projectDir: string,
  workspace: string,
  rootPackage?: string,
): NodeFacts {
  if (n === undefined) return { name: uid.split('.').slice(2).join('.') || uid, resourceType: uid.split('.')[0] };
  let file: string | undefined;
  if (n.original_file_path && (rootPackage === undefined || n.package_name === rootPackage)) {
    const abs = isAbsolute(n.original_file_path) ? n.original_file_path : join(projectDir, n.original_file_path);
    const rel = relative(workspace, abs);
    if (!rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
  }
  return { name: n.name, resourceType: n.resource_type, file };
}

export function outcomeOf(r: RunResult, facts: NodeFacts, chunk: string): NodeOutcome {
  const finished = (r.timing ?? [])
    .map((t) => t.completed_at)
    .filter((t): t is string => typeof t === 'string' && t !== '')
    .sort()
    .pop();
  const rows = (r.adapter_response as { rows_affected?: unknown } | undefined)?.rows_affected;
  return {
    ...facts,
    uid: r.unique_id,
    status: r.status,
    bucket: bucketOf(r.status),
    message: r.message ?? null,
    failures: typeof r.failures === 'number' ? r.failures : null,
    seconds: typeof r.execution_time === 'number' ? r.execution_time : 0,
    chunk,
    compiledCode: typeof r.compiled_code === 'string' ? r.compiled_code : null,
    ...(finished !== undefined ? { finishedAt: finished } : {}),
    ...(typeof rows === 'number' && Number.isFinite(rows) && rows >= 0 ? { rows } : {}),
  };
}

/** A test node (generic, singular or unit test). */
export function isTest(n: { resourceType: string }): boolean {
  return n.resourceType === 'test' || n.resourceType === 'unit_test';
}

/**
 * Problems by importance: errors of models (seeds, snapshots, …) before errors of tests, then failing tests,
 * then skipped nodes (after the failure that caused them), then warnings; inside each, the first to finish first.
 * Compared with the base (`since`), the problems new in this PR come before those already there, kind by kind.
 */
export function problems(nodes: NodeOutcome[], since?: Map<string, 'new' | 'existing'>): NodeOutcome[] {
  const rankOf = (n: NodeOutcome): number => {
    switch (n.bucket) {
      case 'errored':
        return isTest(n) ? 1 : 0;
      case 'failed':
        return 2;
      case 'skipped':
        return 3;
      case 'warned':
        return 4;
      default:
        return 9;
    }
  };
  const byTime = (a: { n: NodeOutcome; i: number }, b: { n: NodeOutcome; i: number }): number => {
    const [x, y] = [a.n.finishedAt ?? '\uffff', b.n.finishedAt ?? '\uffff'];
    return x < y ? -1 : x > y ? 1 : a.i - b.i;
  };
  const ranked = nodes.map((n, i) => ({ n, i, r: rankOf(n) })).filter((x) => x.r < 9);
  const old = (n: NodeOutcome): number => (since?.get(n.uid) === 'existing' ? 1 : 0);
  const causes = ranked.filter((x) => x.r < 3).sort((a, b) => old(a.n) - old(b.n) || a.r - b.r || byTime(a, b));
  const position = new Map(causes.map((x, k) => [x.n.uid, k]));
  const skipped = ranked
    .filter((x) => x.r === 3)
    .sort(
      (a, b) =>
        (position.get(a.n.cause ?? '') ?? causes.length) - (position.get(b.n.cause ?? '') ?? causes.length) ||
        a.i - b.i,
    );
  const warned = ranked.filter((x) => x.r === 4).sort((a, b) => old(a.n) - old(b.n) || byTime(a, b));
  return [...causes, ...skipped, ...warned].map((x) => x.n);
}

// What this run changed against the base branch's results (compare.ts computes it).

/** new: passed, or absent, on the base; existing: already failing (or, for a warning, already warning) there. */
export type Since = 'new' | 'existing';

export interface Change {
  uid: string;
  base: number;
  now: number;
}

export interface Comparison {
  files: string[];
  /** The label of every problem node (errored, failed, skipped, warned). */
  since: Map<string, Since>;
  /** Errored, failed or skipped here and not on the base: what fail-on: new fails on. */
  newFailures: string[];
  existingFailures: string[];
  /** Failing on the base, passing (or only warning) here. */
  fixed: { uid: string; baseStatus: string }[];
  /** At least 2× and 5 s slower than on the base, the largest slow-downs first (top 10). */
  slower: Change[];
  /** Rows affected changed by 20 % or more, the largest changes first. */
  rows: Change[];
}
