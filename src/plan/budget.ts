// Fits processes × threads under the warehouse's connection budget.
// dbt-postgres holds up to threads + 1 connections per process (one per worker thread, plus the main thread's
// connection used for hooks, schema creation and the relation cache).

export interface Budget {
  parallel: number;
  threads: number;
  /** Connections the chosen numbers can hold at most. */
  peak: number;
  /** What was changed and why; empty when the inputs fit as given. */
  note?: string;
}

export const CONNECTIONS_PER_PROCESS_BEYOND_THREADS = 1;

export function fitBudget(o: { parallel: number; threads?: number; maxConnections?: number; defaultThreads: number }): Budget {
  const extra = CONNECTIONS_PER_PROCESS_BEYOND_THREADS;
  let parallel = o.parallel;
  let threads = o.threads ?? o.defaultThreads;
  const peak = (): number => parallel * (threads + extra);
  if (o.maxConnections === undefined || peak() <= o.maxConnections) return { parallel, threads, peak: peak() };
  const asked = `parallel ${parallel} × (threads ${threads} + ${extra}) = ${peak()}`;
  const b = o.maxConnections;
  // Keep the asked parallelism when each process can still have a thread; otherwise fewer processes.
  if (Math.floor(b / parallel) - extra >= 1) {
    threads = Math.min(threads, Math.floor(b / parallel) - extra);
  } else {
    parallel = Math.max(1, Math.floor(b / (1 + extra)));
    threads = Math.max(1, Math.min(threads, Math.floor(b / parallel) - extra));
  }
  return { parallel, threads, peak: peak(), note: `${asked} connections exceeds max-connections ${b}: using parallel ${parallel} × (threads ${threads} + ${extra}) = ${peak()}.` };
}

/**
 * The process/thread shapes worth comparing: with a connection budget and no fixed thread count, k processes of
 * ⌊budget / k⌋ − 1 threads for every k up to `parallel` (one process with many threads can beat several narrow ones
 * when the DAG is deep); otherwise just the fitted shape.
 */
export function candidateShapes(o: { parallel: number; threads?: number; maxConnections?: number; defaultThreads: number }): Budget[] {
  const fitted = fitBudget(o);
  if (o.maxConnections === undefined || o.threads !== undefined) return [fitted];
  const out: Budget[] = [];
  for (let k = 1; k <= o.parallel; k++) {
    const t = Math.min(64, Math.floor(o.maxConnections / k) - CONNECTIONS_PER_PROCESS_BEYOND_THREADS);
    if (t >= 1) out.push({ parallel: k, threads: t, peak: k * (t + CONNECTIONS_PER_PROCESS_BEYOND_THREADS) });
  }
  return out.length > 0 ? out : [fitted];
}
