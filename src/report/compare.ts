// What this run changed against the base branch's results: each problem labelled new or already failing, the
// nodes fixed, duration regressions and row-count changes. Pure: the base is read by base.ts.
import { bucketOf, isBlocking, type Bucket } from '../dbt/statuses.js';
import type { RunResult } from '../dbt/run-results.js';
import type { Change, Comparison, NodeOutcome, Since } from './model.js';

/** One node as the base run left it. */
export interface BaseNode {
  status: string;
  bucket: Bucket;
  seconds: number;
  /** adapter_response.rows_affected, when the adapter reported it. */
  rows?: number;
}

export interface Base {
  /** The run_results.json files read (absolute). */
  files: string[];
  nodes: Map<string, BaseNode>;
}

export const SLOWER_FACTOR = 2;
export const SLOWER_SECONDS = 5;
export const SLOWER_TOP = 10;
export const ROWS_CHANGE = 0.2;

/** A base node from one run_results.json entry. */
export function baseNodeOf(
  r: Pick<RunResult, 'status' | 'execution_time'> & Partial<Pick<RunResult, 'adapter_response'>>,
): BaseNode {
  const rows = r.adapter_response?.rows_affected;
  return {
    status: r.status,
    bucket: bucketOf(r.status),
    seconds: r.execution_time >= 0 ? r.execution_time : 0,
    ...(typeof rows === 'number' && Number.isFinite(rows) && rows >= 0 ? { rows } : {}),
  };
}

/** Compares this run's nodes with the base. Without a base every problem is new (a first run has nothing older). */
export function compareRuns(nodes: NodeOutcome[], base: Base | undefined): Comparison {
  const since = new Map<string, Since>();
  const newFailures: string[] = [];
  const existingFailures: string[] = [];
  const fixed: Comparison['fixed'] = [];
  const slower: Change[] = [];
  const rows: Change[] = [];
  for (const n of nodes) {
    const b = base?.nodes.get(n.uid);
    if (n.bucket !== 'passed') {
      const already = b !== undefined && (n.bucket === 'warned' ? b.bucket !== 'passed' : isBlocking(b.bucket));
      since.set(n.uid, already ? 'existing' : 'new');
      if (isBlocking(n.bucket)) (already ? existingFailures : newFailures).push(n.uid);
    }
    if (b === undefined) continue;
    if (isBlocking(b.bucket) && (n.bucket === 'passed' || n.bucket === 'warned'))
      fixed.push({ uid: n.uid, baseStatus: b.status });
    if (
      n.bucket !== 'skipped' &&
      b.bucket !== 'skipped' &&
      b.seconds > 0 &&
      n.seconds >= SLOWER_FACTOR * b.seconds &&
      n.seconds - b.seconds >= SLOWER_SECONDS
    ) {
      slower.push({ uid: n.uid, base: b.seconds, now: n.seconds });
    }
    if (n.rows !== undefined && b.rows !== undefined && !isTestType(n.resourceType) && rowsChanged(b.rows, n.rows))
      rows.push({ uid: n.uid, base: b.rows, now: n.rows });
  }
  slower.sort((x, y) => y.now - y.base - (x.now - x.base));
  rows.sort((x, y) => relativeChange(y) - relativeChange(x) || Math.abs(y.now - y.base) - Math.abs(x.now - x.base));
  return {
    files: base?.files ?? [],
    since,
    newFailures,
    existingFailures,
    fixed,
    slower: slower.slice(0, SLOWER_TOP),
    rows,
  };
}

function isTestType(t: string): boolean {
  return t === 'test' || t === 'unit_test';
}

function rowsChanged(base: number, now: number): boolean {
  return base === 0 ? now > 0 : Math.abs(now - base) / base >= ROWS_CHANGE;
}

/** |now − base| / base (Infinity from zero rows). */
export function relativeChange(c: Change): number {
  return c.base === 0 ? (c.now === 0 ? 0 : Infinity) : Math.abs(c.now - c.base) / c.base;
}

/** The step's verdict: fail-on any fails on every failure, error or upstream skip; new only on those the base did not have. */
export function passesFailOn(nodes: NodeOutcome[], comparison: Comparison, failOn: 'any' | 'new'): boolean {
  return failOn === 'new' ? comparison.newFailures.length === 0 : !nodes.some((n) => isBlocking(n.bucket));
}
