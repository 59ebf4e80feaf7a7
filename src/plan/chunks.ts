// The planner: selected nodes + dependencies + weights in, chunks out. Pure and deterministic.
//
// Nodes are taken in a topological order that favours the critical path (longest remaining chain first, ties by
// unique_id) and each goes to the chunk where the estimated makespan grows least. A chunk runs as one dbt process
// once every chunk it depends on has finished, so the chunk graph must stay acyclic: a placement that would close
// a cycle is never considered. The cost model of a chunk: it starts when its dependency chunks end, pays a fixed
// start-up cost, then takes max(work / threads, nodes × per-node overhead, longest chain inside it).
import type { PlanGraph } from './graph.js';
import { stableTopoSort } from './topo-sort.js';

export interface Chunk {
  /** 1-based, in the order chunks can start. */
  index: number;
  name: string;
  /** Unique ids in a topological order. */
  nodes: string[];
  /** Indexes of the chunks that must finish first. */
  dependsOn: number[];
  /** Estimated seconds of node work (sum of weights). */
  work: number;
  /** Estimated seconds from the chunk's start to its end. */
  predicted: number;
  /** Estimated start, seconds after the first chunk's start. */
  predictedStart?: number;
}

export interface PlanOptions {
  /** Exactly this many chunks (when the graph allows); otherwise the model decides, up to maxChunks. */
  chunks?: number;
  maxChunks: number;
  /** Processes that run at once (chunks beyond this wait for a free slot); default: as many as chunks. */
  slots?: number;
  threads: number;
  /** Seconds a dbt process costs before it runs its first node. */
  fixedCost: number;
  /** Serial seconds per node inside one process (dbt's own Python work). */
  perNodeCost: number;
}

export interface Plan {
  chunks: Chunk[];
  /**
   * All chunks run at once, one process each, and a node whose parents are in another chunk waits at its gate for
   * them inside its own dbt invocation (forked workers, worker_host.py Gate): chunks have no order between them.
   */
  nodeGates?: boolean;
  /**
   * With nodeGates: the chunks' workers take ready nodes from one pool while they run (worker_host.py WorkPool), so a
   * chunk's nodes are a prediction; the run decides which worker runs each node, and how many workers take nodes.
   */
  pooled?: PoolShape;
  /** Predicted seconds from the first chunk's start to the last chunk's end. */
  makespan: number;
  /** Longest weighted chain of dependent nodes. */
  criticalPath: number;
  totalWork: number;
}

/**
 * A pool's shape: the node slots its workers share (at most that many nodes run at once, whichever worker runs them;
 * 0: each worker runs up to its own threads) and how many workers take nodes from the start. The others join while
 * the run goes, when the active ones are measured CPU-bound with ready nodes waiting (worker_host.py WorkPool).
 */
export interface PoolShape {
  slots: number;
  active: number;
}

/** The pool of a plan whose workers join while it runs (fewer take nodes from the start than it has), if it is one. */
export function growingPool(p: Plan): PoolShape | undefined {
  return p.pooled !== undefined && p.pooled.slots > 0 && p.pooled.active < p.chunks.length ? p.pooled : undefined;
}

/** Topological order, longest remaining chain first, ties by unique id. Throws on a cycle. */
export function criticalOrder(
  g: PlanGraph,
  weight: (uid: string) => number,
): { order: string[]; bottom: Map<string, number> } {
  const children = new Map<string, string[]>();
  const indeg = new Map<string, number>();
  for (const n of g.nodes.values()) {
    // An attached node (a unit test) is ordered after the node it rides with, so that one is placed first.
    const before =
      n.attachTo !== undefined && g.nodes.has(n.attachTo) && !n.parents.includes(n.attachTo)
        ? [...n.parents, n.attachTo]
        : n.parents;
    indeg.set(n.uid, before.length);
    for (const p of before) (children.get(p) ?? children.set(p, []).get(p)!).push(n.uid);
  }
  // Bottom level (own weight + longest chain below), computed in reverse topological order.
  const topo: string[] = [];
  const deg = new Map(indeg);
  const queue = [...g.nodes.keys()].filter((u) => deg.get(u) === 0).sort();
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    topo.push(u);
    for (const c of children.get(u) ?? []) {
      deg.set(c, deg.get(c)! - 1);
      if (deg.get(c) === 0) queue.push(c);
    }
  }
  if (topo.length !== g.nodes.size) throw new Error('the selected nodes form a cycle');
  const bottom = new Map<string, number>();
  for (let i = topo.length - 1; i >= 0; i--) {
    const u = topo[i];
    let below = 0;
    for (const c of children.get(u) ?? []) below = Math.max(below, bottom.get(c)!);
    bottom.set(u, weight(u) + below);
  }
  // Kahn again with a priority heap: larger bottom level first, then unique id.
  const before = (a: string, b: string): boolean => {
    const d = bottom.get(a)! - bottom.get(b)!;
    return d !== 0 ? d > 0 : a < b;
  };
  const heap = new Heap<string>(before);
  const deg2 = new Map(indeg);
  for (const u of g.nodes.keys()) if (deg2.get(u) === 0) heap.push(u);
  const order: string[] = [];
  while (heap.size > 0) {
    const u = heap.pop()!;
    order.push(u);
    for (const c of children.get(u) ?? []) {
      deg2.set(c, deg2.get(c)! - 1);
      if (deg2.get(c) === 0) heap.push(c);
    }
  }
  return { order, bottom };
}

