// The chunk scheduler (src/run/scheduler.ts) with an in-memory `launch`: each chunk "runs" its nodes one after the
// other with small real delays, asks `blocked` first as runChunk does, and reports each status live.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planChunks, type Chunk, type Plan } from '../src/plan/chunks.js';
import type { PlanGraph } from '../src/plan/graph.js';
import { getEventListeners } from 'node:events';
import { runSchedule, type ChunkReport, type Hold, type Launch } from '../src/run/scheduler.js';
import { syntheticResult, type RunResult } from '../src/dbt/run-results.js';
import { ancestors, dagArb, dagFrom, graphOf, planOf } from './support/graphs.js';
import { nodeStatus } from '../src/dbt/statuses.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function resultOf(uid: string, status: string): RunResult {
  return {
    ...syntheticResult(uid, 'error', ''),
    status: nodeStatus(status),
    message: status === 'success' ? null : `scripted ${status}`,
  };
}

interface Simulation {
  launch: Launch;
  /** Time-ordered "start uid" / "finish uid" (and "chunk+ n" / "chunk- n"). */
  log: string[];
  launched: number[];
  peak: () => number;
}

/** A fake dbt: nodes in chunk order, `delay(uid)` ms each, status from `statusOf` (default success). */
function simulate(
  o: { statusOf?: (uid: string) => string; delay?: (uid: string) => number; during?: (uid: string) => void } = {},
): Simulation {
  const log: string[] = [];
  const launched: number[] = [];
  let running = 0;
  let peak = 0;
  const launch: Launch = async (chunk, ctx) => {
    launched.push(chunk.index);
    peak = Math.max(peak, ++running);
    log.push(`chunk+ ${chunk.index}`);
    const local = new Map<string, RunResult>();
    for (const uid of chunk.nodes) {
      const why = ctx.blocked(uid, local);
      if (why !== undefined) {
        local.set(uid, syntheticResult(uid, 'skipped', why));
        continue;
      }
      log.push(`start ${uid}`);
      o.during?.(uid);
      await sleep(o.delay?.(uid) ?? 1);
      const status = o.statusOf?.(uid) ?? 'success';
      log.push(`finish ${uid}`);
      local.set(uid, resultOf(uid, status));
      ctx.onNodeStatus(uid, status);
    }
    log.push(`chunk- ${chunk.index}`);
    running--;
    return chunk.nodes.map((u) => local.get(u)!);
  };
  return { launch, log, launched, peak: () => peak };
}

/** Every node's single result, checking there is exactly one and that it is in its own chunk's report. */
function resultsByNode(plan: Plan, reports: ChunkReport[]): Map<string, RunResult> {
  const out = new Map<string, RunResult>();
  expect(reports.map((r) => r.chunk.index)).toEqual(plan.chunks.map((c) => c.index));
  for (const rep of reports) {
    expect(rep.results.map((r) => r.unique_id)).toEqual(rep.chunk.nodes);
    for (const r of rep.results) {
      expect(out.has(r.unique_id)).toBe(false);
      out.set(r.unique_id, r);
    }
  }
  expect(out.size).toBe(plan.chunks.reduce((s, c) => s + c.nodes.length, 0));
  return out;
}

