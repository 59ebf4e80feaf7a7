// The planner for gated workers: every chunk is one process that starts at once and runs for the whole run, and a
// node whose parents are in another chunk waits for them inside its own dbt invocation. Chunks have no order, so
// a node can go wherever it finishes soonest: list scheduling on a model of each process. Pure and deterministic.
import { criticalOrder, nodeEnd, TIE_SECONDS, type Chunk, type Plan } from './chunks.js';
import type { PlanGraph } from './graph.js';

export interface WorkerOptions {
  /** Processes (chunks), all running at once. */
  workers: number;
  /** dbt threads per process. */
  threads: number;
  /** Seconds from a process's start to its first node. */
  fixedCost: number;
  /** dbt's serial CPU seconds per node inside one process. */
  perNodeCost: number;
}

interface Worker {
  nodes: string[];
  work: number;
  end: number;
}

/**
 * Nodes in critical-path order, each to the process where it is predicted to finish first: after its parents
 * (wherever they run), after the process's threads have room for it (work / threads), and after the process's
 * serial per-node CPU has reached it (nodes × per-node cost). Ties keep a node with its parents, then balance work.
 */
export function planWorkers(g: PlanGraph, weight: (uid: string) => number, o: WorkerOptions): Plan {
  const { order, bottom } = criticalOrder(g, weight);
  const totalWork = order.reduce((s, u) => s + weight(u), 0);
  const criticalPath = Math.max(0, ...bottom.values());
  const k = Math.max(1, Math.min(o.workers, order.length));
  const workers: Worker[] = Array.from({ length: k }, () => ({ nodes: [], work: 0, end: 0 }));
  const where = new Map<string, number>();
  const finish = new Map<string, number>();

  for (const u of order) {
    const node = g.nodes.get(u)!;
    const w = weight(u);
    let ready = 0;
    for (const p of node.parents) ready = Math.max(ready, finish.get(p) ?? 0);
    const forced = node.attachTo !== undefined ? where.get(node.attachTo) : undefined;
    let best = -1;
    let bestEnd = Infinity;
    let bestLocal = -1;
    for (let i = 0; i < k; i++) {
      if (forced !== undefined && i !== forced) continue;
      const end = nodeEnd(o, workers[i], w, ready);
      const local = node.parents.filter((p) => where.get(p) === i).length;
      const better =
        end < bestEnd - TIE_SECONDS ||
        (Math.abs(end - bestEnd) <= TIE_SECONDS &&
          (local > bestLocal || (local === bestLocal && workers[i].work < workers[best].work - TIE_SECONDS)));
      if (best === -1 || better) {
        best = i;
        bestEnd = end;
        bestLocal = local;
      }
    }
    const wk = workers[best];
    wk.nodes.push(u);
    wk.work += w;
    wk.end = Math.max(wk.end, bestEnd);
    where.set(u, best);
    finish.set(u, bestEnd);
  }

  const chunks: Chunk[] = workers
    .filter((wk) => wk.nodes.length > 0)
    .map((wk, i) => ({
      index: i + 1,
      name: `chunk-${i + 1}`,
      nodes: wk.nodes,
      dependsOn: [],
      work: wk.work,
      predicted: wk.end,
      predictedStart: 0,
    }));
  const makespan = Math.max(0, ...chunks.map((c) => c.predicted));
  return { chunks, makespan, criticalPath, totalWork, nodeGates: chunks.length > 1 };
}
