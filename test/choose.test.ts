// planRun (src/plan/choose.ts): groups or the shape, the lines the log and the report get. Pure, no dbt.
import { describe, expect, test } from '@jest/globals';
import { hooksNote, planRun, projectHooks } from '../src/plan/choose.js';
import type { Machine } from '../src/plan/shape.js';
import { graphOf, manifestNode, manifestOf } from './support/graphs.js';

const machine = (m: Partial<Machine> = {}): Machine => ({
  cores: 2,
  startup: 0.5,
  perNodeCpu: 0.02,
  warehouseCpuShare: 0,
  nodeGates: true,
  ...m,
});
/** 1,500 independent tests of 0.2 s each on a remote warehouse: dbt's own CPU bounds one process, two beat it. */
const wide = graphOf(
  Array.from({ length: 1500 }, (_, i) => [`test.p.t${String(i).padStart(4, '0')}`, []] as [string, string[]]),
);
const withHooks = manifestOf([
  manifestNode('model.p.a'),
  manifestNode('operation.p.p-on-run-start-0', { resourceType: 'operation' }),
  manifestNode('operation.p.p-on-run-end-0', { resourceType: 'operation' }),
  manifestNode('operation.p.p-on-run-end-1', { resourceType: 'operation' }),
]);

describe('planRun', () => {
  test('without groups it chooses the shape, says which shapes were tried, and estimates against one process', () => {
    const r = planRun({
      graph: wide,
      weight: () => 0.2,
      machine: machine(),
      request: { parallel: 2, maxConnections: 32, profileThreads: 4 },
      manifest: manifestOf([]),
      command: 'build',
    });
    expect(r.choice).toBeDefined();
    expect(r.budget.parallel).toBe(2);
    expect(r.choice!.plan.makespan).toBeLessThan(r.choice!.oneProcessMakespan);
    expect(r.plan.chunks.flatMap((c) => c.nodes).sort()).toEqual([...wide.nodes.keys()].sort());
    expect(r.shapesLine).toMatch(
      /^Shapes \(processes × threads\): 1×31 → ~\d+\.\d s, 2×15 → ~\d+\.\d s; using 2 × 15\.$/,
    );
    expect(r.connectionsLine).toBe('Connections: at most 32 of max-connections 32 (processes × (threads + 1)).');
    expect(r.budgetWarning).toBeUndefined();
    expect(r.notes).toEqual([]);
  });

  test('with groups: one chunk per group, no shape comparison, the widest budget the request allows', () => {
    const g = graphOf([
      ['model.p.a', []],
      ['model.p.b', ['model.p.a']],
      ['model.p.c', []],
    ]);
    const r = planRun({
      graph: g,
      weight: () => 1,
      machine: machine(),
      request: { parallel: 2, profileThreads: 8, maxConnections: 10 },
      manifest: manifestOf([]),
      command: 'build',
      groups: [
        { name: 'first', members: new Set(['model.p.a', 'model.p.c']) },
        { name: 'second', members: new Set(['model.p.b']) },
      ],
    });
    expect(r.choice).toBeUndefined();
    expect(r.shapesLine).toBeUndefined();
    expect(r.plan.chunks.map((c) => [c.name, [...c.nodes].sort()])).toEqual([
      ['first', ['model.p.a', 'model.p.c']],
      ['second', ['model.p.b']],
    ]);
    expect(r.connectionsLine).toBe(
      `Connections: at most ${r.budget.peak} of max-connections 10 (processes × (threads + 1)).`,
    );
    expect(r.budget.peak).toBeLessThanOrEqual(10);
  });

  test('a budget too small for what was asked is a warning, not an error', () => {
    const r = planRun({
      graph: wide,
      weight: () => 0.2,
      machine: machine(),
      request: { parallel: 2, threads: 16, maxConnections: 9, profileThreads: 8 },
      manifest: manifestOf([]),
      command: 'build',
    });
    expect(r.budget.peak).toBeLessThanOrEqual(9);
    expect(r.budgetWarning).toBe(
      `parallel 1 × (threads 16 + 1) = 17 connections exceeds max-connections 9: using parallel 1 × (threads 8 + 1) = 9.`,
    );
  });

  test('hooks run once per chunk on the subprocess path: a note when there are several chunks and the command runs hooks', () => {
    expect(projectHooks(withHooks)).toEqual({ start: 1, end: 2 });
    expect(hooksNote(withHooks, 3, 'build')).toBe(
      "The project has 1 on-run-start and 2 on-run-end hook(s): on this run path (one dbt process per chunk) every process runs them, so they run 3 times, each on-run-end seeing only its chunk's results. Forked workers (Linux, worker-host: auto) run them once; otherwise keep them idempotent, or use chunks: 1.",
    );
    expect(hooksNote(withHooks, 1, 'build')).toBeUndefined();
    expect(hooksNote(withHooks, 3, 'compile')).toBeUndefined();
    expect(hooksNote(manifestOf([manifestNode('model.p.a')]), 3, 'build')).toBeUndefined();
    const r = planRun({
      graph: wide,
      weight: () => 0.2,
      machine: machine(),
      request: { parallel: 2, maxConnections: 32, profileThreads: 4 },
      manifest: withHooks,
      command: 'run',
    });
    expect(r.plan.chunks.length).toBeGreaterThan(1);
    expect(r.notes).toEqual([hooksNote(withHooks, r.plan.chunks.length, 'run')]);
    // Forked workers share one run: its hooks run once, nothing to warn of.
    expect(
      planRun({
        graph: wide,
        weight: () => 0.2,
        machine: machine(),
        request: { parallel: 2, maxConnections: 32, profileThreads: 4 },
        manifest: withHooks,
        command: 'run',
        hooksOnce: true,
      }).notes,
    ).toEqual([]);
  });
});