describe('runSchedule on random plans', () => {
  const scenario = dagArb(50).chain((spec) =>
    fc.record({
      spec: fc.constant(spec),
      chunks: fc.integer({ min: 1, max: 6 }),
      parallel: fc.integer({ min: 1, max: 4 }),
      // A few scripted statuses: blocking (error, fail) and not (warn).
      scripted: fc.array(
        fc.tuple(fc.integer({ min: 0, max: spec.nodes.length - 1 }), fc.constantFrom('error', 'fail', 'warn')),
        { maxLength: 4 },
      ),
      delays: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: spec.nodes.length, maxLength: spec.nodes.length }),
    }),
  );

  test('parents finish first, failures skip exactly their descendants, one result per node, at most `parallel` chunks at once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ spec, chunks, parallel, scripted, delays }) => {
        const { graph, ids, weight } = dagFrom(spec);
        const plan = planChunks(graph, weight, { chunks, maxChunks: chunks, threads: 1, fixedCost: 0, perNodeCost: 0 });
        const statuses = new Map(scripted.map(([i, st]) => [ids[i], st]));
        const delay = new Map(ids.map((u, i) => [u, delays[i]]));
        const sim = simulate({ statusOf: (u) => statuses.get(u) ?? 'success', delay: (u) => delay.get(u)! });
        const started: number[] = [];
        const ended: number[] = [];
        const { chunks: reports } = await runSchedule({
          plan,
          graph,
          parallel,
          launch: sim.launch,
          onChunkStart: (c) => started.push(c.index),
          onChunkEnd: (r) => ended.push(r.chunk.index),
        });

        // No node starts before every parent has finished.
        const at = new Map(sim.log.map((e, i) => [e, i]));
        for (const u of ids) {
          if (!at.has(`start ${u}`)) continue;
          for (const p of graph.nodes.get(u)!.parents) {
            expect(at.get(`finish ${p}`) ?? Infinity).toBeLessThan(at.get(`start ${u}`)!);
          }
        }
        // Skipped exactly when downstream of a blocking status; everything else ran once with its status.
        const results = resultsByNode(plan, reports);
        const anc = ancestors(graph);
        const failing = new Set([...statuses].filter(([, st]) => st !== 'warn').map(([u]) => u));
        for (const u of ids) {
          const r = results.get(u)!;
          if ([...anc.get(u)!].some((a) => failing.has(a))) {
            expect({ u, status: r.status }).toEqual({ u, status: 'skipped' });
            expect(r.message).toMatch(
              /^Skipped: upstream \S+ (\(chunk \d+\) )?(was skipped|ended with status '(error|fail)')\.$/,
            );
            expect(at.has(`start ${u}`)).toBe(false);
          } else {
            expect({ u, status: r.status }).toEqual({ u, status: statuses.get(u) ?? 'success' });
            expect(sim.log.filter((e) => e === `start ${u}`)).toHaveLength(1);
          }
        }
        // Concurrency and bookkeeping.
        expect(sim.peak()).toBeLessThanOrEqual(parallel);
        expect([...started].sort((a, b) => a - b)).toEqual(plan.chunks.map((c) => c.index));
        expect([...ended].sort((a, b) => a - b)).toEqual(plan.chunks.map((c) => c.index));
        for (const rep of reports) expect(rep.endedAt! >= rep.startedAt!).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('runSchedule', () => {
  // a → b;  x is slow and independent.  chunk 1: [a, x], chunk 2: [b].
  const g = graphOf([
    ['model.p.a', []],
    ['model.p.x', []],
    ['model.p.b', ['model.p.a']],
  ]);
  const plan = planOf(g, [['model.p.a', 'model.p.x'], ['model.p.b']]);

  test('a chunk starts as soon as the nodes it needs report a status, not when their chunk ends', async () => {
    const sim = simulate({ delay: (u) => (u === 'model.p.x' ? 150 : 1) });
    await runSchedule({ plan, graph: g, parallel: 2, launch: sim.launch });
    expect(plan.chunks[1].dependsOn).toEqual([1]);
    expect(sim.log.indexOf('finish model.p.b')).toBeLessThan(sim.log.indexOf('finish model.p.x'));
    expect(sim.log.indexOf('start model.p.b')).toBeGreaterThan(sim.log.indexOf('finish model.p.a'));
  });

  test('with one slot, chunks run one at a time', async () => {
    const sim = simulate({ delay: (u) => (u === 'model.p.x' ? 20 : 1) });
    await runSchedule({ plan, graph: g, parallel: 1, launch: sim.launch });
    expect(sim.peak()).toBe(1);
    expect(sim.log.indexOf('chunk+ 2')).toBeGreaterThan(sim.log.indexOf('chunk- 1'));
  });

  test('a launch that throws: its nodes error with the reason, their descendants elsewhere are skipped', async () => {
    const sim = simulate();
    const launch: Launch = (chunk, ctx) =>
      chunk.index === 1 ? Promise.reject(new Error('spawn dbt ENOENT')) : sim.launch(chunk, ctx);
    const { chunks: reports } = await runSchedule({ plan, graph: g, parallel: 2, launch });
    const results = resultsByNode(plan, reports);
    expect(results.get('model.p.a')).toMatchObject({
      status: 'error',
      message: 'parallel-dbt could not run this chunk: spawn dbt ENOENT',
    });
    expect(results.get('model.p.b')).toMatchObject({
      status: 'skipped',
      message: "Skipped: upstream model.p.a (chunk 1) ended with status 'error'.",
    });
    expect(sim.log).not.toContain('start model.p.b');
  });

  test("a node missing from a chunk's results counts as error for its dependants", async () => {
    const sim = simulate();
    const launch: Launch = async (chunk, ctx) => {
      if (chunk.index !== 1) return sim.launch(chunk, ctx);
      return [resultOf('model.p.x', 'success')]; // dbt "forgot" a, and never reported it live
    };
    const { chunks: reports } = await runSchedule({ plan, graph: g, parallel: 2, launch });
    expect(reports[1].results).toEqual([expect.objectContaining({ unique_id: 'model.p.b', status: 'skipped' })]);
  });

  test('cancelled mid-run: the running chunk finishes, chunks not started report every node skipped, the promise resolves', async () => {
    // a → b → c, and d independent: four chunks, one slot.
    const g2 = graphOf([
      ['model.p.a', []],
      ['model.p.b', ['model.p.a']],
      ['model.p.c', ['model.p.b']],
      ['model.p.d', []],
    ]);
    const plan2 = planOf(g2, [['model.p.a'], ['model.p.b'], ['model.p.c'], ['model.p.d']]);
    const ac = new AbortController();
    const sim = simulate({ delay: () => 5, during: (u) => (u === 'model.p.a' ? ac.abort() : undefined) });
    const { chunks: reports } = await runSchedule({
      plan: plan2,
      graph: g2,
      parallel: 1,
      launch: sim.launch,
      signal: ac.signal,
    });
    expect(sim.launched).toEqual([1]);
    const results = resultsByNode(plan2, reports);
    expect(results.get('model.p.a')!.status).toBe('success');
    for (const u of ['model.p.b', 'model.p.c', 'model.p.d']) {
      expect(results.get(u)).toMatchObject({ status: 'skipped', message: 'Not run: the run was cancelled.' });
    }
    expect(reports.slice(1).every((r) => r.startedAt === undefined)).toBe(true);
  });

  test('cancelled before the start: nothing is launched', async () => {
    const ac = new AbortController();
    ac.abort();
    const sim = simulate();
    const { chunks: reports } = await runSchedule({
      plan,
      graph: g,
      parallel: 2,
      launch: sim.launch,
      signal: ac.signal,
    });
    expect(sim.launched).toEqual([]);
    expect(reports.flatMap((r) => r.results.map((x) => x.status))).toEqual(['skipped', 'skipped', 'skipped']);
  });

  test('a plan whose chunks wait on each other is refused, not hung', async () => {
    // b (chunk 1) needs a (chunk 2) and a needs b: neither chunk can ever start.
    const cyc: Chunk[] = [
      { index: 1, name: 'chunk-1', nodes: ['model.p.b'], dependsOn: [2], work: 1, predicted: 1 },
      { index: 2, name: 'chunk-2', nodes: ['model.p.a', 'model.p.x'], dependsOn: [1], work: 1, predicted: 1 },
    ];
    const g3: PlanGraph = graphOf([
      ['model.p.a', ['model.p.b']],
      ['model.p.x', []],
      ['model.p.b', ['model.p.a']],
    ]);
    await expect(
      runSchedule({
        plan: { chunks: cyc, makespan: 0, criticalPath: 0, totalWork: 0 },
        graph: g3,
        parallel: 2,
        launch: simulate().launch,
      }),
    ).rejects.toThrow(/cycle/);
  });

  test('fail-fast: after the first error nothing new starts, running chunks see the stop, the rest is skipped', async () => {
    // chunk 1: [a (errors), x]; chunk 2: [y] independent; one slot.
    const g5 = graphOf([
      ['model.p.a', []],
      ['model.p.x', []],
      ['model.p.y', []],
    ]);
    const plan5 = planOf(g5, [['model.p.a', 'model.p.x'], ['model.p.y']]);
    const sim = simulate({ statusOf: (u) => (u === 'model.p.a' ? 'error' : 'success') });
    let seen: unknown;
    const launch: Launch = async (chunk, ctx) => {
      const out = await sim.launch(chunk, ctx);
      seen = ctx.signal.aborted ? ctx.signal.reason : undefined;
      return out;
    };
    const { chunks: reports, stoppedBy } = await runSchedule({
      plan: plan5,
      graph: g5,
      parallel: 1,
      launch,
      failFast: true,
    });
    expect(sim.launched).toEqual([1]);
    const reason = {
      kind: 'fail-fast',
      after: { uid: 'model.p.a', status: 'error' },
      message: "Skipped: fail-fast after model.p.a ended with status 'error'.",
    };
    expect(seen).toEqual(reason);
    expect(stoppedBy).toEqual(reason);
    expect(resultsByNode(plan5, reports).get('model.p.y')).toMatchObject({
      status: 'skipped',
      message: "Skipped: fail-fast after model.p.a ended with status 'error'.",
    });
  });

  test("a stop asked by a chunk (dbt could not run) is the schedule's own: what never started is skipped with its message", async () => {
    const g5 = graphOf([
      ['model.p.a', []],
      ['model.p.y', []],
    ]);
    const plan5 = planOf(g5, [['model.p.a'], ['model.p.y']]);
    const launch: Launch = async (chunk, ctx) => {
      ctx.stop({ kind: 'fatal', message: 'Not run: dbt could not run (no profile)' });
      return chunk.nodes.map((u) => resultOf(u, 'error'));
    };
    const { chunks: reports, stoppedBy } = await runSchedule({ plan: plan5, graph: g5, parallel: 1, launch });
    expect(stoppedBy).toEqual({ kind: 'fatal', message: 'Not run: dbt could not run (no profile)' });
    expect(resultsByNode(plan5, reports).get('model.p.y')).toMatchObject({
      status: 'skipped',
      message: 'Not run: dbt could not run (no profile)',
    });
  });

  test('without fail-fast an error elsewhere does not stop independent chunks', async () => {
    const g5 = graphOf([
      ['model.p.a', []],
      ['model.p.y', []],
    ]);
    const plan5 = planOf(g5, [['model.p.a'], ['model.p.y']]);
    const sim = simulate({ statusOf: (u) => (u === 'model.p.a' ? 'error' : 'success') });
    const { chunks: reports, stoppedBy } = await runSchedule({
      plan: plan5,
      graph: g5,
      parallel: 1,
      launch: sim.launch,
    });
    expect(sim.launched).toEqual([1, 2]);
    expect(resultsByNode(plan5, reports).get('model.p.y')!.status).toBe('success');
    expect(stoppedBy).toBeUndefined();
  });

  test("the caller's cancellation reaches the running chunks through ctx.signal", async () => {
    const ac = new AbortController();
    let aborted = false;
    const launch: Launch = async (chunk, ctx) => {
      ac.abort();
      aborted = ctx.signal.aborted;
      return chunk.nodes.map((u) => resultOf(u, 'success'));
    };
    const { stoppedBy } = await runSchedule({ plan, graph: g, parallel: 1, launch, signal: ac.signal });
    expect(aborted).toBe(true);
    expect(stoppedBy).toBeUndefined(); // the caller knows its own cancellation
  });

  test('one abort listener for the whole run, removed when it ends (however many times the loop turns)', async () => {
    // Ten independent chunks, one slot, and a stagger: the loop turns at least once per chunk and per stagger wait.
    const ids = Array.from({ length: 10 }, (_, i) => `model.p.n${i}`);
    const g10 = graphOf(ids.map((u) => [u, []]));
    const plan10 = planOf(
      g10,
      ids.map((u) => [u]),
    );
    const signals = new Set<AbortSignal>();
    const during: number[] = [];
    const launch: Launch = async (chunk, ctx) => {
      signals.add(ctx.signal);
      during.push(getEventListeners(ctx.signal, 'abort').length);
      return chunk.nodes.map((u) => resultOf(u, 'success'));
    };
    const ac = new AbortController();
    await runSchedule({ plan: plan10, graph: g10, parallel: 1, launch, signal: ac.signal, staggerMs: 2 });
    expect(signals.size).toBe(1);
    expect(during).toHaveLength(10);
    expect(Math.max(...during)).toBe(1);
    expect(getEventListeners([...signals][0], 'abort')).toHaveLength(0);
    expect(getEventListeners(ac.signal, 'abort').length).toBeLessThanOrEqual(1); // AbortSignal.any's own link, if any
  });

  test('stagger spaces the starts without telling onWait; each new hold from admit is told once', async () => {
    const ids = ['model.p.a', 'model.p.b', 'model.p.c'];
    const g3 = graphOf(ids.map((u) => [u, []]));
    const plan3 = planOf(
      g3,
      ids.map((u) => [u]),
    );
    const startedAt: number[] = [];
    const launch: Launch = async (chunk) => {
      startedAt.push(Date.now());
      await sleep(1);
      return chunk.nodes.map((u) => resultOf(u, 'success'));
    };
    const holds: Hold[] = [];
    let asked = 0;
    // Chunk 3 is held for its schema for its first few asks, then for memory once, then admitted.
    const admit = (c: Chunk): Hold | undefined => {
      if (c.index !== 3) return undefined;
      asked++;
      if (asked <= 3) return { kind: 'schema', line: 'schema db.s: chunk 3 waits for chunk 1 to create it' };
      return asked === 4 ? { kind: 'memory', line: 'memory use 95% is above memory-limit-percent 90%' } : undefined;
    };
    const staggerMs = 30;
    const { chunks } = await runSchedule({
      plan: plan3,
      graph: g3,
      parallel: 3,
      launch,
      staggerMs,
      admit,
      onWait: (h) => holds.push(h),
    });
    expect(chunks.every((c) => c.results[0]?.status === 'success')).toBe(true);
    expect(startedAt).toHaveLength(3);
    for (let i = 1; i < startedAt.length; i++)
      expect(startedAt[i] - startedAt[i - 1]).toBeGreaterThanOrEqual(staggerMs - 1);
    expect(holds).toEqual([
      { kind: 'schema', line: 'schema db.s: chunk 3 waits for chunk 1 to create it' },
      { kind: 'memory', line: 'memory use 95% is above memory-limit-percent 90%' },
    ]);
  });
});
