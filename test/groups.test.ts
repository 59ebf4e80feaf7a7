// Explicit groups as chunks (src/plan/groups.ts): ordering, cycle merging, first-group-wins, tests after parents.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planGroups, type GroupMembers, type GroupPlan } from '../src/plan/groups.js';
import type { PlanGraph } from '../src/plan/graph.js';
import { dagArb, dagFrom, graphOf } from './support/graphs.js';

const unit = (): number => 1;
const group = (name: string, members: string[]): GroupMembers => ({ name, members: new Set(members) });
const chunkNamed = (plan: GroupPlan, name: string) => plan.chunks.find((c) => c.name === name)!;
const chunkOf = (plan: GroupPlan, uid: string): string => plan.chunks.find((c) => c.nodes.includes(uid))!.name;

/** What every group plan promises for the nodes the groups select. */
function expectValidGroupPlan(g: PlanGraph, groups: GroupMembers[], plan: GroupPlan): void {
  const union = new Set(groups.flatMap((gr) => [...gr.members]).filter((u) => g.nodes.has(u)));
  const placed = plan.chunks.flatMap((c) => c.nodes);
  expect([...placed].sort()).toEqual([...union].sort()); // exactly once each, nothing else
  const index = new Map<string, number>();
  plan.chunks.forEach((c, i) => {
    expect(c.index).toBe(i + 1);
    for (const u of c.nodes) index.set(u, c.index);
    for (const d of c.dependsOn) expect(d).toBeLessThan(c.index);
  });
  for (const c of plan.chunks) {
    const seen = new Set<string>();
    for (const u of c.nodes) {
      for (const p of g.nodes.get(u)!.parents) {
        if (!index.has(p)) continue; // runs in no group
        if (index.get(p) === c.index) expect(seen.has(p)).toBe(true);
        else expect(c.dependsOn).toContain(index.get(p));
      }
      seen.add(u);
    }
  }
}