/** What one dbt process costs in the model (see the file comment). */
export interface ProcessCost {
  /** Seconds before the first node. */
  fixedCost: number;
  threads: number;
  /** Serial seconds per node (dbt's own Python work). */
  perNodeCost: number;
}

/**
 * When a node of weight w ends, in seconds from its process's start, placed after the process's nodes so far and
 * ready (its parents done) at `ready`: no sooner than the threads get through all the work, the serial per-node
 * work reaches it, or its own chain allows.
 */
export function nodeEnd(c: ProcessCost, placed: { work: number; nodes: string[] }, w: number, ready: number): number {
  return Math.max(
    c.fixedCost + (placed.work + w) / c.threads,
    c.fixedCost + (placed.nodes.length + 1) * c.perNodeCost,
    ready + w,
    c.fixedCost + w,
  );
}

interface Slot {
  nodes: string[];
  work: number;
  /** Estimated start (seconds from the run's start): when every cross-chunk parent has finished. */
  start: number;
  /** Latest node finish relative to the start. */
  span: number;
  deps: Set<number>;
}

/**
 * A chunk may start as soon as every node it needs from other chunks has finished (the scheduler follows the other
 * processes' result events), so the model works with node finish times: a node ends at
 * start + fixed cost + max(work placed so far / threads, nodes so far × per-node cost), and never before its
 * in-chunk parents end plus its own weight.
 */
export function planChunks(g: PlanGraph, weight: (uid: string) => number, o: PlanOptions): Plan {
  const { order, bottom } = criticalOrder(g, weight);
  const totalWork = order.reduce((s, u) => s + weight(u), 0);
  const criticalPath = Math.max(0, ...bottom.values());
  const k = Math.max(1, Math.min(o.chunks ?? o.maxChunks, Math.max(1, order.length)));
  // With a forced chunk count the start-up cost is paid anyway: balance the work itself.
  const forced = o.chunks !== undefined;
  const cost: ProcessCost = forced ? { fixedCost: 0, threads: 1, perNodeCost: 0 } : o;

  const slots: Slot[] = Array.from({ length: k }, () => ({
    nodes: [],
    work: 0,
    start: 0,
    span: 0,
    deps: new Set<number>(),
  }));
  const where = new Map<string, number>();
  const rel = new Map<string, number>(); // node finish relative to its chunk's start
  const finishAt = (u: string): number => slots[where.get(u)!].start + rel.get(u)!;
  // reach[a][b]: chunk b (transitively) depends on chunk a.
  const reach: boolean[][] = Array.from({ length: k }, () => new Array<boolean>(k).fill(false));
  let makespan = 0;
  const procs = Math.max(1, Math.min(o.slots ?? k, k));
  let busy = 0; // Σ spans of the chunks so far
  /**
   * A node's parents seen from slot i: the slot's start pushed past the parents in other slots, the latest finish
   * of those in slot i (relative to its start), whether there are any, and the other slots they are in.
   */
  const parentsFrom = (
    parents: string[],
    i: number,
  ): { start: number; inner: number; local: boolean; elsewhere: number[] } => {
    let start = slots[i].start;
    let inner = 0;
    let local = false;
    const elsewhere: number[] = [];
    for (const p of parents) {
      const pc = where.get(p)!;
      if (pc === i) {
        inner = Math.max(inner, rel.get(p)!);
        local = true;
      } else {
        start = Math.max(start, finishAt(p));
        elsewhere.push(pc);
      }
    }
    return { start, inner, local, elsewhere };
  };

  for (const u of order) {
    const node = g.nodes.get(u)!;
    const w = weight(u);
    const attached = node.attachTo !== undefined ? where.get(node.attachTo) : undefined;
    let best: Candidate | undefined;
    let emptyTried = false;
    for (let i = 0; i < k; i++) {
      if (attached !== undefined && i !== attached) continue;
      const s = slots[i];
      if (s.nodes.length === 0) {
        if (emptyTried) continue; // empty slots are interchangeable
        emptyTried = true;
      }
      const { start, inner, local, elsewhere } = parentsFrom(node.parents, i);
      if (elsewhere.some((pc) => reach[i][pc])) continue; // that parent's chunk already depends on i: a cycle
      const own = nodeEnd(cost, s, w, inner);
      const span = Math.max(s.span, own);
      const end = start + span;
      // A later start delays this chunk's nodes and every chunk that waits on them.
      const delay = start - s.start;
      let worst = end;
      // More chunks than slots: the processes' total busy time spread over the slots bounds the makespan too.
      if (procs < k) worst = Math.max(worst, (busy - s.span + span) / procs);
      if (delay > 0)
        for (let j = 0; j < k; j++) if (reach[i][j]) worst = Math.max(worst, slots[j].start + slots[j].span + delay);
      const cand: Candidate = { i, makespan: Math.max(makespan, worst), own: end, local, work: s.work };
      if (best === undefined || better(cand, best, forced)) best = cand;
    }
    if (best === undefined) throw new Error(`no acyclic placement for ${u}`); // unreachable: a fresh slot never closes a cycle
    const s = slots[best.i];
    const { start, inner, elsewhere } = parentsFrom(node.parents, best.i);
    for (const pc of elsewhere) {
      if (s.deps.has(pc)) continue;
      s.deps.add(pc);
      addReach(reach, pc, best.i);
    }
    const delay = start - s.start;
    if (delay > 0) for (let j = 0; j < k; j++) if (reach[best.i][j]) slots[j].start += delay;
    s.start = start;
    const own = nodeEnd(cost, s, w, inner);
    rel.set(u, own);
    s.span = Math.max(s.span, own);
    s.work += w;
    s.nodes.push(u);
    where.set(u, best.i);
    busy = slots.reduce((t, x) => t + (x.nodes.length > 0 ? x.span : 0), 0);
    makespan = Math.max(...slots.map((x) => (x.nodes.length > 0 ? x.start + x.span : 0)), busy / procs);
  }

  return finish(slots, g, where, rel, totalWork, criticalPath);
}

