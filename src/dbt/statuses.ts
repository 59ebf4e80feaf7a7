// What a dbt node status means: the one place for it. dbt fails a run on error, fail, skipped, runtime error and
// partial success (dbt-core task/runnable.py interpret_results); `warn` does not stop downstream nodes.

/** Every final status a node can end with in dbt-core 1.8–1.x (run_results.json, result events). */
export const NODE_STATUSES = [
  'success',
  'error',
  'skipped',
  'pass',
  'fail',
  'warn',
  'runtime error',
  'partial success',
  'no-op',
  'reused',
] as const;
export type KnownStatus = (typeof NODE_STATUSES)[number];
/**
 * A status this action does not know, kept as dbt wrote it (a newer dbt may add one): it counts as passed (bucketOf).
 * Branded, so that no plain string becomes a status without passing through nodeStatus.
 */
export type UnknownStatus = string & { readonly unknownNodeStatus: true };
/** A node's status as run_results.json and the result events give it. */
export type NodeStatus = KnownStatus | UnknownStatus;

const FINAL = new Set<string>(NODE_STATUSES);

/** The status dbt wrote, as a NodeStatus: one of NODE_STATUSES, else an UnknownStatus (the text is kept as is). */
export function nodeStatus(text: string): NodeStatus {
  return FINAL.has(text) ? (text as KnownStatus) : (text as UnknownStatus);
}

/** One of dbt's final statuses (case-insensitive), lower-cased; undefined for anything else. */
export function knownStatus(text: string): KnownStatus | undefined {
  const st = text.toLowerCase();
  return FINAL.has(st) ? (st as KnownStatus) : undefined;
}
const BLOCKING = new Set(['error', 'fail', 'skipped', 'runtime error', 'partial success']);
/** What stops a run under --fail-fast (dbt's own rule: an error or a failure, not a partial success). */
const FAIL_FAST = new Set(['error', 'fail', 'runtime error']);

/** The report's five kinds of outcome. */
export type Bucket = 'passed' | 'failed' | 'warned' | 'errored' | 'skipped';

/**
 * A node with this status makes dbt skip its downstream nodes. A model configured `on_error: continue` (dbt ≥ 1.12,
 * task/runnable.py _handle_result) blocks nothing itself: only a skip (its own upstream failed) still does.
 */
export function blocksDownstream(status: string, continuesOnError = false): boolean {
  const st = status.toLowerCase();
  return continuesOnError ? st === 'skipped' : BLOCKING.has(st);
}

/** A node with this status stops the run under fail-fast. */
export function stopsFailFast(status: string): boolean {
  return FAIL_FAST.has(status.toLowerCase());
}

export function bucketOf(status: string): Bucket {
  switch (status.toLowerCase()) {
    case 'fail':
      return 'failed';
    case 'warn':
      return 'warned';
    case 'error':
    case 'runtime error':
    case 'partial success':
      return 'errored';
    case 'skipped':
      return 'skipped';
    default:
      return 'passed'; // success, pass, no-op, reused
  }
}

/** The statuses of one bucket (retry-on: error means every status that errored). */
export function statusesOf(bucket: Bucket): KnownStatus[] {
  return NODE_STATUSES.filter((s) => bucketOf(s) === bucket);
}

/** Errored or failed: the node's own problem (a skip is a consequence of one). */
export function isFailure(b: Bucket): boolean {
  return b === 'errored' || b === 'failed';
}

/** Errored, failed, or skipped because of one: what fails the step. */
export function isBlocking(b: Bucket): boolean {
  return isFailure(b) || b === 'skipped';
}
