// Why the run is stopping early, carried as the reason of the AbortSignal every chunk watches.

export interface StopReason {
  /** cancel: the user's; fail-fast: the run's; stall: one chunk's, whose dbt waited for a status that never came. */
  kind: 'cancel' | 'fail-fast' | 'stall';
  /** The message nodes that never ran get. */
  message: string;
}

export function stopReasonOf(signal?: AbortSignal): StopReason | undefined {
  if (!signal?.aborted) return undefined;
  const r = signal.reason as Partial<StopReason> | undefined;
  if (r && (r.kind === 'cancel' || r.kind === 'fail-fast' || r.kind === 'stall') && typeof r.message === 'string') return r as StopReason;
  return { kind: 'cancel', message: 'Not run: the run was cancelled.' };
}
