// The machine-aware planner: gated workers (planWorkers), the shapes compared, and the choice between them.
// Pure code: no dbt, no database.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planWorkers } from '../src/plan/workers.js';
import {
  chooseShape,
  planShape,
  predictGrown,
  calibrateAfter,
  shapeCandidates,
  shapeThatRan,
  speedInHindsight,
  type Machine,
} from '../src/plan/shape.js';
import { lowerBound } from '../src/plan/describe.js';
import { perNodeCpuOf, warehouseSeconds, type Timings } from '../src/plan/timings.js';
import { dagArb, dagFrom, graphOf } from './support/graphs.js';

const machine = (m: Partial<Machine> = {}): Machine => ({
  cores: 2,
  startup: 1,
  perNodeCpu: 0.02,
  warehouseCpuShare: 0,
  nodeGates: true,
  ...m,
});

describe('planWorkers on random DAGs', () => {
  test('every node in exactly one chunk, in a topological order inside it; chunks have no order between them', () => {
    fc.assert(
      fc.property(dagArb(150), fc.integer({ min: 1, max: 4 }), (spec, workers) => {
        const d = dagFrom(spec);
        const p = planWorkers(d.graph, d.weight, { workers, threads: 3, fixedCost: 0.5, perNodeCost: 0.02 });
        const seen = p.chunks.flatMap((c) => c.nodes);
        expect(seen.sort()).toEqual([...d.ids].sort());
        for (const c of p.chunks) {
          const pos = new Map(c.nodes.map((u, i) => [u, i]));
          for (const u of c.nodes)
            for (const parent of d.graph.nodes.get(u)!.parents)
              if (pos.has(parent)) expect(pos.get(parent)!).toBeLessThan(pos.get(u)!);
          expect(c.dependsOn).toEqual([]);
        }
        expect(p.chunks.length).toBeLessThanOrEqual(workers);
        expect(p.nodeGates).toBe(p.chunks.length > 1);
        expect(p.makespan).toBeGreaterThanOrEqual(p.criticalPath - 1e-9);
      }),
      { numRuns: 150 },
    );
  });

  test("many tiny independent nodes bound by dbt's per-node CPU: two workers split them evenly", () => {
    const rows: [string, string[]][] = Array.from({ length: 400 }, (_, i) => [
      `test.p.t${String(i).padStart(3, '0')}`,
      [],
    ]);
    const g = graphOf(rows);
    const p = planWorkers(g, () => 0.01, { workers: 2, threads: 7, fixedCost: 1, perNodeCost: 0.02 });
    expect(p.chunks.map((c) => c.nodes.length)).toEqual([200, 200]);
    expect(p.makespan).toBeCloseTo(1 + 200 * 0.02, 6);
  });

  test("a unit test stays in its model's chunk", () => {
    const g = graphOf([
      ['model.p.a', []],
      ['model.p.b', []],
      ['model.p.c', ['model.p.a']],
      ['unit_test.p.u', []],
    ]);
    g.nodes.get('unit_test.p.u')!.attachTo = 'model.p.c';
    g.nodes.get('unit_test.p.u')!.parents = ['model.p.a'];
    const p = planWorkers(g, () => 1, { workers: 3, threads: 1, fixedCost: 0, perNodeCost: 0 });
    const chunkOf = (u: string) => p.chunks.find((c) => c.nodes.includes(u))!.index;
    expect(chunkOf('unit_test.p.u')).toBe(chunkOf('model.p.c'));
  });
});

