// The stable topological sort that numbers chunks: shared by the chunk planner (slots) and the group planner.

/**
 * Vertices ordered so that each comes after its dependencies, keeping the given order among the ready ones (so a
 * caller's preference, e.g. earliest start, survives). Dependencies outside `vertices` count as met; on a cycle the
 * first pending vertex is taken, so the sort always ends.
 */
export function stableTopoSort(vertices: number[], depsOf: (v: number) => Iterable<number>): number[] {
  const listed = new Set(vertices);
  const out: number[] = [];
  const done = new Set<number>();
  const pending = [...vertices];
  while (pending.length > 0) {
    const j = pending.findIndex((v) => [...depsOf(v)].every((d) => done.has(d) || !listed.has(d)));
    const v = pending.splice(j === -1 ? 0 : j, 1)[0];
    out.push(v);
    done.add(v);
  }
  return out;
}
