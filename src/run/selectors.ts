// Exact node selection for a chunk. dbt has no unique_id selector; a node's FQN joined by dots selects it, but
// as a prefix (core/dbt/graph/selector_methods.py is_selected_node), so any node whose FQN extends it is also
// matched: such nodes are excluded explicitly unless they belong to the same chunk.
import type { Manifest } from '../dbt/types.js';
import { manifestNodes } from '../plan/graph.js';

export interface Selection {
  select: string[];
  exclude: string[];
}

export class SelectorIndex {
  private readonly fqnOf = new Map<string, string>();
  private readonly sorted: { key: string; uid: string }[];

  constructor(m: Manifest) {
    for (const [uid, n] of manifestNodes(m)) {
      if (Array.isArray(n.fqn) && n.fqn.length > 0 && !uid.startsWith('source.')) this.fqnOf.set(uid, n.fqn.join('.'));
    }
    this.sorted = [...this.fqnOf].map(([uid, key]) => ({ key, uid })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  selectorOf(uid: string): string {
    const s = this.fqnOf.get(uid);
    if (s === undefined) throw new Error(`node ${uid} has no FQN in the manifest`);
    return s;
  }

  /** Nodes other than `uid` that its selector also matches. */
  overmatched(uid: string): string[] {
    const key = this.selectorOf(uid);
    const out: string[] = [];
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].key < key) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i].key.startsWith(key); i++) {
      const e = this.sorted[i];
      if (e.uid !== uid && (e.key === key || e.key.startsWith(`${key}.`))) out.push(e.uid);
    }
    return out;
  }

  selectionFor(uids: string[]): Selection {
    const inChunk = new Set(uids);
    const exclude = new Set<string>();
    for (const u of uids) for (const o of this.overmatched(u)) if (!inChunk.has(o)) exclude.add(this.selectorOf(o));
    return { select: uids.map((u) => this.selectorOf(u)), exclude: [...exclude].sort() };
  }
}