describe('shapeCandidates: what each budget allows', () => {
  test("without threads or max-connections the processes share the profile's threads", () => {
    const shapes = shapeCandidates({ parallel: 4, profileThreads: 8 });
    expect(shapes.map((s) => [s.parallel, s.threads])).toEqual([
      [1, 8],
      [2, 4],
      [3, 2],
      [4, 2],
    ]);
    for (const s of shapes) expect(s.parallel * s.threads).toBeLessThanOrEqual(8);
  });

  test('with max-connections every shape keeps processes × (threads + 1) under it, one process included', () => {
    const shapes = shapeCandidates({ parallel: 2, maxConnections: 32, profileThreads: 4 });
    expect(shapes.map((s) => [s.parallel, s.threads, s.peak])).toEqual([
      [1, 31, 32],
      [2, 15, 32],
    ]);
  });

  test('threads given: each process has them; a local DuckDB file allows one process', () => {
    expect(shapeCandidates({ parallel: 3, threads: 2, profileThreads: 9 }).map((s) => [s.parallel, s.threads])).toEqual(
      [
        [1, 2],
        [2, 2],
        [3, 2],
      ],
    );
    expect(
      shapeCandidates({ parallel: 3, profileThreads: 8, oneProcess: 'duckdb' }).map((s) => [s.parallel, s.threads]),
    ).toEqual([[1, 8]]);
  });

  test('a forced chunk count fixes the processes', () => {
    expect(shapeCandidates({ parallel: 4, profileThreads: 8, chunks: 3 }).map((s) => s.parallel)).toEqual([3]);
  });

  test('one process is one chunk, whatever chunks asked for (one dbt invocation, as plain dbt)', () => {
    const nodes = Array.from(
      { length: 12 },
      (_, i) => [`model.p.m${i}`, { uid: `model.p.m${i}`, resourceType: 'model', parents: [] }] as const,
    );
    const g = { nodes: new Map(nodes.map(([u, n]) => [u, { ...n, parents: [...n.parents] }])) };
    const m = { cores: 2, startup: 1, perNodeCpu: 0.02, warehouseCpuShare: 0, nodeGates: false };
    const c = chooseShape(g, () => 1, m, { parallel: 3, profileThreads: 6, chunks: 3, oneProcess: 'hooks' });
    expect(c.plan.chunks.length).toBe(1);
    expect(c.shape).toMatchObject({ parallel: 1, threads: 6 });
  });
});

describe('chooseShape', () => {
  const wide = graphOf(
    Array.from({ length: 1500 }, (_, i) => [`test.p.t${String(i).padStart(4, '0')}`, []] as [string, string[]]),
  );

  test('1,500 tests that wait 0.2 s each on a remote warehouse, budget 32: two processes, predicted well under one', () => {
    const c = chooseShape(wide, () => 0.2, machine(), { parallel: 2, maxConnections: 32, profileThreads: 4 });
    expect(c.shape.parallel).toBe(2);
    expect(c.plan.makespan).toBeLessThan(c.oneProcessMakespan / 1.6);
    expect(c.tried.map((t) => t.shape.parallel)).toEqual([1, 2]);
  });

  test('a small project whose processes would not pay for their start-up runs as one process', () => {
    const small = graphOf([
      ['model.p.a', []],
      ['model.p.b', ['model.p.a']],
      ['test.p.c', ['model.p.b']],
    ]);
    const c = chooseShape(small, () => 1, machine({ startup: 3 }), { parallel: 2, profileThreads: 4 });
    expect(c.shape.parallel).toBe(1);
    expect(c.plan.chunks).toHaveLength(1);
  });

  test('never a shape predicted slower than the one-process shape, on random DAGs and machines', () => {
    fc.assert(
      fc.property(
        dagArb(80),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.boolean(),
        (spec, cores, parallel, startup, gated) => {
          const d = dagFrom(spec);
          const c = chooseShape(d.graph, d.weight, machine({ cores, startup, nodeGates: gated }), {
            parallel,
            profileThreads: 4,
          });
          expect(c.plan.makespan).toBeLessThanOrEqual(c.oneProcessMakespan + 1e-9);
          expect(c.plan.chunks.flatMap((x) => x.nodes).sort()).toEqual([...d.ids].sort());
        },
      ),
      { numRuns: 100 },
    );
  });

  test('more processes than cores stretch start-up and per-node CPU: four processes on two cores are not faster than two', () => {
    const two = planShape(wide, () => 0.01, machine(), { parallel: 2, threads: 4, peak: 10 });
    const four = planShape(wide, () => 0.01, machine(), { parallel: 4, threads: 2, peak: 12 });
    expect(four.makespan).toBeGreaterThanOrEqual(two.makespan - 1e-9);
  });

  test('a warehouse on the same cores takes its share of them', () => {
    const remote = planShape(wide, () => 0.01, machine(), { parallel: 2, threads: 4, peak: 10 });
    const local = planShape(wide, () => 0.01, machine({ warehouseCpuShare: 0.3 }), {
      parallel: 2,
      threads: 4,
      peak: 10,
    });
    expect(local.makespan).toBeGreaterThan(remote.makespan * 1.2);
  });

  test("the lower bound counts dbt's CPU over the processes that have a core", () => {
    const p = planShape(wide, () => 0.01, machine(), { parallel: 1, threads: 31, peak: 32 });
    expect(lowerBound(p, 1, 31, machine())).toBeCloseTo(1500 * 0.02, 6);
    expect(lowerBound(p, 2, 15, machine())).toBeCloseTo((1500 * 0.02) / 2, 6);
  });
});

