// Exact node selection for a chunk. dbt has no unique_id selector. A node's FQN joined by dots selects it, but as
// a prefix, and also against each FQN without its package (core/dbt/graph/selector_methods.py is_selected_node,
// node_is_match "Match nodes across different packages"), so other nodes can be matched too. When that happens:
//  - a node that is alone in its own file is selected as `<fqn>,path:<file>` (an intersection: exactly it);
//  - otherwise the other nodes are excluded, unless excluding them would also drop a node of the chunk.
// Unit tests are selected as `unit_test:<package>.<name>,<fqn>` (the unit_test method alone matches by name).
import type { Manifest, ManifestNode } from '../dbt/types.js';
import { manifestNodes } from '../plan/graph.js';

export interface Selection {
  select: string[];
  exclude: string[];
}

interface Entry {
  key: string;
  uid: string;
}

function sortedEntries(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uid < b.uid ? -1 : 1));
}

export class SelectorIndex {
  private readonly nodes = new Map<string, ManifestNode>();
  private readonly fqnOf = new Map<string, string>();
  /** Every node under its FQN and its package-less FQN: what a selector can reach by prefix. */
  private readonly sorted: Entry[];
  private readonly rootPackage?: string;

  constructor(m: Manifest) {
    this.rootPackage = m.metadata.project_name;
    const entries: Entry[] = [];
    for (const [uid, n] of manifestNodes(m)) {
      if (!Array.isArray(n.fqn) || n.fqn.length === 0 || uid.startsWith('source.')) continue;
      const flat = n.fqn.flatMap((s) => s.split('.'));
      this.nodes.set(uid, n);
      this.fqnOf.set(uid, flat.join('.'));
      entries.push({ key: flat.join('.'), uid });
      if (flat.length > 1) entries.push({ key: flat.slice(1).join('.'), uid });
    }
    this.sorted = sortedEntries(entries);
  }

  /** The plain FQN selector of a node. */
  selectorOf(uid: string): string {
    const s = this.fqnOf.get(uid);
    if (s === undefined) throw new Error(`node ${uid} has no FQN in the manifest`);
    return s;
  }

  /** Nodes other than `uid` that its plain selector also matches (by prefix, with or without package). */
  overmatched(uid: string): string[] {
    return this.matches(this.selectorOf(uid)).filter((u) => u !== uid);
  }

  private matches(key: string): string[] {
    const out = new Set<string>();
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].key < key) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i].key.startsWith(key); i++) {
      const e = this.sorted[i];
      if (e.key === key || e.key.startsWith(`${key}.`)) out.add(e.uid);
    }
    return [...out].sort();
  }

  /** The file that holds this node and nothing else, relative to the project (for `path:`), if there is one. */
  private ownFile(uid: string): string | undefined {
    const n = this.nodes.get(uid);
    const f = n?.original_file_path;
    if (!n || !f || /\s/.test(f) || /\.ya?ml$/i.test(f)) return undefined;
    if (this.rootPackage !== undefined && n.package_name !== this.rootPackage) return undefined;
    if (n.resource_type === 'test' && n.test_metadata) return undefined; // generic tests live in YAML
    return ['model', 'seed', 'snapshot', 'test', 'analysis'].includes(n.resource_type) ? f : undefined;
  }

  /** The narrowest selector for one node. */
  exactSelectorOf(uid: string): string {
    const n = this.nodes.get(uid);
    const fqn = this.selectorOf(uid);
    if (n?.resource_type === 'unit_test') return `unit_test:${n.fqn[0]}.${n.name},${fqn}`;
    if (this.overmatched(uid).length === 0) return fqn;
    const file = this.ownFile(uid);
    return file !== undefined ? `${fqn},path:${file}` : fqn;
  }

  selectionFor(uids: string[]): Selection {
    const inChunk = new Set(uids);
    const select = uids.map((u) => this.exactSelectorOf(u));
    const exclude = new Set<string>();
    for (const [i, u] of uids.entries()) {
      if (select[i].includes(',')) continue; // an intersection matches only u
      for (const o of this.overmatched(u)) {
        if (inChunk.has(o)) continue;
        const ex = this.exactSelectorOf(o);
        const hits = ex.includes(',') ? [o] : this.matches(ex);
        // An exclude that would also drop a node of this chunk is worse than the stray match: keep the chunk whole.
        if (!hits.some((h) => inChunk.has(h))) exclude.add(ex);
      }
    }
    return { select, exclude: [...exclude].sort() };
  }
}
