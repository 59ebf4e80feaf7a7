// run/share.ts and run/stall.ts: how the invocations of one forked run share it (hook roles, statuses as workers
// need them, resends) and when a gated node counts as stalled. Pure: no dbt.
import { describe, expect, test } from '@jest/globals';
import { RunShare, type StatusFeed } from '../src/run/share.js';
import { StallWatch, stalledLine } from '../src/run/stall.js';
import { START_UID, type PeerStatus } from '../src/dbt/process.js';
import { blocksDownstream } from '../src/dbt/statuses.js';
import type { PlanGraph } from '../src/plan/graph.js';

/** A status board like the scheduler's. */
function board(): StatusFeed & { settle: (uid: string, st: string) => void } {
  const status = new Map<string, string>();
  const listeners = new Set<(uid: string, st: string) => void>();
  return {
    statusOf: (uid) => status.get(uid),
    known: () => [...status],
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    settle: (uid, st) => {
      status.set(uid, st);
      for (const l of listeners) l(uid, st);
    },
  };
}

const continues = new Set(['model.p.keeps_going']);
const blocks = (uid: string, st: string): boolean => blocksDownstream(st, continues.has(uid));

describe('RunShare', () => {
  test('the first invocation runs on-run-start; later ones wait until it has run, then skip it; none runs on-run-end', () => {
    const feed = board();
    const run = new RunShare(['model.p.a', 'model.p.b'], true, blocks);
    const first = run.invocation(feed, undefined, feed.statusOf);
    const second = run.invocation(feed, undefined, feed.statusOf);
    expect([first.share.start, second.share.start]).toEqual(['run', 'wait']);
    expect([first.share.end, second.share.end]).toEqual(['skip', 'skip']);
    const heard: [string, PeerStatus][] = [];
    second.share.subscribe((uid, st) => heard.push([uid, st]));
    first.share.onNotice?.({ notice: 'started', ok: true });
    expect(heard).toEqual([[START_UID, 0]]);
    expect(run.startSettled).toBe(true);
    const third = run.invocation(feed, undefined, feed.statusOf);
    expect(third.share.start).toBe('skip');
    expect(third.share.known).toEqual([[START_UID, 0]]);
  });

  test('a start worker that ends without saying its hooks ran releases the waiting ones as failed', () => {
    const feed = board();
    const run = new RunShare(['model.p.a'], true, blocks);
    const first = run.invocation(feed, undefined, feed.statusOf);
    const second = run.invocation(feed, undefined, feed.statusOf);
    const heard: [string, PeerStatus][] = [];
    second.share.subscribe((uid, st) => heard.push([uid, st]));
    first.ended();
    expect(heard).toEqual([[START_UID, 1]]);
    expect(run.endInvocation('/r.json')).toMatchObject({
      start: 'skip',
      end: 'run',
      results: '/r.json',
      known: [[START_UID, 1]],
    });
  });

  test('statuses reach workers as they need them: built, blocking, or neither (on_error: continue)', () => {
    const feed = board();
    const run = new RunShare(['model.p.a'], true, blocks);
    run.invocation(feed, undefined, feed.statusOf);
    const inv = run.invocation(feed, { 'model.p.child': ['model.p.parent', 'model.p.keeps_going'] }, (uid) =>
      uid === 'model.p.parent' ? 'error' : undefined,
    );
    expect(inv.share.known).toEqual([['model.p.parent', 1]]);
    const heard: [string, PeerStatus][] = [];
    inv.share.subscribe((uid, st) => heard.push([uid, st]));
    feed.settle('model.p.ok', 'success');
    feed.settle('test.p.t', 'pass');
    feed.settle('test.p.w', 'warn');
    feed.settle('model.p.keeps_going', 'error');
    feed.settle('model.p.bad', 'error');
    feed.settle('model.p.skipped_continue', 'skipped');
    expect(heard).toEqual([
      ['model.p.ok', 0],
      ['test.p.t', 0],
      ['test.p.w', 0],
      ['model.p.keeps_going', 2],
      ['model.p.bad', 1],
      ['model.p.skipped_continue', 1],
    ]);
  });

  test("relations one worker's cache dropped reach every other running invocation, not the one that dropped them", () => {
    const feed = board();
    const run = new RunShare(['model.p.a'], true, blocks);
    const a = run.invocation(feed, undefined, feed.statusOf);
    const b = run.invocation(feed, undefined, feed.statusOf);
    const c = run.invocation(feed, undefined, feed.statusOf);
    const told: Record<string, unknown[]> = { a: [], b: [], c: [] };
    a.share.subscribeDrops?.((r) => told.a.push(r));
    b.share.subscribeDrops?.((r) => told.b.push(r));
    const offC = c.share.subscribeDrops?.((r) => told.c.push(r));
    offC?.();
    a.share.onNotice?.({ notice: 'dropped', relations: [['db', 'marts', 'region_revenue']] });
    expect(told).toEqual({ a: [], b: [[['db', 'marts', 'region_revenue']]], c: [] });
  });

  test("the workers' measures: each one's latest, weighed by the nodes it covers; told as they come", () => {
    const feed = board();
    const run = new RunShare(['model.p.a'], true, blocks);
    const a = run.invocation(feed, undefined, feed.statusOf);
    const b = run.invocation(feed, undefined, feed.statusOf);
    let told = 0;
    run.onMeasured = () => told++;
    expect(run.measuredCpu()).toBeUndefined();
    a.share.onNotice?.({ notice: 'measured', nodes: 25, cpu_per_node: 0.04 });
    a.share.onNotice?.({ notice: 'measured', nodes: 50, cpu_per_node: 0.02 });
    b.share.onNotice?.({ notice: 'measured', nodes: 25, cpu_per_node: 0.05 });
    // a's latest (50 nodes at 0.02) and b's (25 at 0.05): (1 + 1.25) / 75.
    expect(run.measuredCpu()?.nodes).toBe(75);
    expect(run.measuredCpu()?.cpuPerNode).toBeCloseTo(0.03, 9);
    expect(told).toBe(3);
  });

  test('resend repeats known statuses to the invocations that run now, not to ended ones', () => {
    const feed = board();
    const run = new RunShare(['model.p.a'], true, blocks);
    const a = run.invocation(feed, undefined, feed.statusOf);
    const b = run.invocation(feed, undefined, feed.statusOf);
    const heardA: string[] = [];
    const heardB: string[] = [];
    const offA = a.share.subscribe((uid) => heardA.push(uid));
    b.share.subscribe((uid) => heardB.push(uid));
    a.share.onNotice?.({ notice: 'started', ok: true });
    feed.settle('model.p.x', 'success');
    offA();
    heardA.length = 0;
    heardB.length = 0;
    run.resend(['model.p.x', 'model.p.unknown'], feed.statusOf);
    expect(heardA).toEqual([]);
    expect(heardB).toEqual(['model.p.x', START_UID]);
  });
});

