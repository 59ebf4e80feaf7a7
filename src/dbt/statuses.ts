// What a dbt node status means: the one place for it. dbt fails a run on error, fail, skipped, runtime error and
// partial success (dbt-core task/runnable.py interpret_results); `warn` does not stop downstream nodes.

/** Every final status a node can end with in dbt-core 1.8–1.x (run_results.json, result events). */
export const NODE_STATUSES = ['success', 'error', 'skipped', 'pass', 'fail', 'warn', 'runtime error', 'partial success', 'no-op', 'reused'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

const FINAL = new Set<string>(NODE_STATUSES);
const BLOCKING = new Set(['error', 'fail', 'skipped', 'runtime error', 'partial success']);
/** What stops a run under --fail-fast (dbt's own rule: an error or a failure, not a partial success). */
const FAIL_FAST = new Set(['error', 'fail', 'runtime error']);

/** The report's five kinds of outcome. */
export type Bucket = 'passed' | 'failed' | 'warned' | 'errored' | 'skipped';

/** One of dbt's final statuses (case-insensitive). */
export function isFinalStatus(status: string): boolean {
  return FINAL.has(status.toLowerCase());
}

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
export function statusesOf(bucket: Bucket): NodeStatus[] {
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
