// Why the run is stopping early, carried as the reason of the AbortSignal every chunk watches.

export interface StopReason {
  kind: 'cancel' | 'fail-fast';
  /** The message nodes that never ran get. */
  message: string;
}

export function stopReasonOf(signal?: AbortSignal): StopReason | undefined {
  if (!signal?.aborted) return undefined;
  const r = signal.reason as Partial<StopReason> | undefined;
  if (r && (r.kind === 'cancel' || r.kind === 'fail-fast') && typeof r.message === 'string') return r as StopReason;
  return { kind: 'cancel', message: 'Not run: the run was cancelled.' };
}
