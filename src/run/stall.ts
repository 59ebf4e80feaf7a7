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

export type StallAction = { kind: 'resend'; chunk: number; nodes: StalledNode[] } | { kind: 'stop'; chunk: number; nodes: StalledNode[]; seconds: number };

interface ChunkState {
  nodes: string[];
  /** Past its start-up (the worker said so): its queue is running. */
  running: boolean;
  inProgress: Set<string>;
  /** Since when a ready node has waited with nothing in progress. */
  idleSince?: number;
  resent: boolean;
}

export class StallWatch {
  private readonly chunks = new Map<number, ChunkState>();

  constructor(
    private readonly graph: PlanGraph,
    readonly statusOf: (uid: string) => string | undefined,
    private readonly stallMs: number,
  ) {}

  chunkStarted(index: number, nodes: string[]): void {
    this.chunks.set(index, { nodes, running: false, inProgress: new Set(), resent: false });
  }

  /** The chunk's worker has passed its start-up (before_run): from now on its queue runs what is ready. */
  chunkRunning(index: number): void {
    const c = this.chunks.get(index);
    if (c !== undefined) c.running = true;
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

  /** What to do now: for each chunk stalled `stallMs`, a resend first, then (as long again) a stop. */
  check(now: number): StallAction[] {
    const out: StallAction[] = [];
    for (const [index, c] of this.chunks) {
      const ready = c.running && c.inProgress.size === 0 ? this.readyNodes(c.nodes) : [];
      if (ready.length === 0) {
        c.idleSince = undefined;
        c.resent = false;
        continue;
      }
      c.idleSince ??= now;
      const idle = now - c.idleSince;
      if (!c.resent && idle >= this.stallMs) {
        c.resent = true;
        out.push({ kind: 'resend', chunk: index, nodes: ready });
      } else if (c.resent && idle >= 2 * this.stallMs) {
        out.push({ kind: 'stop', chunk: index, nodes: ready, seconds: Math.round(idle / 1000) });
        this.chunks.delete(index);
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
  const shown = nodes.slice(0, limit).map((n) => `${n.uid}${n.parents.length > 0 ? ` (its parents ${n.parents.map((p) => `${p.uid}: ${p.status}`).join(', ')})` : ''}`);
  return `${shown.join('; ')}${nodes.length > limit ? `; and ${nodes.length - limit} more` : ''}`;
}
