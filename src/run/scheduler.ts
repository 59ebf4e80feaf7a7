// Runs the plan's chunks as concurrent processes. A chunk starts when a slot is free and every node it needs from
// other chunks has finished — known from those processes' live result events, not only from their exit — so a
// chunk never waits longer than its own parents require. A node whose selected ancestor failed, errored or was
// skipped is not run but reported skipped, whichever chunk the ancestor was in.
import type { Chunk, Plan } from '../plan/chunks.js';
import type { PlanGraph } from '../plan/graph.js';
import type { RunResult } from '../dbt/types.js';
import { syntheticResult } from '../dbt/results.js';
import { blocksDownstream } from './statuses.js';

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
  /** Report a node's final status as soon as dbt announces it. */
  onNodeStatus: (uid: string, status: string) => void;
}

export type Launch = (chunk: Chunk, ctx: LaunchContext) => Promise<RunResult[]>;

export interface ScheduleOptions {
  plan: Plan;
  graph: PlanGraph;
  parallel: number;
  launch: Launch;
  signal?: AbortSignal;
  onChunkStart?: (chunk: Chunk) => void;
  onChunkEnd?: (report: ChunkReport) => void;
}

export async function runSchedule(o: ScheduleOptions): Promise<ChunkReport[]> {
  const status = new Map<string, string>(); // final status of every node known so far
  const chunkOf = new Map<string, number>();
  for (const c of o.plan.chunks) for (const u of c.nodes) chunkOf.set(u, c.index);
  const reports = new Map<number, ChunkReport>(o.plan.chunks.map((c) => [c.index, { chunk: c, results: [] }]));
  // The nodes each chunk needs from other chunks.
  const needs = new Map<number, string[]>();
  for (const c of o.plan.chunks) {
    const ext = new Set<string>();
    for (const u of c.nodes) for (const p of o.graph.nodes.get(u)?.parents ?? []) if (chunkOf.get(p) !== c.index && chunkOf.has(p)) ext.add(p);
    needs.set(c.index, [...ext]);
  }
  const running = new Map<number, Promise<void>>();
  const pending = [...o.plan.chunks];
  let wake: () => void = () => {};

  const blocked: Blocked = (uid, local) => {
    for (const p of o.graph.nodes.get(uid)?.parents ?? []) {
      const st = local.get(p)?.status ?? status.get(p);
      if (st !== undefined && blocksDownstream(String(st))) {
        const where = chunkOf.get(p) !== undefined ? ` (chunk ${chunkOf.get(p)})` : '';
        return st === 'skipped' ? `Skipped: upstream ${p}${where} was skipped.` : `Skipped: upstream ${p}${where} ended with status '${st}'.`;
      }
    }
    return undefined;
  };

  const start = (c: Chunk): void => {
    const rep = reports.get(c.index)!;
    rep.startedAt = Date.now();
    o.onChunkStart?.(c);
    const onNodeStatus = (uid: string, st: string): void => {
      if (chunkOf.get(uid) !== c.index || status.has(uid)) return;
      status.set(uid, st);
      wake();
    };
    const p = (async () => {
      let results: RunResult[];
      try {
        results = await o.launch(c, { blocked, onNodeStatus });
      } catch (e) {
        const msg = `parallel-dbt could not run this chunk: ${e instanceof Error ? e.message : String(e)}`;
        results = c.nodes.map((u) => syntheticResult(u, 'error', msg));
      }
      rep.results = results;
      rep.endedAt = Date.now();
      for (const r of results) status.set(r.unique_id, String(r.status)); // the artifact has the last word
      for (const u of c.nodes) if (!status.has(u)) status.set(u, 'error');
      running.delete(c.index);
      o.onChunkEnd?.(rep);
    })();
    running.set(c.index, p);
  };

  while (pending.length > 0 || running.size > 0) {
    if (o.signal?.aborted) {
      // Cancelled: nothing new starts; what never started is reported skipped.
      for (const c of pending.splice(0)) reports.get(c.index)!.results = c.nodes.map((u) => syntheticResult(u, 'skipped', 'Not run: the run was cancelled.'));
    } else {
      for (let i = 0; i < pending.length && running.size < o.parallel; ) {
        const c = pending[i];
        if (needs.get(c.index)!.every((u) => status.has(u))) {
          pending.splice(i, 1);
          start(c);
        } else i++;
      }
    }
    if (running.size === 0) {
      if (pending.length > 0 && !o.signal?.aborted) throw new Error('internal: chunks wait on each other (the chunk graph has a cycle)');
      continue;
    }
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const waits: Promise<void>[] = [...running.values(), woken];
    if (o.signal && !o.signal.aborted) waits.push(new Promise((resolve) => o.signal!.addEventListener('abort', () => resolve(), { once: true })));
    await Promise.race(waits);
  }
  return [...reports.values()].sort((a, b) => a.chunk.index - b.chunk.index);
}
