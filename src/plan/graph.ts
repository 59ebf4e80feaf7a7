// Turns the manifest and dbt's selection into the dependency graph between selected nodes, as dbt orders them
// inside one invocation:
//  - edges through unselected nodes are kept (dbt's Graph.get_subset_graph keeps transitive ancestry);
//  - for `build`, a test blocks the executable nodes downstream of what it tests (dbt-core Linker.add_test_edges:
//    a test depending only on P blocks P's executable children; a test on several nodes blocks each executable node
//    that has all of them upstream);
//  - a unit test runs with its model: it is attached to the model's chunk and inherits the model's parents.
import { manifestNodes, type Manifest, type ManifestNode } from '../dbt/manifest.js';

export interface PlanNode {
  uid: string;
  resourceType: string;
  /** Selected nodes that must finish first (direct, after contraction of unselected nodes). */
  parents: string[];
  /** The node whose chunk this one must share (unit test → its model). */
  attachTo?: string;
  /** A model configured `on_error: continue` on a dbt that honours it (≥ 1.12): its failure skips nothing. */
  continuesOnError?: boolean;
}

export interface PlanGraph {
  nodes: Map<string, PlanNode>;
}

const TEST_TYPES = new Set(['test', 'unit_test']);

function depsOf(n: ManifestNode | undefined): string[] {
  return n?.depends_on?.nodes ?? [];
}

export function buildPlanGraph(m: Manifest, selected: Iterable<string>, command: string): PlanGraph {
  const all = manifestNodes(m);
  const sel = new Set(selected);

  // Full-graph parent lists, with build test edges added.
  const parents = new Map<string, string[]>();
  for (const [uid, n] of all) parents.set(uid, [...new Set(depsOf(n))]);
  if (command === 'build') addBuildTestEdges(m, parents);

  // Nearest selected ancestors of each node, looking through unselected ones (memoised for unselected nodes).
  const frontier = new Map<string, string[]>();
  const selectedAncestorsThrough = (uid: string, seen: Set<string>): string[] => {
    const memo = frontier.get(uid);
    if (memo) return memo;
    if (seen.has(uid)) return [];
    seen.add(uid);
    const out = new Set<string>();
    for (const p of parents.get(uid) ?? []) {
      if (sel.has(p)) out.add(p);
      else for (const a of selectedAncestorsThrough(p, seen)) out.add(a);
    }
    const list = [...out];
    frontier.set(uid, list);
    return list;
  };

  const nodes = new Map<string, PlanNode>();
  const onErrorContinues = honoursOnError(m.metadata.dbt_version);
  for (const uid of [...sel].sort()) {
    const n = all.get(uid);
    const ps = new Set<string>();
    for (const p of parents.get(uid) ?? []) {
      if (p === uid) continue;
      if (sel.has(p)) ps.add(p);
      else for (const a of selectedAncestorsThrough(p, new Set([uid]))) if (a !== uid) ps.add(a);
    }
    const node: PlanNode = { uid, resourceType: n?.resource_type ?? uid.split('.')[0], parents: [...ps].sort() };
    if (onErrorContinues && n?.resource_type === 'model' && n.config?.on_error === 'continue')
      node.continuesOnError = true;
    nodes.set(uid, node);
  }
  // Unit tests ride with their model: same chunk, and the model's parents.
  for (const node of nodes.values()) {
    if (node.resourceType !== 'unit_test') continue;
    const model = depsOf(all.get(node.uid)).find((d) => nodes.has(d) && !TEST_TYPES.has(nodes.get(d)!.resourceType));
    if (model === undefined) continue;
    node.attachTo = model;
    node.parents = nodes.get(model)!.parents.filter((p) => p !== node.uid);
  }
  return { nodes };
}

/** dbt-core 1.12 added the model config `on_error: continue`; older versions parse it and ignore it. */
function honoursOnError(version: string | undefined): boolean {
  const v = /^(\d+)\.(\d+)/.exec(version ?? '');
  return v !== null && (Number(v[1]) > 1 || Number(v[2]) >= 12);
}

/** dbt-core's build-only edges from tests to the executable nodes they block (see the file comment). */
function addBuildTestEdges(m: Manifest, parents: Map<string, string[]>): void {
  const children = new Map<string, string[]>();
  for (const [uid, ps] of parents) for (const p of ps) (children.get(p) ?? children.set(p, []).get(p)!).push(uid);
  const executable = (uid: string): boolean => uid in m.nodes && m.nodes[uid].resource_type !== 'test';
  const descendantsMemo = new Map<string, Set<string>>();
  const descendants = (uid: string): Set<string> => {
    let d = descendantsMemo.get(uid);
    if (d) return d;
    d = new Set<string>();
    const stack = [...(children.get(uid) ?? [])];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (d.has(x)) continue;
      d.add(x);
      stack.push(...(children.get(x) ?? []));
    }
    descendantsMemo.set(uid, d);
    return d;
  };
  for (const [uid, n] of Object.entries(m.nodes)) {
    if (n.resource_type !== 'test') continue;
    const deps = [...new Set(depsOf(n))];
    if (deps.length === 1) {
      for (const c of children.get(deps[0]) ?? []) if (executable(c)) parents.get(c)!.push(uid);
    } else if (deps.length > 1) {
      // The executable nodes downstream of every dep; edges to the first ones of them are enough (the rest
      // follow transitively), which keeps the edge count small on large projects.
      const sets = deps.map(descendants).sort((a, b) => a.size - b.size);
      const common = new Set([...sets[0]].filter((c) => sets.every((x) => x.has(c))));
      for (const c of common) {
        if (!executable(c)) continue;
        if ((parents.get(c) ?? []).some((p) => common.has(p) && executable(p))) continue;
        parents.get(c)!.push(uid);
      }
    }
  }
}
