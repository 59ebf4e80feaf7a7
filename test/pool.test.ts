// The pool runner (src/run/pool.ts) with in-memory workers: each takes the next node whose parents have final statuses
// from one shared claim set (as worker_host.py WorkPool claims in its folder), "runs" it with a small real delay and
// reports its status live; the real pool is driven through dbt by the integration tests (features, e2e, faults).
import { describe, expect, test } from '@jest/globals';
import { runPool } from '../src/run/pool.js';
import type { Launch, LaunchContext } from '../src/run/scheduler.js';
import type { Plan } from '../src/plan/chunks.js';
import { syntheticResult, type RunResult } from '../src/dbt/run-results.js';
import { nodeStatus } from '../src/dbt/statuses.js';
import { graphOf, planOf } from './support/graphs.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const GRAPH = graphOf([
  ['model.p.a', []],
  ['model.p.b', ['model.p.a']],
  ['model.p.c', ['model.p.a']],
  ['model.p.d', ['model.p.b', 'model.p.c']],
  ['model.p.e', []],
  ['model.p.f', ['model.p.e']],
]);
const ALL = [...GRAPH.nodes.keys()];

function pooled(chunks: string[][]): Plan {
  return { ...planOf(GRAPH, chunks), nodeGates: true, pooled: { slots: 0, active: chunks.length } };
}

function result(uid: string, status: string): RunResult {
  return { ...syntheticResult(uid, 'error', ''), status: nodeStatus(status), message: null };
}

/** Workers that claim from one set: `statusOf` scripts a node's status, `dies` makes a worker end after claiming. */
function pool(o: { statusOf?: (uid: string) => string; dies?: string; delay?: number } = {}): {
  launch: Launch;
  ranBy: Map<string, string>;
} {
  const claimed = new Set<string>();
  const ranBy = new Map<string, string>();
  const launch: Launch = async (chunk, ctx: LaunchContext) => {
    const mine: RunResult[] = [];
    for (;;) {
      if (ctx.signal.aborted) break;
      const left = ALL.filter((u) => !claimed.has(u));
      if (left.length === 0 && ALL.every((u) => ctx.statusOf(u) !== undefined)) break;
      const ready = left.find((u) => GRAPH.nodes.get(u)!.parents.every((p) => ctx.statusOf(p) !== undefined));
      if (ready === undefined) {
        await sleep(2);
        continue;
      }
      claimed.add(ready);
      ranBy.set(ready, chunk.name);
      if (o.dies === ready) throw new Error('the worker died');
      await sleep(o.delay ?? 5);
      const parentFailed = GRAPH.nodes
        .get(ready)!
        .parents.some((p) => ['error', 'skipped'].includes(ctx.statusOf(p) ?? ''));
      const status = parentFailed ? 'skipped' : (o.statusOf?.(ready) ?? 'success');
      ctx.onNodeStatus(ready, status);
      mine.push(result(ready, status));
    }
    return mine;
  };
  return { launch, ranBy };
}

