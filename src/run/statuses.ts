// Which node statuses count as what. dbt fails a run on error, fail, skipped, runtime error and partial success
// (dbt-core task/runnable.py interpret_results); `warn` does not stop downstream nodes.

const BLOCKING = new Set(['error', 'fail', 'skipped', 'runtime error', 'partial success']);

/** A node with this status makes dbt skip its downstream nodes. */
export function blocksDownstream(status: string): boolean {
  return BLOCKING.has(status.toLowerCase());
}

export type Bucket = 'passed' | 'failed' | 'warned' | 'errored' | 'skipped';

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
