// Small typed builders for synthetic plan graphs and manifests, plus fast-check arbitraries for random DAGs.
import fc from 'fast-check';
import type { Manifest, ManifestNode } from '../../src/dbt/manifest.js';
import type { PlanGraph, PlanNode } from '../../src/plan/graph.js';
import type { Plan } from '../../src/plan/chunks.js';

/** `model.p.n007`, `test.p.n012`: zero-padded so that the string order is the index order. */
export function nodeId(i: number, type = 'model'): string {
  return `${type}.p.n${String(i).padStart(3, '0')}`;
}

export interface DagSpec {
  /** One entry per node, in index order: its type, its parents (lower indexes) and its weight. */
  nodes: { type: 'model' | 'test'; parents: number[]; weight: number }[];
}

export interface Dag {
  graph: PlanGraph;
  ids: string[];
  weights: Map<string, number>;
  weight: (uid: string) => number;
}

export function dagFrom(spec: DagSpec): Dag {
  const ids = spec.nodes.map((n, i) => nodeId(i, n.type));
  const nodes = new Map<string, PlanNode>();
  const weights = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    nodes.set(ids[i], {
      uid: ids[i],
      resourceType: n.type,
      parents: [...new Set(n.parents)].sort((a, b) => a - b).map((p) => ids[p]),
    });
    weights.set(ids[i], n.weight);
  });
  return { graph: { nodes }, ids, weights, weight: (uid) => weights.get(uid)! };
}

/** A plan graph from `[uid, parents, type?]` rows. */
export function graphOf(rows: [string, string[], string?][]): PlanGraph {
  return {
    nodes: new Map(
      rows.map(([uid, parents, type]) => [uid, { uid, resourceType: type ?? uid.split('.')[0], parents }]),
    ),
  };
}

/** The same graph with its Map filled in another order (and parent lists permuted). */
export function reordered(g: PlanGraph, perm: number[]): PlanGraph {
  const entries = [...g.nodes.values()];
  const nodes = new Map<string, PlanNode>();
  for (const i of perm) {
    const n = entries[i];
    const ps = [...n.parents];
    if (i % 2 === 1) ps.reverse();
    nodes.set(n.uid, { ...n, parents: ps });
  }
  return { nodes };
}

const weightArb = fc.integer({ min: 1, max: 500 }).map((c) => c / 100); // 0.01 .. 5

/**
 * Random DAGs of 1..maxNodes nodes: each node's parents are among lower indexes; about one node in four is a test
 * with 1–2 parents (when there is anything to test).
 */
export function dagArb(maxNodes = 120, minNodes = 1): fc.Arbitrary<DagSpec> {
  return fc
    .integer({ min: minNodes, max: maxNodes })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i))).map((nodes) => ({ nodes })));
}

function nodeArb(i: number): fc.Arbitrary<DagSpec['nodes'][number]> {
  if (i === 0) return weightArb.map((weight) => ({ type: 'model' as const, parents: [], weight }));
  const parent = fc.integer({ min: 0, max: i - 1 });
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant('model' as const),
        parents: fc.uniqueArray(parent, { maxLength: Math.min(4, i) }),
        weight: weightArb,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('test' as const),
        parents: fc.uniqueArray(parent, { minLength: 1, maxLength: Math.min(2, i) }),
        weight: weightArb,
      }),
    },
  );
}

/** Every ancestor of each node (through the graph's parents). */
export function ancestors(g: PlanGraph): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const of = (uid: string): Set<string> => {
    let s = memo.get(uid);
    if (s) return s;
    s = new Set<string>();
    for (const p of g.nodes.get(uid)?.parents ?? []) {
      s.add(p);
      for (const a of of(p)) s.add(a);
    }
    memo.set(uid, s);
    return s;
  };
  for (const uid of g.nodes.keys()) of(uid);
  return memo;
}

/** Longest weighted chain (node weights) in the graph. */
export function longestChain(g: PlanGraph, weight: (uid: string) => number): number {
  const memo = new Map<string, number>();
  const upTo = (uid: string): number => {
    const m = memo.get(uid);
    if (m !== undefined) return m;
    const v = weight(uid) + Math.max(0, ...g.nodes.get(uid)!.parents.map(upTo));
    memo.set(uid, v);
    return v;
  };
  return Math.max(0, ...[...g.nodes.keys()].map(upTo));
}

// ---- synthetic manifests ----

export function manifestNode(
  uid: string,
  o: { deps?: string[]; fqn?: string[]; resourceType?: string } = {},
): ManifestNode {
  const [type, pkg, ...rest] = uid.split('.');
  const name = rest.join('.');
  return {
    unique_id: uid,
    name,
    resource_type: o.resourceType ?? type,
    package_name: pkg,
    original_file_path: `models/${name}.sql`,
    fqn: o.fqn ?? [pkg, name],
    depends_on: { nodes: o.deps ?? [], macros: [] },
  };
}

/** A manifest from nodes; unit tests and sources go to their own sections, as in dbt's manifest. */
export function manifestOf(nodes: ManifestNode[]): Manifest {
  const m: Manifest = {
    metadata: { dbt_version: '1.11.0', project_name: 'p' },
    nodes: {},
    sources: {},
    unit_tests: {},
  };
  for (const n of nodes) {
    const section =
      n.resource_type === 'unit_test' ? m.unit_tests! : n.resource_type === 'source' ? m.sources! : m.nodes;
    section[n.unique_id] = n;
  }
  return m;
}

// ---- hand-made plans ----

/** A plan whose chunks hold the given nodes (in the given order); dependsOn follows the graph's parents. */
export function planOf(g: PlanGraph, chunks: string[][]): Plan {
  const chunkOf = new Map<string, number>();
  chunks.forEach((nodes, i) => nodes.forEach((u) => chunkOf.set(u, i + 1)));
  return {
    chunks: chunks.map((nodes, i) => {
      const deps = new Set<number>();
      for (const u of nodes)
        for (const p of g.nodes.get(u)!.parents)
          if (chunkOf.has(p) && chunkOf.get(p) !== i + 1) deps.add(chunkOf.get(p)!);
      return {
        index: i + 1,
        name: `chunk-${i + 1}`,
        nodes,
        dependsOn: [...deps].sort((a, b) => a - b),
        work: nodes.length,
        predicted: nodes.length,
      };
    }),
    makespan: 0,
    criticalPath: 0,
    totalWork: chunks.flat().length,
  };
}