describe('planGroups', () => {
  // a1 → a2 → b1 → b2, plus a1 → b2: every edge goes from group a to group b.
  const chain = graphOf([
    ['model.p.a1', []],
    ['model.p.a2', ['model.p.a1']],
    ['model.p.b1', ['model.p.a2']],
    ['model.p.b2', ['model.p.b1', 'model.p.a1']],
  ]);

  test('edges one way: the depended-on group comes first, no notes', () => {
    for (const groups of [
      [group('a', ['model.p.a1', 'model.p.a2']), group('b', ['model.p.b1', 'model.p.b2'])],
      [group('b', ['model.p.b1', 'model.p.b2']), group('a', ['model.p.a1', 'model.p.a2'])],
    ]) {
      const plan = planGroups(chain, groups, unit);
      expect(plan.notes).toEqual([]);
      expect(plan.chunks.map((c) => [c.index, c.name, c.nodes, c.dependsOn])).toEqual([
        [1, 'a', ['model.p.a1', 'model.p.a2'], []],
        [2, 'b', ['model.p.b1', 'model.p.b2'], [1]],
      ]);
      expect(plan.makespan).toBe(4);
      expectValidGroupPlan(chain, groups, plan);
    }
  });

  test('groups depending on each other are merged into one chunk, with a note about the cycle', () => {
    // a1 → b1 → a2: a needs b and b needs a.
    const g = graphOf([
      ['model.p.a1', []],
      ['model.p.b1', ['model.p.a1']],
      ['model.p.a2', ['model.p.b1']],
      ['model.p.c1', ['model.p.a2']],
    ]);
    const groups = [group('a', ['model.p.a1', 'model.p.a2']), group('b', ['model.p.b1']), group('c', ['model.p.c1'])];
    const plan = planGroups(g, groups, unit);
    expect(plan.chunks.map((c) => c.name)).toEqual(['a+b', 'c']);
    expect(chunkNamed(plan, 'a+b').nodes).toEqual(['model.p.a1', 'model.p.b1', 'model.p.a2']);
    expect(chunkNamed(plan, 'c').dependsOn).toEqual([1]);
    expect(plan.notes).toHaveLength(1);
    expect(plan.notes[0]).toMatch(/cycle/);
    expect(plan.notes[0]).toContain("'a'");
    expect(plan.notes[0]).toContain("'b'");
    expect(plan.notes[0]).not.toContain("'c'");
    expectValidGroupPlan(g, groups, plan);
  });

  test('a node selected by two groups runs once, in the first one', () => {
    const g = graphOf([
      ['model.p.x', []],
      ['model.p.y', []],
      ['model.p.z', []],
    ]);
    for (const [groups, owner] of [
      [[group('first', ['model.p.x', 'model.p.y']), group('second', ['model.p.y', 'model.p.z'])], 'first'],
      [[group('second', ['model.p.y', 'model.p.z']), group('first', ['model.p.x', 'model.p.y'])], 'second'],
    ] as const) {
      const plan = planGroups(g, [...groups], unit);
      expect(plan.chunks.flatMap((c) => c.nodes).filter((u) => u === 'model.p.y')).toHaveLength(1);
      expect(chunkOf(plan, 'model.p.y')).toBe(owner);
      expect(plan.notes).toHaveLength(1);
      expect(plan.notes[0]).toMatch(/^1 node\(s\) matched several groups/);
    }
  });

  test('a test on nodes of two groups runs in the later group, whichever group selected it', () => {
    // a1 → b1; the relationships-like test t checks a1 and b1.
    const g = graphOf([
      ['model.p.a1', []],
      ['model.p.b1', ['model.p.a1']],
      ['test.p.t', ['model.p.a1', 'model.p.b1']],
    ]);
    for (const groups of [
      [group('a', ['model.p.a1', 'test.p.t']), group('b', ['model.p.b1'])],
      [group('a', ['model.p.a1', 'test.p.t']), group('b', ['model.p.b1', 'test.p.t'])],
      [group('b', ['model.p.b1', 'test.p.t']), group('a', ['model.p.a1', 'test.p.t'])],
    ]) {
      const plan = planGroups(g, groups, unit);
      expect(chunkOf(plan, 'test.p.t')).toBe('b');
      expect(plan.chunks.map((c) => c.name)).toEqual(['a', 'b']);
      expect(plan.notes.some((n) => /cycle/.test(n))).toBe(false);
      expectValidGroupPlan(g, groups, plan);
    }
  });

  // Regression (found by this test, fixed): the groups' order used to move tests is computed from ALL edges
  // (chunkEdges(..., () => true)), not from the non-test edges as its comment says. Here the test t (selected only
  // by group a) already makes a depend on b, so a ⇄ b looks like a cycle; topo() then falls back to the groups'
  // list order (b before a), t stays in a, and the final pass merges a and b into one chunk 'b+a' with a spurious
  // "depend on each other in a cycle" note. With groups listed as [a, b] the same graph gives 'a', 'b'.
  test('a test selected only by the upstream group, listed second, still moves to the downstream group', () => {
    const g = graphOf([
      ['model.p.a1', []],
      ['model.p.b1', ['model.p.a1']],
      ['test.p.t', ['model.p.a1', 'model.p.b1']],
    ]);
    const plan = planGroups(g, [group('b', ['model.p.b1']), group('a', ['model.p.a1', 'test.p.t'])], unit);
    expect(plan.chunks.map((c) => [c.name, c.nodes])).toEqual([
      ['a', ['model.p.a1']],
      ['b', ['model.p.b1', 'test.p.t']],
    ]);
    expect(plan.notes).toEqual([]);
  });

  test('random DAGs and random groups: each selected node once, acyclic ordered chunks, parents first', () => {
    const arb = dagArb(60).chain((spec) =>
      fc.tuple(
        fc.constant(spec),
        fc.array(fc.array(fc.integer({ min: 0, max: spec.nodes.length - 1 }), { maxLength: spec.nodes.length }), {
          minLength: 1,
          maxLength: 5,
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ([spec, memberLists]) => {
        const { graph, ids, weight } = dagFrom(spec);
        const groups = memberLists.map((m, i) =>
          group(
            `g${i}`,
            m.map((x) => ids[x]),
          ),
        );
        const plan = planGroups(graph, groups, weight);
        expectValidGroupPlan(graph, groups, plan);
        // Names are the groups' names, each group named in at most one chunk.
        const named = plan.chunks.flatMap((c) => c.name.split('+'));
        expect(new Set(named).size).toBe(named.length);
        // A non-test node stays with the first group that selects it (unless groups were merged).
        for (const u of ids) {
          const first = groups.find((gr) => gr.members.has(u));
          if (first === undefined || graph.nodes.get(u)!.resourceType === 'test') continue;
          expect(chunkOf(plan, u).split('+')).toContain(first.name);
        }
      }),
      { numRuns: 300 },
    );
  });
});
