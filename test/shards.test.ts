// Matrix shards (src/plan/shards.ts): matrix jobs cannot wait for each other, so for commands that build, every
// connected part of the DAG stays in one shard; `test` nodes are spread one by one. Packing is heaviest part first
// onto the lightest shard. Pure code: no dbt, no database.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planShards, type ShardPlan } from '../src/plan/shards.js';
import type { PlanGraph } from '../src/plan/graph.js';
import { dagArb, dagFrom, graphOf } from './support/graphs.js';

const unit = (): number => 1;
const shardOf = (p: ShardPlan, uid: string): string => p.shards.find((s) => s.nodes.includes(uid))!.shard;

/** Weakly connected parts of a graph, found by a plain search (independent of the planner's union-find). */
function partsBySearch(g: PlanGraph): Set<string>[] {
  const near = new Map<string, string[]>([...g.nodes.keys()].map((u) => [u, []]));
  for (const n of g.nodes.values()) {
    for (const p of [...n.parents, ...(n.attachTo ? [n.attachTo] : [])]) {
      near.get(n.uid)!.push(p);
      near.get(p)!.push(n.uid);
    }
  }
  const seen = new Set<string>();
  const parts: Set<string>[] = [];
  for (const start of near.keys()) {
    if (seen.has(start)) continue;
    const part = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const u = stack.pop()!;
      if (seen.has(u)) continue;
      seen.add(u);
      part.add(u);
      stack.push(...near.get(u)!);
    }
    parts.push(part);
  }
  return parts;
}

describe('planShards on a small DAG', () => {
  // Three independent parts: {a → b, b's test} = 6 s, {c} = 4 s, {d → e} = 2 s.
  const g = graphOf([
    ['model.p.a', []],
    ['model.p.b', ['model.p.a']],
    ['test.p.t_b', ['model.p.b']],
    ['model.p.c', []],
    ['model.p.d', []],
    ['model.p.e', ['model.p.d']],
  ]);
  const weights: Record<string, number> = {
    'model.p.a': 3,
    'model.p.b': 2,
    'test.p.t_b': 1,
    'model.p.c': 4,
    'model.p.d': 1,
    'model.p.e': 1,
  };
  const weight = (u: string): number => weights[u];

  test('build: parts whole, heaviest first onto the lightest shard, nodes in critical-path order', () => {
    const p = planShards(g, weight, 2, 'build');
    expect(p.shards).toEqual([
      { shard: '1', nodes: ['model.p.a', 'model.p.b', 'test.p.t_b'], work: 6 },
      { shard: '2', nodes: ['model.p.c', 'model.p.d', 'model.p.e'], work: 6 },
    ]);
    expect(p.notes).toEqual([]);
  });

  test('more shards asked than parts: one shard per part, and a note saying so', () => {
    const p = planShards(g, weight, 5, 'build');
    expect(p.shards.map((s) => [s.shard, s.nodes, s.work])).toEqual([
      ['1', ['model.p.a', 'model.p.b', 'test.p.t_b'], 6],
      ['2', ['model.p.c'], 4],
      ['3', ['model.p.d', 'model.p.e'], 2],
    ]);
    expect(p.notes).toEqual([
      'The selection has 3 independent part(s) of the DAG: it is spread over 3 shard(s), not 5.',
    ]);
  });

  test('one shard holds everything, in a topological order', () => {
    const p = planShards(g, weight, 1, 'build');
    expect(p.shards).toHaveLength(1);
    expect(p.shards[0].work).toBe(12);
    expect([...p.shards[0].nodes].sort()).toEqual([...g.nodes.keys()].sort());
    const pos = new Map(p.shards[0].nodes.map((u, i) => [u, i]));
    for (const n of g.nodes.values()) for (const par of n.parents) expect(pos.get(par)!).toBeLessThan(pos.get(n.uid)!);
  });
});

