// The warehouse connection budget a shape of processes × threads holds.
// dbt-postgres holds up to threads + 1 connections per process (one per worker thread, plus the main thread's
// connection used for hooks, schema creation and the relation cache). Shapes are chosen in shape.ts.

export interface Budget {
  parallel: number;
  threads: number;
  /** Connections the chosen numbers can hold at most. */
  peak: number;
}

export const CONNECTIONS_PER_PROCESS_BEYOND_THREADS = 1;
