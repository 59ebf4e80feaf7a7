// Runs a pooled plan (plan.pooled): every worker starts at once (one after another under the stagger) and takes the
// run's ready nodes from one pool until none is left (worker_host.py WorkPool), so which worker runs a node is decided
// while the run goes, by whichever has a free thread first: no fixed split to get wrong, no idle tail. A worker's
// chunk is what it claimed. A node that no worker answered for (the run stopped first, or dbt could not run) is
// reported here, in the chunk the plan had predicted for it: skipped with the stop's reason, or an error.
import type { Chunk } from '../plan/chunks.js';
import { syntheticResult, type RunResult } from '../dbt/run-results.js';
import { nodeStatus, stopsFailFast } from '../dbt/statuses.js';
import { failFastStop, stopReasonOf, type StopReason } from './stop.js';
import {
  boardContext,
  launchSafely,
  StatusBoard,
  type ChunkReport,
  type LaunchContext,
  type Schedule,
  type ScheduleOptions,
} from './scheduler.js';

export function runPool(o: ScheduleOptions): Promise<Schedule> {
  return new PoolRun(o).run();
}

class PoolRun {
  private readonly board = new StatusBoard();
  private readonly own = new AbortController();
  private readonly signal: AbortSignal;
  private readonly reports: Map<number, ChunkReport>;

  constructor(private readonly o: ScheduleOptions) {
    this.signal = o.signal ? AbortSignal.any([o.signal, this.own.signal]) : this.own.signal;
    this.reports = new Map(o.plan.chunks.map((c) => [c.index, { chunk: c, results: [] }]));
  }

  async run(): Promise<Schedule> {
    const running: Promise<void>[] = [];
    const atOnce = Math.max(1, this.o.spares?.atOnce ?? this.o.plan.chunks.length);
    const later = this.o.plan.chunks.slice(atOnce);
    let over = false;
    // A spare starts once the workers taking nodes reach its rank (chunk index i is rank i − 1): then it is the next
    // to join, already started when the pool grows again.
    this.o.spares?.grown((workers) => {
      while (!over && !this.signal.aborted && later.length > 0 && later[0].index <= workers + 1)
        running.push(this.start(later.shift()!));
    });
    for (const c of this.o.plan.chunks.slice(0, atOnce)) {
      if (this.signal.aborted) break;
      if (running.length > 0 && (this.o.staggerMs ?? 0) > 0) await pause(this.o.staggerMs ?? 0, this.signal);
      if (this.signal.aborted) break;
      running.push(this.start(c));
    }
    // Workers started while others ran are awaited too.
    for (let awaited = 0; awaited < running.length;) {
      awaited = running.length;
      await Promise.all(running.slice(0, awaited));
    }
    over = true;
    this.answerForTheRest();
    const chunks = [...this.reports.values()]
      .sort((a, b) => a.chunk.index - b.chunk.index)
      // A spare the run never needed never started and ran nothing: not a chunk of this run.
      .filter((r) => r.startedAt !== undefined || r.results.length > 0)
      .map((r) => ({ ...r, chunk: { ...r.chunk, nodes: r.results.map((x) => x.unique_id) } }));
    return { chunks, stoppedBy: stopReasonOf(this.own.signal) };
  }

  private start(c: Chunk): Promise<void> {
    const rep = this.reports.get(c.index)!;
    rep.startedAt = Date.now();
    this.o.onChunkStart?.(c);
    const ctx: LaunchContext = {
      ...boardContext(this.board, this.signal, this.own),
      // A pooled worker's dbt skips what follows a failure itself, whichever worker failed.
      blocked: () => undefined,
      onNodeStatus: (uid, st) => {
        if (this.board.has(uid)) return;
        this.board.settle(uid, st);
        this.failed(uid, st);
      },
    };
    const launched = launchSafely(this.o.launch, c, ctx);
    return launched.then(
      (results) => this.finish(rep, results),
      (e: unknown) => {
        // Nothing is known of what it claimed: the run stops, and what no worker answered for says why.
        const why = `parallel-dbt could not run a worker: ${e instanceof Error ? e.message : String(e)}`;
        if (!this.signal.aborted) this.own.abort({ kind: 'fatal', message: `Not run: ${why}` } satisfies StopReason);
        this.finish(rep, []);
      },
    );
  }

  /** A worker ended: its results (the nodes it claimed) have the last word on their statuses. */
  private finish(rep: ChunkReport, results: RunResult[]): void {
    rep.results = results;
    rep.endedAt = Date.now();
    for (const r of results) {
      this.board.settle(r.unique_id, r.status);
      this.failed(r.unique_id, r.status);
    }
    this.o.onChunkEnd?.(rep);
  }

  /**
   * Every node of the run without a result: the status dbt announced for it when its worker's results were lost,
   * else skipped when the run stopped, else an error (no worker ran it).
   */
  private answerForTheRest(): void {
    const stop = stopReasonOf(this.signal);
    const answered = new Set([...this.reports.values()].flatMap((r) => r.results.map((x) => x.unique_id)));
    for (const rep of this.reports.values()) {
      const missing = rep.chunk.nodes.filter((u) => !answered.has(u));
      if (missing.length === 0) continue;
      const rest = missing.map((u): RunResult => {
        const announced = this.board.get(u);
        if (announced !== undefined)
          return {
            ...syntheticResult(u, 'error', "parallel-dbt lost its worker's results; dbt had announced this status."),
            status: nodeStatus(announced),
          };
        // A stall is a fault, not a choice: what it left unrun is an error, with the stall's message.
        return stop !== undefined
          ? syntheticResult(u, stop.kind === 'stall' ? 'error' : 'skipped', stop.message)
          : syntheticResult(
              u,
              'error',
              'parallel-dbt: no worker ran this node (every worker of the pool ended first).',
            );
      });
      for (const r of rest) this.board.settle(r.unique_id, r.status);
      rep.results = [...rep.results, ...rest];
    }
  }

  /** Under fail-fast, an error or a failure stops the run (running workers are interrupted). */
  private failed(uid: string, st: string): void {
    if (this.o.failFast && !this.signal.aborted && stopsFailFast(st)) this.own.abort(failFastStop({ uid, status: st }));
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