interface Candidate {
  i: number;
  makespan: number;
  own: number;
  local: boolean;
  work: number;
}

/** Predictions closer than this many seconds are a tie: sums of the same weights in another order differ by float noise. */
export const TIE_SECONDS = 1e-9;

function better(a: Candidate, b: Candidate, balance: boolean): boolean {
  if (Math.abs(a.makespan - b.makespan) > TIE_SECONDS) return a.makespan < b.makespan;
  if (Math.abs(a.own - b.own) > TIE_SECONDS) return a.own < b.own;
  if (balance && Math.abs(a.work - b.work) > TIE_SECONDS) return a.work < b.work;
  if (a.local !== b.local) return a.local;
  return a.i < b.i;
}

function addReach(reach: boolean[][], from: number, to: number): void {
  const k = reach.length;
  const ups = [from];
  for (let x = 0; x < k; x++) if (reach[x][from]) ups.push(x);
  const downs = [to];
  for (let y = 0; y < k; y++) if (reach[to][y]) downs.push(y);
  for (const x of ups) for (const y of downs) reach[x][y] = true;
}

/** Drops empty slots, numbers chunks so that dependencies come first, and predicts each chunk's span. */
function finish(
  slots: Slot[],
  g: PlanGraph,
  where: Map<string, number>,
  rel: Map<string, number>,
  totalWork: number,
  criticalPath: number,
): Plan {
  const used = slots
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.nodes.length > 0)
    .sort((a, b) => a.s.start - b.s.start || b.s.work - a.s.work || a.i - b.i)
    .map((x) => x.i);
  const ordered = stableTopoSort(used, (i) => slots[i].deps);
  const newIndex = new Map<number, number>();
  ordered.forEach((old, j) => newIndex.set(old, j + 1));
  // Exact recomputation of starts with the final placement (the greedy pass only approximated later shifts).
  const start = new Map<number, number>();
  const fin = (u: string): number => start.get(where.get(u)!)! + rel.get(u)!;
  for (const old of ordered) {
    let st = 0;
    for (const u of slots[old].nodes)
      for (const p of g.nodes.get(u)!.parents) if (where.get(p) !== old) st = Math.max(st, fin(p));
    start.set(old, st);
  }
  const chunks: Chunk[] = ordered.map((old) => {
    const s = slots[old];
    const dependsOn = [...s.deps].map((d) => newIndex.get(d)!).sort((a, b) => a - b);
    return {
      index: newIndex.get(old)!,
      name: `chunk-${newIndex.get(old)!}`,
      nodes: s.nodes,
      dependsOn,
      work: s.work,
      predicted: s.span,
      predictedStart: start.get(old)!,
    };
  });
  const makespan = Math.max(0, ...chunks.map((c) => (c.predictedStart ?? 0) + c.predicted));
  return { chunks, makespan, criticalPath, totalWork };
}

/** A small binary heap; `before(a, b)` is true when a comes out first. */
class Heap<T> {
  private items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
