// Runs the plan's chunks as concurrent processes. A chunk starts when a slot is free and every node it needs from
// other chunks has finished — known from those processes' live result events, not only from their exit — so a
// chunk never waits longer than its own parents require. A node whose selected ancestor failed, errored or was
// skipped is not run but reported skipped, whichever chunk the ancestor was in.
import type { Chunk, Plan } from '../plan/chunks.js';
import type { PlanGraph } from '../plan/graph.js';
import { syntheticResult, type RunResult } from '../dbt/run-results.js';
import { blocksDownstream, stopsFailFast } from '../dbt/statuses.js';
import { failFastStop, stopReasonOf, type StopReason } from './stop.js';

export interface ChunkReport {
  chunk: Chunk;
  results: RunResult[];
  startedAt?: number;
  endedAt?: number;
}

/** Why a node must not run (its skip message), or undefined when it may. */
export type Blocked = (uid: string, local: Map<string, RunResult>) => string | undefined;

export interface LaunchContext {
  blocked: Blocked;
  /** Aborted when the run stops early (cancellation or fail-fast); its reason is a StopReason. */
  signal: AbortSignal;
  /** Report a node's final status as soon as dbt announces it. */
  onNodeStatus: (uid: string, status: string) => void;
  /** Stop the whole run (nothing new starts, running chunks are interrupted) for this reason. */
  stop: (reason: StopReason) => void;
  /** The final status of a node of any chunk, when known. */
  statusOf: (uid: string) => string | undefined;
  /** Calls back with each node's final status as it becomes known (any chunk); returns the unsubscribe. */
  subscribe: (listener: (uid: string, status: string) => void) => () => void;
  /** Every final status known now. */
  known: () => [string, string][];
}

export type Launch = (chunk: Chunk, ctx: LaunchContext) => Promise<RunResult[]>;

/** Why a chunk whose needs are met does not start yet, as `admit` says it; `line` is told once to `onWait`. */
export type Hold =
  /** A schema it needs is still being created by another chunk (run/execute.ts SchemaBarrier). */
  | { kind: 'schema'; line: string }
  /** Memory use is above the limit: it waits for a running chunk to end. */
  | { kind: 'memory'; line: string };

/** What holds the next start back: the caller's `admit`, or the minimum time between two starts (stagger). */
type Wait = Hold | { kind: 'stagger'; ms: number };

/** What the schedule gives back: every chunk's report, and why it stopped the run itself, when it did. */
export interface Schedule {
  chunks: ChunkReport[];
  /** The run's own stop (fail-fast, or dbt could not run), not the caller's cancellation. */
  stoppedBy?: StopReason;
}

export interface ScheduleOptions {
  plan: Plan;
  graph: PlanGraph;
  parallel: number;
  launch: Launch;
  signal?: AbortSignal;
  /** After the first error or test failure, start nothing new and interrupt what runs. */
  failFast?: boolean;
  /** Minimum time between two process starts. */
  staggerMs?: number;
  /** Asked before starting a chunk (with how many run now); a Hold means "not now". Asked again every poll interval. */
  admit?: (chunk: Chunk, running: number) => Hold | undefined;
  onChunkStart?: (chunk: Chunk) => void;
  onChunkEnd?: (report: ChunkReport) => void;
  /** Told once each time `admit` holds a start back (not for stagger), with the hold. */
  onWait?: (hold: Hold) => void;
  /**
   * A pool whose workers join as it grows (run/pool.ts): the first `atOnce` workers start now, each later one when
   * the workers taking nodes have reached its rank (it is then the ready spare); `grown` registers the listener told
   * how many workers take nodes. A worker the run never needed never starts.
   */
  spares?: { atOnce: number; grown: (listener: (workers: number) => void) => void };
}

/** How often a held-back start asks `admit` again (memory, schema). */
const ADMIT_POLL_MS = 200;

export function runSchedule(o: ScheduleOptions): Promise<Schedule> {
  return new ScheduleRun(o).run();
}

