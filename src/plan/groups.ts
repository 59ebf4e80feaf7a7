// Explicit groups (`groups: finance: tag:finance`) as chunks. Each selected node belongs to the first group whose
// selection holds it. Groups that depend on each other are ordered; groups that depend on each other both ways
// (a cycle) are merged into one chunk and reported. A test goes to the chunk that runs after all its parents.
import type { PlanGraph } from './graph.js';
import { criticalOrder, type Chunk, type Plan } from './chunks.js';
import { DisjointSets } from './union-find.js';
import { stableTopoSort } from './topo-sort.js';

export interface GroupMembers {
  name: string;
  members: Set<string>;
}

export interface GroupPlan extends Plan {
  /** Human-readable notes: merged cycles, nodes in several groups. */
  notes: string[];
}

export function planGroups(g: PlanGraph, groups: GroupMembers[], weight: (uid: string) => number): GroupPlan {
  const notes: string[] = [];
  const owner = new Map<string, number>();
  let shared = 0;
  for (const uid of g.nodes.keys()) {
    const hits = groups.map((gr, i) => (gr.members.has(uid) ? i : -1)).filter((i) => i >= 0);
    if (hits.length > 1) shared++;
    if (hits.length > 0) owner.set(uid, hits[0]);
  }
  if (shared > 0)
    notes.push(
      `${shared} node(s) matched several groups; each runs once, in the first group that selects it (tests: in the group that runs after all their parents).`,
    );

  // Disjoint sets over groups, for merging cycles: a merged group is known by its lowest index.
  const merged = new DisjointSets(groups.map((_, i) => i));
  const find = (i: number): number => merged.find(i);
  const isTest = (uid: string): boolean => {
    const t = g.nodes.get(uid)!.resourceType;
    return t === 'test' || t === 'unit_test';
  };

  const mergeCycles = (useTests: boolean): void => {
    for (;;) {
      const edges = chunkEdges(g, owner, find, (uid) => useTests || !isTest(uid));
      const scc = stronglyConnected([...new Set([...owner.values()].map(find))], edges);
      const cyc = scc.filter((c) => c.length > 1);
      if (cyc.length === 0) return;
      for (const c of cyc) {
        notes.push(
          `groups ${c.map((i) => `'${groups[i].name}'`).join(', ')} depend on each other in a cycle: they run as one chunk.`,
        );
        for (const i of c.slice(1)) merged.union(c[0], i);
      }
    }
  };
  mergeCycles(false);

  // Topological position of each (merged) group, from the non-test edges.
  const pos = (): Map<number, number> => {
    const roots = [...new Set([...owner.values()].map(find))].sort((a, b) => a - b);
    const edges = chunkEdges(g, owner, find, (uid) => !isTest(uid));
    const order = stableTopoSort(roots, (r) => edges.get(r) ?? []);
    return new Map(order.map((r, i) => [r, i]));
  };
  const p0 = pos();
  for (const uid of g.nodes.keys()) {
    if (!isTest(uid) || !owner.has(uid)) continue;
    let best = find(owner.get(uid)!);
    for (const par of g.nodes.get(uid)!.parents) {
      const o = owner.get(par);
      if (o !== undefined && (p0.get(find(o)) ?? 0) > (p0.get(best) ?? 0)) best = find(o);
    }
    owner.set(uid, best);
  }
  mergeCycles(true);

  // Unselected-by-any-group nodes do not run; nodes whose parents run in no group simply have no dependency.
  const { order, bottom } = criticalOrder(g, weight);
  const roots = [...new Set([...owner.values()].map(find))];
  const edges = chunkEdges(g, owner, find, () => true);
  const seq = stableTopoSort(
    roots.sort((a, b) => a - b),
    (r) => edges.get(r) ?? [],
  );
  const index = new Map(seq.map((r, i) => [r, i + 1]));
  const members = new Map<number, string[]>(seq.map((r) => [r, []]));
  for (const uid of order) if (owner.has(uid)) members.get(find(owner.get(uid)!))!.push(uid);
  const names = new Map<number, string[]>();
  groups.forEach((gr, i) => (names.get(find(i)) ?? names.set(find(i), []).get(find(i))!).push(gr.name));
  const ends = new Map<number, number>();
  const chunks: Chunk[] = seq.map((r) => {
    const nodes = members.get(r)!;
    const work = nodes.reduce((s, u) => s + weight(u), 0);
    const dependsOn = [...(edges.get(r) ?? [])].map((d) => index.get(d)!).sort((a, b) => a - b);
    const start = Math.max(0, ...dependsOn.map((d) => ends.get(d)!));
    ends.set(index.get(r)!, start + work);
    return { index: index.get(r)!, name: names.get(r)!.join('+'), nodes, dependsOn, work, predicted: work };
  });
  const totalWork = chunks.reduce((s, c) => s + c.work, 0);
  return {
    chunks,
    notes,
    makespan: Math.max(0, ...ends.values()),
    criticalPath: Math.max(0, ...bottom.values()),
    totalWork,
  };
}

/** For each chunk root: the chunk roots it depends on. */
function chunkEdges(
  g: PlanGraph,
  owner: Map<string, number>,
  find: (i: number) => number,
  use: (uid: string) => boolean,
): Map<number, Set<number>> {
  const deps = new Map<number, Set<number>>();
  for (const n of g.nodes.values()) {
    if (!owner.has(n.uid) || !use(n.uid)) continue;
    const to = find(owner.get(n.uid)!);
    for (const p of n.parents) {
      if (!owner.has(p) || !use(p)) continue;
      const from = find(owner.get(p)!);
      if (from !== to) (deps.get(to) ?? deps.set(to, new Set()).get(to)!).add(from);
    }
  }
  return deps;
}

function stronglyConnected(vertices: number[], deps: Map<number, Set<number>>): number[][] {
  let counter = 0;
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const on = new Set<number>();
  const out: number[][] = [];
  const visit = (v: number): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    on.add(v);
    for (const w of [...(deps.get(v) ?? [])].sort((a, b) => a - b)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp.sort((a, b) => a - b));
    }
  };
  for (const v of vertices) if (!index.has(v)) visit(v);
  return out;
}