describe('runPool', () => {
  test("every node once, each in the chunk of the worker that ran it, whatever the plan's prediction", async () => {
    const p = pool();
    const s = await runPool({
      plan: pooled([ALL.slice(0, 3), ALL.slice(3)]),
      graph: GRAPH,
      parallel: 2,
      launch: p.launch,
    });
    const got = s.chunks.flatMap((c) => c.results.map((r) => r.unique_id));
    expect(got.sort()).toEqual([...ALL].sort());
    for (const c of s.chunks) {
      expect(c.chunk.nodes).toEqual(c.results.map((r) => r.unique_id));
      for (const u of c.chunk.nodes) expect(p.ranBy.get(u)).toBe(c.chunk.name);
    }
    expect(new Set(p.ranBy.values())).toEqual(new Set(['chunk-1', 'chunk-2']));
    expect(s.stoppedBy).toBeUndefined();
  });

  test('fail-fast stops the pool; nodes no worker ran are skipped with the reason, in their predicted chunk', async () => {
    const p = pool({ statusOf: (u) => (u === 'model.p.a' ? 'error' : 'success'), delay: 20 });
    const s = await runPool({
      plan: pooled([
        ['model.p.a', 'model.p.b', 'model.p.c'],
        ['model.p.d', 'model.p.e', 'model.p.f'],
      ]),
      graph: GRAPH,
      parallel: 2,
      failFast: true,
      launch: p.launch,
    });
    expect(s.stoppedBy).toMatchObject({ kind: 'fail-fast', after: { uid: 'model.p.a', status: 'error' } });
    const byUid = new Map(s.chunks.flatMap((c) => c.results).map((r) => [r.unique_id, r]));
    expect([...byUid.keys()].sort()).toEqual([...ALL].sort());
    expect(byUid.get('model.p.a')?.status).toBe('error');
    expect(byUid.get('model.p.d')).toMatchObject({
      status: 'skipped',
      message: "Skipped: fail-fast after model.p.a ended with status 'error'.",
    });
    expect(s.chunks[1].chunk.nodes).toContain('model.p.d');
  });

  test('a worker that fails stops the run as fatal: nothing waits for it, and no node is left without a result', async () => {
    const p = pool({ dies: 'model.p.b' });
    const s = await runPool({
      plan: pooled([ALL.slice(0, 3), ALL.slice(3)]),
      graph: GRAPH,
      parallel: 2,
      launch: p.launch,
    });
    expect(s.stoppedBy).toMatchObject({ kind: 'fatal' });
    expect(s.stoppedBy?.message).toContain('the worker died');
    const results = s.chunks.flatMap((c) => c.results);
    expect(results.map((r) => r.unique_id).sort()).toEqual([...ALL].sort());
    expect(results.find((r) => r.unique_id === 'model.p.b')?.status).toBe('skipped');
  });

  test('the stagger spaces the workers; a cancel before the second start leaves it unstarted', async () => {
    const ctl = new AbortController();
    const starts: number[] = [];
    const p = pool();
    const s = await runPool({
      plan: pooled([ALL.slice(0, 3), ALL.slice(3)]),
      graph: GRAPH,
      parallel: 2,
      staggerMs: 200,
      signal: ctl.signal,
      onChunkStart: (c) => {
        starts.push(c.index);
        if (c.index === 1) setTimeout(() => ctl.abort(), 20);
      },
      launch: p.launch,
    });
    expect(starts).toEqual([1]);
    expect(s.chunks[1].startedAt).toBeUndefined();
    const results = s.chunks.flatMap((c) => c.results);
    expect(results.map((r) => r.unique_id).sort()).toEqual([...ALL].sort());
    expect(results.filter((r) => r.status === 'skipped').length).toBeGreaterThan(0);
  });
});

describe('runPool with spares (a pool that grows)', () => {
  const three = (): Plan => ({
    ...planOf(GRAPH, [ALL.slice(0, 2), ALL.slice(2, 4), ALL.slice(4)]),
    nodeGates: true,
    pooled: { slots: 4, active: 1 },
  });

  test('the worker taking nodes and one spare start; a spare the run never needs never starts and is no chunk', async () => {
    const started: number[] = [];
    const p = pool();
    const s = await runPool({
      plan: three(),
      graph: GRAPH,
      parallel: 3,
      spares: { atOnce: 2, grown: () => {} },
      onChunkStart: (c) => started.push(c.index),
      launch: p.launch,
    });
    expect(started).toEqual([1, 2]);
    expect(s.chunks.map((c) => c.chunk.name)).toEqual(['chunk-1', 'chunk-2']);
    expect(s.chunks.flatMap((c) => c.results.map((r) => r.unique_id)).sort()).toEqual([...ALL].sort());
  });

  test('when the pool grows to two workers taking nodes, the next spare starts, and the run waits for it', async () => {
    const started: number[] = [];
    let grow: (workers: number) => void = () => {};
    const p = pool({ delay: 15 });
    const s = await runPool({
      plan: three(),
      graph: GRAPH,
      parallel: 3,
      spares: {
        atOnce: 2,
        grown: (l) => {
          grow = l;
        },
      },
      onChunkStart: (c) => {
        started.push(c.index);
        if (c.index === 2) setTimeout(() => grow(2), 5);
      },
      launch: p.launch,
    });
    expect(started).toEqual([1, 2, 3]);
    expect(s.chunks.map((c) => c.chunk.name)).toEqual(['chunk-1', 'chunk-2', 'chunk-3']);
    expect(s.chunks.every((c) => c.endedAt !== undefined)).toBe(true);
    expect(s.chunks.flatMap((c) => c.results.map((r) => r.unique_id)).sort()).toEqual([...ALL].sort());
  });
});