/** One run of the plan: what is pending, what runs, and every node's status as it becomes known. */
class ScheduleRun {
  private readonly board = new StatusBoard();
  private readonly chunkOf = new Map<string, number>();
  private readonly reports: Map<number, ChunkReport>;
  private readonly needs: Map<number, string[]>;
  private readonly running = new Map<number, Promise<void>>();
  private readonly pending: Chunk[];
  /** Our own fail-fast stop; `signal` joins it with the caller's cancellation, for every chunk. */
  private readonly own = new AbortController();
  private readonly signal: AbortSignal;
  private readonly blocked: Blocked;
  private wake: () => void = () => {};
  private lastStart = -Infinity;
  /** The hold last told to onWait (told again only when it changes). */
  private waitingFor: string | undefined;

  constructor(private readonly o: ScheduleOptions) {
    for (const c of o.plan.chunks) for (const u of c.nodes) this.chunkOf.set(u, c.index);
    this.reports = new Map(o.plan.chunks.map((c) => [c.index, { chunk: c, results: [] }]));
    this.needs = externalNeeds(o.plan, o.graph, this.chunkOf);
    this.pending = [...o.plan.chunks];
    this.signal = o.signal ? AbortSignal.any([o.signal, this.own.signal]) : this.own.signal;
    this.blocked = blockedBy(o.graph, this.chunkOf, this.board);
  }

  async run(): Promise<Schedule> {
    // One abort listener for the whole run (removed at the end), not one per turn of the loop.
    let onAbort = (): void => {};
    const aborted = new Promise<void>((resolve) => (onAbort = () => resolve()));
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.loop(aborted);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
    const chunks = [...this.reports.values()].sort((a, b) => a.chunk.index - b.chunk.index);
    return { chunks, stoppedBy: stopReasonOf(this.own.signal) };
  }

