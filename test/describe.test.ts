// The plan as the log shows it (src/plan/describe.ts): the exact text of renderPlan (the benchmark parses its first
// line) and the lower bound it prints. Pure code: no dbt, no database.
import { describe, expect, test } from '@jest/globals';
import { lowerBound, renderPlan } from '../src/plan/describe.js';
import { planChunks, type Plan } from '../src/plan/chunks.js';
import type { Machine } from '../src/plan/shape.js';
import { graphOf, planOf } from './support/graphs.js';

const machine = (m: Partial<Machine> = {}): Machine => ({
  cores: 2,
  startup: 1,
  perNodeCpu: 0.02,
  warehouseCpuShare: 0,
  nodeGates: false,
  ...m,
});

/** A plan of n independent one-node chunks with the given totals. */
function flat(nodes: number, criticalPath: number, totalWork: number): Plan {
  const chunk = {
    index: 1,
    name: 'chunk-1',
    nodes: Array.from({ length: nodes }, (_, i) => `model.p.m${i}`),
    dependsOn: [],
    work: totalWork,
    predicted: totalWork,
  };
  return { chunks: [chunk], makespan: totalWork, criticalPath, totalWork };
}

describe('renderPlan', () => {
  // a → b → d, a → c: chunk 1 holds a and b, chunk 2 (c) and chunk 3 (d) wait for it, d also for c.
  const g = graphOf([
    ['model.p.a', []],
    ['model.p.b', ['model.p.a']],
    ['model.p.c', ['model.p.a']],
    ['model.p.d', ['model.p.b', 'model.p.c']],
  ]);
  const plan: Plan = {
    ...planOf(g, [['model.p.a', 'model.p.b'], ['model.p.c'], ['model.p.d']]),
    makespan: 5.06,
    criticalPath: 4,
    totalWork: 5,
  };
  plan.chunks[0].predicted = 3.04;
  plan.chunks[1].predicted = 1;
  plan.chunks[2].predicted = 0.96;

  test('a header line with the totals, then one line per chunk with what it waits for', () => {
    expect(renderPlan(plan, 2, 3)).toBe(
      [
        'Plan: 3 chunk(s), 4 node(s) on 2 process(es) × 3 thread(s); predicted makespan 5.1 s, lower bound 4.0 s (critical path 4.0 s, work 5.0 s)',
        '  1. chunk-1: 2 node(s), ~3.0 s',
        '  2. chunk-2: 1 node(s), ~1.0 s, after 1',
        '  3. chunk-3: 1 node(s), ~1.0 s, after 1, 2',
      ].join('\n'),
    );
  });

  test('the header keeps the shape the benchmark reads back', () => {
    const header = renderPlan(plan, 2, 3, machine()).split('\n')[0];
    const m =
      /on (\d+) process\(es\) × (\d+) thread\(s\); predicted makespan ([\d.]+) s, lower bound ([\d.]+|NaN) s \(critical path ([\d.]+) s, work ([\d.]+) s/.exec(
        header,
      );
    expect(m?.slice(1)).toEqual(['2', '3', '5.1', '4.0', '4.0', '5.0']);
  });

  test('a real plan: every chunk listed once, in index order, and the header counts its nodes', () => {
    const p = planChunks(g, () => 1, { maxChunks: 2, threads: 1, fixedCost: 0, perNodeCost: 0 });
    const lines = renderPlan(p, 2, 1).split('\n');
    expect(lines).toHaveLength(1 + p.chunks.length);
    expect(lines[0]).toMatch(
      new RegExp(`^Plan: ${p.chunks.length} chunk\\(s\\), 4 node\\(s\\) on 2 process\\(es\\) × 1 thread\\(s\\); `),
    );
    p.chunks.forEach((c, i) =>
      expect(lines[i + 1]).toMatch(new RegExp(`^  ${c.index}\\. ${c.name}: ${c.nodes.length} node\\(s\\), ~`)),
    );
  });
});

describe('lowerBound', () => {
  test('the critical path when it is the longest', () => {
    expect(lowerBound(flat(3, 4, 6), 2, 3)).toBe(4);
  });

  test('the work spread over every thread of every process when that is longer', () => {
    expect(lowerBound(flat(3, 1, 12), 2, 3)).toBe(2);
  });

  test("with a machine: dbt's per-node CPU over the processes that can each have a core", () => {
    // 100 nodes × 0.02 s over min(4 processes, 2 cores) = 1 s, above the critical path (0.5 s) and the work (2 s / 16).
    expect(lowerBound(flat(100, 0.5, 2), 4, 4, machine())).toBeCloseTo(1, 12);
    expect(lowerBound(flat(100, 0.5, 2), 1, 4, machine())).toBeCloseTo(2, 12);
    expect(lowerBound(flat(100, 0.5, 2), 4, 4)).toBe(0.5); // without a machine the CPU is not counted
  });

  test('zero processes or threads do not divide by zero', () => {
    expect(lowerBound(flat(1, 0, 3), 0, 0)).toBe(3);
  });
});