describe('planShards: packing and notes', () => {
  test('LPT with exact loads: parts of 5, 4, 3 and 3 s over two shards give 8 and 7 s', () => {
    const g = graphOf([
      ['model.p.w5', []],
      ['model.p.w4', []],
      ['model.p.w3a', []],
      ['model.p.w3b', []],
    ]);
    const w: Record<string, number> = { 'model.p.w5': 5, 'model.p.w4': 4, 'model.p.w3a': 3, 'model.p.w3b': 3 };
    const p = planShards(g, (u) => w[u], 2, 'build');
    expect(p.shards).toEqual([
      { shard: '1', nodes: ['model.p.w5', 'model.p.w3b'], work: 8 },
      { shard: '2', nodes: ['model.p.w4', 'model.p.w3a'], work: 7 },
    ]);
  });

  test("equal parts go by unique id, so the plan does not depend on the graph's insertion order", () => {
    const rows: [string, string[]][] = [
      ['model.p.z', []],
      ['model.p.y', []],
      ['model.p.x', []],
      ['model.p.w', []],
    ];
    const forward = planShards(graphOf(rows), unit, 2, 'build');
    const backward = planShards(graphOf([...rows].reverse()), unit, 2, 'build');
    expect(forward).toEqual(backward);
    expect(forward.shards.map((s) => s.nodes)).toEqual([
      ['model.p.w', 'model.p.y'],
      ['model.p.x', 'model.p.z'],
    ]);
  });

  test('one part far heavier than the rest: a note gives its share of the work', () => {
    const g = graphOf([
      ['model.p.big', []],
      ['model.p.big2', ['model.p.big']],
      ['model.p.small', []],
    ]);
    const w: Record<string, number> = { 'model.p.big': 6, 'model.p.big2': 4, 'model.p.small': 1 };
    const p = planShards(g, (u) => w[u], 2, 'build');
    expect(p.shards.map((s) => s.work)).toEqual([10, 1]);
    expect(p.notes).toEqual([
      'The largest connected part of the DAG holds 91% of the work: shards cannot be balanced better than that.',
    ]);
  });

  test('exactly 1.5 × the mean shard is not yet reported as unbalanced', () => {
    // Parts of 3 and 1 s over two shards: mean 2 s, heaviest 3 s = 1.5 × mean.
    const g = graphOf([
      ['model.p.a', []],
      ['model.p.b', []],
    ]);
    const p = planShards(g, (u) => (u === 'model.p.a' ? 3 : 1), 2, 'build');
    expect(p.notes).toEqual([]);
  });

  test('a unit test stays with the model it is attached to, even with no edge between them', () => {
    const g = graphOf([
      ['model.p.a', []],
      ['model.p.b', []],
      ['unit_test.p.u', []],
    ]);
    g.nodes.get('unit_test.p.u')!.attachTo = 'model.p.b';
    for (let k = 1; k <= 3; k++) {
      const p = planShards(g, unit, k, 'build');
      expect(shardOf(p, 'unit_test.p.u')).toBe(shardOf(p, 'model.p.b'));
    }
    expect(planShards(g, unit, 3, 'build').shards).toHaveLength(2);
  });

  test('test: tests are spread one by one (they do not wait for each other)', () => {
    const g = graphOf([
      ['test.p.t1', []],
      ['test.p.t2', []],
      ['test.p.t3', []],
      ['test.p.t4', []],
    ]);
    const w: Record<string, number> = { 'test.p.t1': 4, 'test.p.t2': 3, 'test.p.t3': 2, 'test.p.t4': 1 };
    const p = planShards(g, (u) => w[u], 2, 'test');
    expect(p.shards).toEqual([
      { shard: '1', nodes: ['test.p.t1', 'test.p.t4'], work: 5 },
      { shard: '2', nodes: ['test.p.t2', 'test.p.t3'], work: 5 },
    ]);
    expect(p.notes).toEqual([]);
  });
});

describe('planShards on random DAGs', () => {
  test('build: every node exactly once, no edge between shards, nodes in a topological order, work adds up', () => {
    fc.assert(
      fc.property(dagArb(80), fc.integer({ min: 1, max: 6 }), (spec, maxShards) => {
        const d = dagFrom(spec);
        const p = planShards(d.graph, d.weight, maxShards, 'build');
        const parts = partsBySearch(d.graph);
        expect(p.shards).toHaveLength(Math.min(maxShards, parts.length));
        expect(p.shards.map((s) => s.shard)).toEqual(p.shards.map((_, i) => String(i + 1)));
        expect(p.shards.flatMap((s) => s.nodes).sort()).toEqual([...d.ids].sort());
        const shard = new Map(p.shards.flatMap((s) => s.nodes.map((u) => [u, s.shard] as [string, string])));
        for (const part of parts) expect(new Set([...part].map((u) => shard.get(u))).size).toBe(1);
        for (const s of p.shards) {
          const pos = new Map(s.nodes.map((u, i) => [u, i]));
          for (const u of s.nodes) {
            for (const par of d.graph.nodes.get(u)!.parents) {
              expect(shard.get(par)).toBe(s.shard);
              expect(pos.get(par)!).toBeLessThan(pos.get(u)!);
            }
          }
          expect(s.work).toBeCloseTo(
            s.nodes.reduce((t, u) => t + d.weight(u), 0),
            9,
          );
        }
        expect(p.notes.some((n) => n.startsWith('The selection has'))).toBe(parts.length < maxShards);
      }),
      { numRuns: 150 },
    );
  });

  test('test: min(maxShards, nodes) shards, none empty, none heavier than the lightest by more than its own lightest node', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        (ws, maxShards) => {
          const g = graphOf(ws.map((_, i) => [`test.p.t${String(i).padStart(3, '0')}`, []]));
          const weight = (u: string): number => ws[Number(u.slice(-3))] / 100;
          const p = planShards(g, weight, maxShards, 'test');
          expect(p.shards).toHaveLength(Math.min(maxShards, ws.length));
          expect(p.shards.flatMap((s) => s.nodes).sort()).toEqual([...g.nodes.keys()].sort());
          // LPT: a shard's last (lightest) node went to the lightest shard of the moment, so no shard exceeds the
          // final lightest one by more than that node.
          const lightest = Math.min(...p.shards.map((s) => s.work));
          for (const s of p.shards) {
            expect(s.nodes.length).toBeGreaterThan(0);
            expect(s.work - lightest).toBeLessThanOrEqual(Math.min(...s.nodes.map(weight)) + 1e-9);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
