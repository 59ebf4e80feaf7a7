// Why the run is stopping early, carried as the reason of the AbortSignal every chunk watches.

/** The node whose status stopped the run under fail-fast. */
export interface FailFastCause {
  uid: string;
  status: string;
}

/**
 * cancel: the user's; fail-fast: the run's, after a node's error or failure; fatal: the run's, when dbt could not run
 * at all; stall: one chunk's, whose dbt waited for a status that never came. `message` is what nodes that never ran get.
 */
export type StopReason =
  | { kind: 'cancel'; message: string }
  | { kind: 'fail-fast'; message: string; after: FailFastCause }
  | { kind: 'fatal'; message: string }
  | { kind: 'stall'; message: string };

const KINDS: ReadonlySet<string> = new Set<StopReason['kind']>(['cancel', 'fail-fast', 'fatal', 'stall']);

export function stopReasonOf(signal?: AbortSignal): StopReason | undefined {
  if (!signal?.aborted) return undefined;
  const r = signal.reason as Partial<StopReason> | undefined;
  if (r && typeof r.kind === 'string' && KINDS.has(r.kind) && typeof r.message === 'string') return r as StopReason;
  return { kind: 'cancel', message: 'Not run: the run was cancelled.' };
}

/** The run stopped itself (fail-fast, dbt could not run): what it interrupts counts as skipped, not errored. */
export function skipsInterrupted(reason: StopReason | undefined): boolean {
  return reason?.kind === 'fail-fast' || reason?.kind === 'fatal';
}

/** The run's stop after a node's error or failure under fail-fast (what never ran is skipped with its message). */
export function failFastStop(after: FailFastCause): StopReason {
  return { kind: 'fail-fast', after, message: `Skipped: ${failFastCause(after)}` };
}

/** `fail-fast after model.p.a ended with status 'error'.` */
export function failFastCause(c: FailFastCause): string {
  return `fail-fast after ${c.uid} ended with status '${c.status}'.`;
}
