// The one result model between "run" and "report": every renderer (summary, annotations, outputs) reads this.
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ManifestNode, RunResult } from '../dbt/types.js';
import { bucketOf, type Bucket } from '../run/statuses.js';

export interface NodeFacts {
  name: string;
  resourceType: string;
  /** Path relative to the repository root (forward slashes), when the file is in the repository. */
  file?: string;
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
}

export type Counts = Record<Bucket, number> & { total: number };

export interface ChunkSummary {
  index: number;
  name: string;
  counts: Counts;
  seconds: number;
  predicted?: number;
}

export interface RunReport {
  command: string;
  ok: boolean;
  counts: Counts;
  wallSeconds: number;
  /** Sum of the chunks' wall times: what one-at-a-time would roughly have cost. */
  chunkSeconds: number;
  chunks: ChunkSummary[];
  nodes: NodeOutcome[];
  notes: string[];
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
export function nodeFacts(n: ManifestNode | undefined, uid: string, projectDir: string, workspace: string, rootPackage?: string): NodeFacts {
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
  return {
    ...facts,
    uid: r.unique_id,
    status: String(r.status),
    bucket: bucketOf(String(r.status)),
    message: r.message ?? null,
    failures: typeof r.failures === 'number' ? r.failures : null,
    seconds: typeof r.execution_time === 'number' ? r.execution_time : 0,
    chunk,
    compiledCode: typeof r.compiled_code === 'string' ? r.compiled_code : null,
  };
}

/** Problems first: errors, then failures, then skipped, then warnings (each in run order). */
export function problems(nodes: NodeOutcome[]): NodeOutcome[] {
  const rank: Record<Bucket, number> = { errored: 0, failed: 1, skipped: 2, warned: 3, passed: 9 };
  return nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.bucket !== 'passed')
    .sort((a, b) => rank[a.n.bucket] - rank[b.n.bucket] || a.i - b.i).map(({ n }) => n);
}