describe('chooseShape with a pool: workers sized while the run goes', () => {
  const wide = graphOf(
    Array.from({ length: 400 }, (_, i) => [`model.p.m${String(i).padStart(3, '0')}`, []] as [string, string[]]),
  );
  const pool = machine({ pool: true, warehouseCpuShare: 0.3 });

  test("no timings, budget 8: one worker takes nodes from the start with one process's 7 slots; the other may join", () => {
    const c = chooseShape(wide, () => 1, pool, { parallel: 2, maxConnections: 8, profileThreads: 4 });
    expect(c.plan.pooled).toEqual({ slots: 7, active: 1 });
    expect(c.shape).toEqual({ parallel: 2, threads: 7, peak: 8 });
    expect(c.plan.chunks).toHaveLength(2);
    expect(c.plan.chunks.flatMap((x) => x.nodes).sort()).toEqual([...wide.nodes.keys()].sort());
    // The prediction is the shape that takes nodes from the start: one process, as plain dbt.
    expect(c.plan.makespan).toBeCloseTo(c.oneProcessMakespan, 6);
  });

  test('where the model predicts two processes clearly faster, both take nodes from the start and share the slots', () => {
    const c = chooseShape(wide, () => 0.01, pool, { parallel: 2, maxConnections: 32, profileThreads: 4 });
    expect(c.plan.pooled).toEqual({ slots: 31, active: 2 });
    expect(c.plan.makespan).toBeLessThan(c.oneProcessMakespan * 0.95);
  });

  test('connections: the slots plus one main connection per later worker stay within max-connections', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 80 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        (budget, cores, parallel) => {
          const c = chooseShape(wide, () => 1, machine({ pool: true, cores }), {
            parallel,
            maxConnections: budget,
            profileThreads: 4,
          });
          if (c.plan.pooled === undefined) return;
          expect(c.shape.peak).toBeLessThanOrEqual(budget);
          expect(c.plan.pooled.slots + c.shape.parallel - 1).toBeLessThanOrEqual(budget);
          expect(c.plan.pooled.slots).toBeGreaterThanOrEqual(c.shape.parallel);
          expect(c.shape.parallel).toBeLessThanOrEqual(Math.min(cores, parallel));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('threads the user fixed are per process: each worker runs up to them, the pool as many as its workers may', () => {
    const c = chooseShape(wide, () => 1, pool, { parallel: 2, threads: 4, profileThreads: 8 });
    expect(c.plan.pooled?.slots).toBe(8);
    expect(c.shape.threads).toBe(4);
    const tight = chooseShape(wide, () => 1, pool, { parallel: 2, threads: 4, maxConnections: 6, profileThreads: 8 });
    expect(tight.plan.pooled?.slots).toBe(5);
    expect(tight.shape.threads).toBe(4);
    expect(tight.shape.peak).toBeLessThanOrEqual(6);
  });

  test("without max-connections the pool's slots are the profile's threads: no more queries at once than one dbt", () => {
    const c = chooseShape(wide, () => 1, pool, { parallel: 2, profileThreads: 4 });
    expect(c.plan.pooled?.slots).toBe(4);
  });

  test('no pool where chunks are forced, one process is required, or only one core', () => {
    expect(chooseShape(wide, () => 1, pool, { parallel: 2, profileThreads: 4, chunks: 2 }).plan.pooled).toEqual({
      slots: 4,
      active: 2,
    });
    expect(
      chooseShape(wide, () => 1, pool, { parallel: 2, profileThreads: 4, oneProcess: 'duckdb' }).plan.pooled,
    ).toBeUndefined();
    expect(
      chooseShape(wide, () => 1, { ...pool, cores: 1 }, { parallel: 2, profileThreads: 4 }).plan.pooled,
    ).toBeUndefined();
  });

  test('the shape that ran: as many workers as the pool grew to, sharing its slots', () => {
    const budget = { parallel: 2, threads: 7, peak: 8 };
    expect(shapeThatRan(budget, { slots: 7, active: 1 }, [])).toEqual({ parallel: 1, threads: 7, peak: 8 });
    expect(shapeThatRan(budget, { slots: 7, active: 1 }, [{ workers: 2 }])).toEqual({
      parallel: 2,
      threads: 3,
      peak: 7,
    });
    expect(shapeThatRan(budget, undefined, [])).toBe(budget);
  });
});

describe('timings split into dbt CPU and warehouse time', () => {
  const t = (threads: number, elapsed: number, exec: [string, number][]): Timings => ({
    seconds: new Map(exec),
    files: ['a.json'],
    runs: [{ file: 'a.json', threads, secondsPerNode: elapsed / exec.length }],
    recorded: [{ threads, exec: new Map(exec) }],
  });

  test("a run bound by dbt's own work gives its CPU per node; one bound by the warehouse does not raise the estimate", () => {
    expect(
      perNodeCpuOf(
        t(
          7,
          29,
          Array.from({ length: 2000 }, (_, i) => [`m${i}`, 0.08] as [string, number]),
        ),
        0.02,
      ),
    ).toBeCloseTo(0.0145, 4);
    // A slower runner: its own figure, above the default.
    expect(
      perNodeCpuOf(
        t(
          7,
          58,
          Array.from({ length: 2000 }, (_, i) => [`m${i}`, 0.16] as [string, number]),
        ),
        0.02,
      ),
    ).toBeCloseTo(0.029, 4);
    expect(
      perNodeCpuOf(
        t(
          7,
          33,
          Array.from({ length: 254 }, (_, i) => [`m${i}`, 1.5] as [string, number]),
        ),
        0.02,
      ),
    ).toBe(0.02);
    expect(perNodeCpuOf(undefined, 0.02)).toBe(0.02);
  });

  test("each recorded time loses the CPU its run's threads queued for, never below zero", () => {
    const w = warehouseSeconds(
      t(7, 10, [
        ['a', 1.5],
        ['b', 0.05],
      ]),
      0.02,
    ).warehouse!;
    expect(w.get('a')).toBeCloseTo(1.5 - 7 * 0.02, 9);
    expect(w.get('b')).toBe(0);
  });
});

describe('speedInHindsight: the summary figure re-costed with what the run measured', () => {
  // 40 independent models: the default weight says 1 s each, the run measured 0.05 s each.
  const g = graphOf(Array.from({ length: 40 }, (_, i): [string, string[]] => [`model.p.m${i}`, []]));
  const measured = new Map([...g.nodes.keys()].map((u) => [u, 0.05]));
  const request = { parallel: 2, profileThreads: 4 };
  test("the run's node times replace the defaults, for the shape that ran and for one process with the same budget", () => {
    const ran = { shape: { parallel: 2, threads: 2, peak: 6 }, chunks: 2 };
    const before = speedInHindsight(g, () => 1, new Map(), machine(), request, ran);
    const after = speedInHindsight(g, () => 1, measured, machine(), request, ran);
    expect(after.basis).toBe('this run');
    expect(after.oneProcess).toBeLessThan(before.oneProcess / 3);
    expect(after.chosen).toBeLessThan(before.chosen / 3);
    // One process with the same budget is the profile's 4 threads in one process, costed with the same weights.
    expect(after.oneProcess).toBeCloseTo(
      planShape(g, (u) => measured.get(u)!, machine(), { parallel: 1, threads: 4, peak: 5 }).makespan,
      6,
    );
  });
});

describe('predictGrown: a growing pool predicts again when it grows, from what the run measured', () => {
  // 100 independent tests weighed by the first-run estimate (0.2 s); 20 ended before the pool grew, 2 s in.
  const tests = Array.from({ length: 100 }, (_, i) => `test.p.t${String(i).padStart(3, '0')}`);
  const g = graphOf(tests.map((u) => [u, [], 'test']));
  const m = machine({ pool: true, startup: 0.5, perNodeCpu: 0.05 });
  const ended = (seconds: number): Map<string, number> => new Map(tests.slice(0, 20).map((u) => [u, seconds]));

  test("nodes that took only the CPU their worker's threads queued for: the rest is dbt's CPU, shared by the workers", () => {
    // One worker ran 4 threads at 0.04 s of CPU per node: each node took 4 × 0.04 s, none of it in the warehouse.
    const at = predictGrown(
      g,
      () => 0.2,
      m,
      { slots: 4, active: 1 },
      {
        elapsed: 2,
        workers: 2,
        measured: ended(0.16),
        cpuPerNode: 0.04,
      },
    );
    // 80 nodes left, 40 per worker at 0.04 s each (2 workers on 2 cores, no warehouse on them), no start-up again;
    // their warehouse time, (20 × 0.005 + 10) / 30 of the estimate (the plan's counts as 10 nodes), is less.
    expect(at).toBeCloseTo(2 + 40 * 0.04, 6);
    // The plan's estimate for the same 100 nodes on one process was 100 × 0.2 / 4 = 5 s of warehouse work.
  });

  test("a measure above the machine's CPU per node (the run's first nodes cost more than most): the machine's", () => {
    const many = Array.from({ length: 1000 }, (_, i) => `test.p.t${String(i).padStart(4, '0')}`);
    const big = graphOf(many.map((u) => [u, [], 'test']));
    const measured = new Map(many.slice(0, 500).map((u) => [u, 0.16]));
    const on = (perNodeCpu: number): number =>
      predictGrown(
        big,
        () => 0.2,
        machine({ pool: true, perNodeCpu }),
        { slots: 4, active: 1 },
        {
          elapsed: 2,
          workers: 2,
          measured,
          cpuPerNode: 0.04,
        },
      );
    // 500 left, 250 per worker: at the machine's 0.03 s, not the measured 0.04 s; at 0.05 s, the measured 0.04 s.
    expect(on(0.03)).toBeCloseTo(2 + 250 * 0.03, 6);
    expect(on(0.05)).toBeCloseTo(2 + 250 * 0.04, 6);
  });

  test('nodes that waited in the warehouse: the rest is weighed by what they waited, on the slots the workers share', () => {
    const at = predictGrown(
      g,
      () => 0.2,
      m,
      { slots: 4, active: 1 },
      {
        elapsed: 2,
        workers: 2,
        measured: ended(1.16),
        cpuPerNode: 0.04,
      },
    );
    // Each ended node waited 1.16 − 4 × 0.04 = 1 s, 5 × the estimate: with the estimate counted as 10 nodes beside
    // the 20 measured, the 80 left weigh 0.2 × (20 × 5 + 10) / 30 each, over 2 workers × 2 slots.
    expect(at).toBeCloseTo(2 + (80 * 0.2 * (110 / 30)) / 4, 6);
  });

  test("without the worker's measure, the machine's CPU per node; a type none ended is scaled like all that did", () => {
    const mixed = graphOf([
      ...tests.slice(0, 20).map((u): [string, string[], string] => [u, [], 'test']),
      ['model.p.late', [], 'model'],
    ]);
    const at = predictGrown(
      mixed,
      (u) => (u.startsWith('model') ? 1 : 0.2),
      m,
      { slots: 2, active: 1 },
      {
        elapsed: 3,
        workers: 2,
        measured: ended(0.04 + 2 * 0.05),
      },
    );
    // Tests took 0.04 s beyond the 2 × 0.05 s their worker's threads queued: 0.2 of the estimate. The model,
    // never measured, is scaled like all 20 that were, with the estimate as 10 more: 1 s × (20 × 0.2 + 10) / 30.
    expect(at).toBeCloseTo(3 + 14 / 30, 6);
  });

  test('every node ended: the prediction is the time already run', () => {
    const all = new Map(tests.map((u) => [u, 0.1]));
    expect(predictGrown(g, () => 0.2, m, { slots: 4, active: 1 }, { elapsed: 7, workers: 2, measured: all })).toBe(7);
  });
});

describe('calibration: a pool predicts again from what a fifth of its nodes measured', () => {
  test('after a fifth of the run, and never before 40 nodes', () => {
    expect([
      calibrateAfter(10),
      calibrateAfter(95),
      calibrateAfter(200),
      calibrateAfter(836),
      calibrateAfter(1524),
    ]).toEqual([40, 40, 40, 168, 305]);
  });

  test('the measured nodes ran with the workers it has now: their threads, not one worker fewer, queued for the CPU', () => {
    // 100 tests, 20 ended; 2 workers shared 4 slots from the start (2 threads each) at 0.01 s of CPU per node, and
    // each ended test took 2 × 0.01 s of queueing plus 0.2 s in the warehouse: the estimate was right.
    const tests = Array.from({ length: 100 }, (_, i) => `test.p.t${String(i).padStart(3, '0')}`);
    const g = graphOf(tests.map((u) => [u, [], 'test']));
    const m = machine({ pool: true, startup: 0.5, perNodeCpu: 0.03 });
    const measured = new Map(tests.slice(0, 20).map((u) => [u, 0.2 + 2 * 0.01]));
    const calibrated = predictGrown(
      g,
      () => 0.2,
      m,
      { slots: 4, active: 2 },
      { elapsed: 1.5, workers: 2, measured, cpuPerNode: 0.01, measuredWith: 2 },
    );
    const plan = predictGrown(
      g,
      () => 0.2,
      m,
      { slots: 4, active: 2 },
      { elapsed: 1.5, workers: 2, measured: new Map(), cpuPerNode: 0.03 },
    );
    // The 80 left at the measured 0.01 s of CPU and their 0.2 s of warehouse, on 2 workers × 2 slots; the same with
    // the machine's 0.03 s is slower: the calibration is what moves the prediction.
    expect(calibrated).toBeLessThan(plan);
    // As a growth would (the measured nodes ran on 1 worker's 4 threads: 4 × 0.01 queued), the tests' warehouse time
    // would come out lower than the 0.2 s they waited.
    const asGrowth = predictGrown(
      g,
      () => 0.2,
      m,
      { slots: 4, active: 2 },
      { elapsed: 1.5, workers: 2, measured, cpuPerNode: 0.01 },
    );
    expect(asGrowth).toBeLessThan(calibrated);
  });

  test("a runner slower than the machine model's guess: the calibration plans the rest at the CPU it measured", () => {
    const tests = Array.from({ length: 100 }, (_, i) => `test.p.t${String(i).padStart(3, '0')}`);
    const g = graphOf(tests.map((u) => [u, [], 'test']));
    const m = machine({ pool: true, startup: 0.5, perNodeCpu: 0.03 });
    const measured = new Map(tests.slice(0, 20).map((u) => [u, 0.16]));
    const at = (measuredWith: number | undefined): number =>
      predictGrown(
        g,
        () => 0.2,
        m,
        { slots: 4, active: 2 },
        { elapsed: 2, workers: 2, measured, cpuPerNode: 0.08, measuredWith },
      );
    // 80 left, 40 per worker: at the measured 0.08 s of CPU each (their warehouse time is 0: 0.16 − 2 × 0.08).
    expect(at(2)).toBeCloseTo(2 + 40 * 0.08, 6);
    // A growth's measure (the first nodes) is capped at the machine's 0.03 s.
    expect(at(undefined)).toBeLessThan(at(2));
  });
});