  private async loop(aborted: Promise<void>): Promise<void> {
    while (this.pending.length > 0 || this.running.size > 0) {
      const stop = stopReasonOf(this.signal);
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (stop !== undefined) {
        // Stopping: nothing new starts; what never started is reported skipped, with the reason.
        for (const c of this.pending.splice(0))
          this.reports.get(c.index)!.results = c.nodes.map((u) => syntheticResult(u, 'skipped', stop.message));
      } else {
        timer = this.startReady();
      }
      if (this.running.size === 0 && timer === undefined) {
        if (this.pending.length > 0 && stopReasonOf(this.signal) === undefined)
          throw new Error('internal: chunks wait on each other (the chunk graph has a cycle)');
        continue;
      }
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([...this.running.values(), woken, ...(this.signal.aborted ? [] : [aborted])]);
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Starts every pending chunk whose needs are met, while slots are free; a held-back start returns its wake-up. */
  private startReady(): ReturnType<typeof setTimeout> | undefined {
    const o = this.o;
    for (let i = 0; i < this.pending.length && this.running.size < o.parallel;) {
      const c = this.pending[i];
      if (!this.needs.get(c.index)!.every((u) => this.board.has(u))) {
        i++;
        continue;
      }
      const wait = this.waitFor(c);
      if (wait !== undefined) {
        if (wait.kind !== 'stagger' && wait.line !== this.waitingFor) o.onWait?.(wait);
        this.waitingFor = wait.kind === 'stagger' ? undefined : wait.line;
        return setTimeout(() => this.wake(), wait.kind === 'stagger' ? wait.ms : ADMIT_POLL_MS);
      }
      this.waitingFor = undefined;
      this.pending.splice(i, 1);
      this.lastStart = Date.now();
      this.start(c);
    }
    return undefined;
  }

  /** What holds this chunk's start back now: the stagger since the last start, else the caller's admit. */
  private waitFor(c: Chunk): Wait | undefined {
    const since = Date.now() - this.lastStart;
    const stagger = this.o.staggerMs ?? 0;
    if (since < stagger) return { kind: 'stagger', ms: Math.max(1, stagger - since) };
    return this.o.admit?.(c, this.running.size);
  }

  private start(c: Chunk): void {
    const rep = this.reports.get(c.index)!;
    rep.startedAt = Date.now();
    this.o.onChunkStart?.(c);
    const onNodeStatus = (uid: string, st: string): void => {
      if (this.chunkOf.get(uid) !== c.index || this.board.has(uid)) return;
      this.board.settle(uid, st);
      this.failed(uid, st);
      this.wake();
    };
    const ctx: LaunchContext = {
      ...boardContext(this.board, this.signal, this.own),
      blocked: this.blocked,
      onNodeStatus,
    };
    const launched = launchSafely(this.o.launch, c, ctx);
    this.running.set(
      c.index,
      launched.then(
        (results) => this.finish(rep, results),
        (e: unknown) =>
          this.finish(
            rep,
            c.nodes.map((u) =>
              syntheticResult(
                u,
                'error',
                `parallel-dbt could not run this chunk: ${e instanceof Error ? e.message : String(e)}`,
              ),
            ),
          ),
      ),
    );
  }

  /** A chunk ended: its results have the last word on its nodes' statuses; a node it did not report errored. */
  private finish(rep: ChunkReport, results: RunResult[]): void {
    rep.results = results;
    rep.endedAt = Date.now();
    for (const r of results) {
      this.board.settle(r.unique_id, r.status);
      this.failed(r.unique_id, r.status);
    }
    for (const u of rep.chunk.nodes) if (!this.board.has(u)) this.board.settle(u, 'error');
    this.running.delete(rep.chunk.index);
    this.o.onChunkEnd?.(rep);
  }

  /** Under fail-fast, an error or a failure stops the run (nothing new starts; running chunks are interrupted). */
  private failed(uid: string, st: string): void {
    if (!this.o.failFast || this.signal.aborted || !stopsFailFast(st)) return;
    this.own.abort(failFastStop({ uid, status: st }));
  }
}

const SKIPPED = 'Skipped: ';

/** What every launch of a run is told of it: its signal and stop, and the status board (pool.ts uses it too). */
export function boardContext(
  board: StatusBoard,
  signal: AbortSignal,
  own: AbortController,
): Omit<LaunchContext, 'blocked' | 'onNodeStatus'> {
  return {
    signal,
    stop: (reason) => signal.aborted || own.abort(reason),
    statusOf: (uid) => board.get(uid),
    subscribe: (l) => board.subscribe(l),
    known: () => board.entries(),
  };
}

/** A launch whose synchronous throw becomes a rejection, like any other failure of it. */
export function launchSafely(launch: Launch, c: Chunk, ctx: LaunchContext): Promise<RunResult[]> {
  try {
    return launch(c, ctx);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The final status of every node known so far; each new one is told to the subscribers once. */
export class StatusBoard {
  private readonly status = new Map<string, string>();
  private readonly listeners = new Set<(uid: string, status: string) => void>();

  get(uid: string): string | undefined {
    return this.status.get(uid);
  }

  has(uid: string): boolean {
    return this.status.has(uid);
  }

  entries(): [string, string][] {
    return [...this.status];
  }

  settle(uid: string, st: string): void {
    const first = !this.status.has(uid);
    this.status.set(uid, st);
    if (first) for (const l of this.listeners) l(uid, st);
  }

  subscribe(l: (uid: string, status: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** The nodes each chunk needs from other chunks before it starts; none in a gated plan (its nodes wait inside dbt). */
function externalNeeds(plan: Plan, graph: PlanGraph, chunkOf: Map<string, number>): Map<number, string[]> {
  const needs = new Map<number, string[]>();
  for (const c of plan.chunks) {
    const ext = new Set<string>();
    if (!plan.nodeGates)
      for (const u of c.nodes)
        for (const p of graph.nodes.get(u)?.parents ?? []) if (chunkOf.get(p) !== c.index && chunkOf.has(p)) ext.add(p);
    needs.set(c.index, [...ext]);
  }
  return needs;
}

/** A node must not run when a parent (in its own chunk's results or any other's) blocks what follows it. */
function blockedBy(graph: PlanGraph, chunkOf: Map<string, number>, board: StatusBoard): Blocked {
  return (uid, local) => {
    for (const p of graph.nodes.get(uid)?.parents ?? []) {
      const st = local.get(p)?.status ?? board.get(p);
      if (st !== undefined && blocksDownstream(String(st), graph.nodes.get(p)?.continuesOnError)) {
        const where = chunkOf.get(p) !== undefined ? ` (chunk ${chunkOf.get(p)})` : '';
        return st === 'skipped'
          ? `${SKIPPED}upstream ${p}${where} was skipped.`
          : `${SKIPPED}upstream ${p}${where} ended with status '${st}'.`;
      }
    }
    return undefined;
  };
}