describe('StallWatch', () => {
  const graph: PlanGraph = {
    nodes: new Map([
      ['model.p.a', { uid: 'model.p.a', resourceType: 'model', parents: [] }],
      ['model.p.b', { uid: 'model.p.b', resourceType: 'model', parents: ['model.p.a'] }],
      ['model.p.c', { uid: 'model.p.c', resourceType: 'model', parents: ['model.p.b'] }],
    ]),
  };

  test('a node whose parents all ended, in a running worker with nothing in progress: resend after stallMs, stop after twice', () => {
    const status = new Map<string, string>([['model.p.a', 'success']]);
    const w = new StallWatch(graph, (u) => status.get(u), 1000);
    w.chunkStarted(1, ['model.p.b', 'model.p.c']);
    expect(w.check(0)).toEqual([]); // still starting up
    // A start-up that lasts: the news that on-run-start ran is sent again, once; a start-up is never stopped.
    expect(w.check(1000)).toEqual([{ kind: 'resend', chunk: 1, nodes: [] }]);
    expect(w.check(5000)).toEqual([]);
    w.chunkRunning(1);
    expect(w.check(0)).toEqual([]);
    expect(w.check(999)).toEqual([]);
    const nodes = [{ uid: 'model.p.b', parents: [{ uid: 'model.p.a', status: 'success' }] }];
    expect(w.check(1000)).toEqual([{ kind: 'resend', chunk: 1, nodes }]);
    expect(w.check(1500)).toEqual([]);
    expect(w.check(2000)).toEqual([{ kind: 'stop', chunk: 1, nodes, seconds: 2 }]);
    expect(w.check(9000)).toEqual([]); // stopped once
    expect(stalledLine(nodes)).toBe('model.p.b (its parents model.p.a: success)');
  });

  test('a node that becomes ready after a resend gets its own resend before any stop', () => {
    const status = new Map<string, string>([['model.p.a', 'success']]);
    const w = new StallWatch(graph, (u) => status.get(u), 1000);
    w.chunkStarted(1, ['model.p.b', 'model.p.c']);
    w.chunkRunning(1);
    w.check(0);
    expect(w.check(1000)).toMatchObject([{ kind: 'resend', nodes: [{ uid: 'model.p.b' }] }]);
    status.set('model.p.b', 'success'); // b ran (its status came late); c is ready now
    expect(w.check(1500)).toEqual([]);
    expect(w.check(2400)).toEqual([]);
    expect(w.check(2500)).toMatchObject([{ kind: 'resend', nodes: [{ uid: 'model.p.c' }] }]);
    expect(w.check(3500)).toMatchObject([{ kind: 'stop', nodes: [{ uid: 'model.p.c' }], seconds: 2 }]);
  });

  test('nothing stalls while a node is in progress, while parents have not ended, or once the node started', () => {
    const status = new Map<string, string>();
    const w = new StallWatch(graph, (u) => status.get(u), 1000);
    w.chunkStarted(1, ['model.p.b', 'model.p.c']);
    w.chunkRunning(1);
    expect(w.check(5000)).toEqual([]); // model.p.a has not ended
    status.set('model.p.a', 'success');
    w.nodeStarted(1, 'model.p.b');
    expect(w.check(6000)).toEqual([]);
    expect(w.check(9000)).toEqual([]);
    w.nodeEnded(1, 'model.p.b');
    status.set('model.p.b', 'success');
    expect(w.check(10000)).toEqual([]); // c became ready just now
    expect(w.check(11000)).toMatchObject([{ kind: 'resend', chunk: 1 }]);
    w.chunkEnded(1);
    expect(w.check(20000)).toEqual([]);
  });
});
