// No run waits forever. In a gated run a worker's dbt holds nodes until the statuses of their parents in other workers
// arrive; if one never does (lost between processes, a worker that stopped listening), dbt would wait in its queue
// until GitHub's job limit. The watch sees a node that dbt should be running and is not — every parent has its final
// status, its worker has no node in progress and is past its start-up — and, after `stallMs`, first sends the
// parents' statuses again; if the node is still not started after as long again, it stops that chunk with a
// message that names what waited on what.
import type { PlanGraph } from '../plan/graph.js';

/** A node that was ready and not started, with its parents and their statuses. */
export interface StalledNode {
  uid: string;
  parents: { uid: string; status: string }[];
}

export type StallAction =
  | { kind: 'resend'; chunk: number; nodes: StalledNode[] }
  | { kind: 'stop'; chunk: number; nodes: StalledNode[]; seconds: number };

interface ChunkState {
  nodes: string[];
  /** Past its start-up (the worker said so): its queue runs what is ready. */
  running: boolean;
  inProgress: Set<string>;
  /** Since when each ready node has waited with nothing in progress (running), or the worker has been starting. */
  readySince: Map<string, number>;
  /** When each node's parents' statuses were sent again. */
  resentAt: Map<string, number>;
}

/** The key of a worker's start-up in ChunkState's maps. */
const STARTING = '';

export class StallWatch {
  private readonly chunks = new Map<number, ChunkState>();

  /**
   * @param startSettled whether the run's on-run-start has run: a worker still in its start-up then may be waiting
   *   for that news (it gets it again after stallMs; its start-up is never stopped, since populating a large cache
   *   takes its time)
   */
  constructor(
    private readonly graph: PlanGraph,
    readonly statusOf: (uid: string) => string | undefined,
    private readonly stallMs: number,
    private readonly startSettled: () => boolean = () => true,
  ) {}

  chunkStarted(index: number, nodes: string[]): void {
    this.chunks.set(index, {
      nodes,
      running: false,
      inProgress: new Set(),
      readySince: new Map(),
      resentAt: new Map(),
    });
  }

  /** The chunk's worker has passed its start-up (before_run): from now on its queue runs what is ready. */
  chunkRunning(index: number): void {
    const c = this.chunks.get(index);
    if (c !== undefined) {
      c.running = true;
      c.readySince.clear();
      c.resentAt.clear();
    }
  }

  nodeStarted(index: number, uid: string): void {
    this.chunks.get(index)?.inProgress.add(uid);
  }

  nodeEnded(index: number, uid: string): void {
    this.chunks.get(index)?.inProgress.delete(uid);
  }

  chunkEnded(index: number): void {
    this.chunks.delete(index);
  }

  /**
   * What to do now. A node ready `stallMs` with nothing in progress gets its parents' statuses sent again (once); a
   * node still not started `stallMs` after that stops its chunk. A worker still starting `stallMs` after on-run-start
   * ran is told so again (once), never stopped.
   */
  check(now: number): StallAction[] {
    const out: StallAction[] = [];
    for (const [index, c] of this.chunks) {
      if (!c.running) {
        if (!this.startSettled()) continue;
        const since = c.readySince.get(STARTING) ?? c.readySince.set(STARTING, now).get(STARTING)!;
        if (!c.resentAt.has(STARTING) && now - since >= this.stallMs) {
          c.resentAt.set(STARTING, now);
          out.push({ kind: 'resend', chunk: index, nodes: [] });
        }
        continue;
      }
      const ready = c.inProgress.size === 0 ? this.readyNodes(c.nodes) : [];
      const readyIds = new Set(ready.map((n) => n.uid));
      for (const uid of [...c.readySince.keys()]) {
        if (readyIds.has(uid)) continue;
        c.readySince.delete(uid);
        c.resentAt.delete(uid);
      }
      for (const n of ready) if (!c.readySince.has(n.uid)) c.readySince.set(n.uid, now);
      const overdue = ready.filter((n) => c.resentAt.has(n.uid) && now - c.resentAt.get(n.uid)! >= this.stallMs);
      if (overdue.length > 0) {
        out.push({
          kind: 'stop',
          chunk: index,
          nodes: overdue,
          seconds: Math.round((now - Math.min(...overdue.map((n) => c.readySince.get(n.uid)!))) / 1000),
        });
        this.chunks.delete(index);
        continue;
      }
      const due = ready.filter((n) => !c.resentAt.has(n.uid) && now - c.readySince.get(n.uid)! >= this.stallMs);
      if (due.length > 0) {
        for (const n of due) c.resentAt.set(n.uid, now);
        out.push({ kind: 'resend', chunk: index, nodes: due });
      }
    }
    return out;
  }

  /** Nodes without a final status whose parents all have one: dbt queues such a node at once. */
  private readyNodes(nodes: string[]): StalledNode[] {
    const out: StalledNode[] = [];
    for (const uid of nodes) {
      if (this.statusOf(uid) !== undefined) continue;
      const parents = this.graph.nodes.get(uid)?.parents ?? [];
      const statuses = parents.map((p) => ({ uid: p, status: this.statusOf(p) }));
      if (statuses.every((p) => p.status !== undefined)) out.push({ uid, parents: statuses as StalledNode['parents'] });
    }
    return out;
  }
}

/** One line for the log and the nodes' message: which nodes waited on what. */
export function stalledLine(nodes: StalledNode[], limit = 5): string {
  const shown = nodes
    .slice(0, limit)
    .map(
      (n) =>
        `${n.uid}${n.parents.length > 0 ? ` (its parents ${n.parents.map((p) => `${p.uid}: ${p.status}`).join(', ')})` : ''}`,
    );
  return `${shown.join('; ')}${nodes.length > limit ? `; and ${nodes.length - limit} more` : ''}`;
}
