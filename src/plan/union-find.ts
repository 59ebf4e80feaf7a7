// Disjoint sets (union-find), shared by the shard planner (connected parts) and the group planner (merged cycles).

/**
 * Disjoint sets over numbers or strings. A set's representative is always its smallest member, so what callers
 * derive from representatives (chunk order, keys) does not depend on the order of the unions.
 */
export class DisjointSets<T extends number | string> {
  private readonly parent = new Map<T, T>();

  constructor(members: Iterable<T>) {
    for (const x of members) this.parent.set(x, x);
  }

  has(x: T): boolean {
    return this.parent.has(x);
  }

  /** The representative of x's set; the path walked is pointed at it directly (path compression). */
  find(x: T): T {
    let root = x;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    let y = x;
    while (this.parent.get(y) !== root) {
      const next = this.parent.get(y)!;
      this.parent.set(y, root);
      y = next;
    }
    return root;
  }

  /** Merges the sets of a and b; the smaller representative stays. */
  union(a: T, b: T): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }
}
