// Splits the selection over matrix jobs. Matrix jobs run at the same time and cannot wait for each other, so for
// commands that build, every connected part of the DAG stays in one shard; `test` nodes do not depend on each other
// and are spread freely. Parts are packed heaviest first onto the lightest shard (LPT), ties by unique_id.
import type { PlanGraph } from './graph.js';
import { criticalOrder } from './chunks.js';
import { DisjointSets } from './union-find.js';

export interface ShardPlan {
  shards: { shard: string; nodes: string[]; work: number }[];
  notes: string[];
}

/** Say the shards are unbalanced when the heaviest holds this many times the mean shard's work. */
const IMBALANCE_NOTE_RATIO = 1.5;

export function planShards(
  g: PlanGraph,
  weight: (uid: string) => number,
  maxShards: number,
  command: string,
): ShardPlan {
  const notes: string[] = [];
  const parts = command === 'test' ? [...g.nodes.keys()].map((u) => [u]) : connectedParts(g);
  const sized = parts
    .map((nodes) => ({ nodes, work: nodes.reduce((s, u) => s + weight(u), 0), key: [...nodes].sort()[0] }))
    .sort((a, b) => b.work - a.work || (a.key < b.key ? -1 : 1));
  const k = Math.max(1, Math.min(maxShards, sized.length));
  if (sized.length < maxShards)
    notes.push(
      `The selection has ${sized.length} independent part(s) of the DAG: it is spread over ${k} shard(s), not ${maxShards}.`,
    );
  const bins = Array.from({ length: k }, () => ({ nodes: [] as string[], work: 0 }));
  for (const p of sized) {
    let best = 0;
    for (let i = 1; i < k; i++) if (bins[i].work < bins[best].work) best = i;
    bins[best].nodes.push(...p.nodes);
    bins[best].work += p.work;
  }
  const { order } = criticalOrder(g, weight);
  const pos = new Map(order.map((u, i) => [u, i]));
  const heaviest = Math.max(...bins.map((b) => b.work));
  const total = bins.reduce((s, b) => s + b.work, 0);
  if (k > 1 && heaviest > IMBALANCE_NOTE_RATIO * (total / k))
    notes.push(
      `The largest connected part of the DAG holds ${((100 * (sized[0]?.work ?? 0)) / Math.max(total, 1e-9)).toFixed(0)}% of the work: shards cannot be balanced better than that.`,
    );
  return {
    shards: bins.map((b, i) => ({
      shard: String(i + 1),
      nodes: b.nodes.sort((x, y) => pos.get(x)! - pos.get(y)!),
      work: b.work,
    })),
    notes,
  };
}

/** Weakly connected components of the selected graph. */
function connectedParts(g: PlanGraph): string[][] {
  const parts = new DisjointSets(g.nodes.keys());
  for (const n of g.nodes.values()) {
    for (const p of [...n.parents, ...(n.attachTo ? [n.attachTo] : [])]) if (parts.has(p)) parts.union(n.uid, p);
  }
  const groups = new Map<string, string[]>();
  for (const u of [...g.nodes.keys()].sort()) {
    const r = parts.find(u);
    (groups.get(r) ?? groups.set(r, []).get(r)!).push(u);
  }
  return [...groups.values()];
}
