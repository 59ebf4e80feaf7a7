// Live progress (src/run/progress.ts) fed with the captured real dbt JSON log of the red run.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbtLogEvent } from '../src/dbt/events.js';
import type { RunResultsArtifact } from '../src/dbt/run-results.js';
import { clock, progressDue, progressLine, ProgressTracker } from '../src/run/progress.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CAPTURED = join(ROOT, 'test', 'fixtures', 'captured', 'red');
const events = readFileSync(join(CAPTURED, 'build.log.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as DbtLogEvent);
const results = (JSON.parse(readFileSync(join(CAPTURED, 'run_results.json'), 'utf8')) as RunResultsArtifact).results;
const T0 = Date.parse('2026-11-24T14:14:55Z');

describe('ProgressTracker on the captured red build', () => {
  test('counts every node once from the result events, says failures at once, and ends at 99/99', () => {
    const t = new ProgressTracker({ nodes: results.map((r) => r.unique_id), startedAt: T0 - 3000 });
    t.chunkStarted('chunk-1', T0);
    const failures: string[] = [];
    for (const ev of events) {
      const f = t.event('chunk-1', ev);
      if (f !== undefined) failures.push(f);
    }
    expect(failures).toEqual([
      '✖ chunk-1 · model order_unit_margin: error in 0.05 s',
      '✖ chunk-1 · test assert_every_campaign_is_profitable: fail, 2 failing rows in 0.22 s',
    ]);
    // Everything was announced by events (skipped included): the artifact adds nothing, says nothing new.
    expect(t.chunkEnded('chunk-1', T0 + 2500, results)).toEqual([]);
    expect(t.line(T0 + 2500)).toBe('[ 99/99 ] 0 chunks running · 2 failed · 1 skipped · 1 warned · 00:06 elapsed');
  });

  test('the line while running: counter padded to the total, time left from the weighted share done', () => {
    const uids = results.map((r) => r.unique_id);
    const t = new ProgressTracker({ nodes: uids });
    t.chunkStarted('a', T0);
    t.chunkStarted('b', T0 + 1000);
    t.chunkStarted('c', T0 + 1000);
    for (const u of uids.slice(0, 33)) t.nodeFinished(u, 'success');
    t.nodeFinished(uids[40], 'error');
    // 34 of 99 done after 60 s: 60 × 65/34 ≈ 115 s left.
    expect(t.line(T0 + 60_000)).toBe('[ 34/99 ] 3 chunks running · 1 failed · 01:00 elapsed · ~01:55 left');
    expect(t.state(T0 + 60_000)).toMatchObject({ done: 34, total: 99, running: 3 });
  });

  test('weights make the estimate follow the work, not the node count', () => {
    const t = new ProgressTracker({ nodes: ['a', 'b', 'c'], weight: (u) => (u === 'c' ? 8 : 1) });
    t.chunkStarted('x', 0);
    t.nodeFinished('a', 'pass');
    t.nodeFinished('b', 'pass');
    // 2 of 10 units in 20 s: 80 s left (by count it would be 10 s).
    expect(t.line(20_000)).toBe('[ 2/3 ] 1 chunk running · 0 failed · 00:20 elapsed · ~01:20 left');
  });

  test('failures only known at a chunk’s end (a crash, a timeout) are said then; other chunks’ nodes are ignored', () => {
    const t = new ProgressTracker({
      nodes: ['model.p.a', 'model.p.b'],
      describe: (u) => ({ resourceType: 'model', name: u.split('.')[2], file: `models/${u.split('.')[2]}.sql` }),
    });
    t.chunkStarted('chunk-2', 0);
    expect(t.nodeFinished('model.p.other', 'error')).toBe(false);
    const lines = t.chunkEnded('chunk-2', 1000, [
      { unique_id: 'model.p.a', status: 'success' },
      { unique_id: 'model.p.b', status: 'error', message: 'Timed out: the chunk ran longer than 30 minute(s)\nmore' },
    ]);
    expect(lines).toEqual([
      '✖ chunk-2 · model b (models/b.sql): error — Timed out: the chunk ran longer than 30 minute(s)',
    ]);
  });

  test('take() prints the first line once something finished, then only when due', () => {
    const t = new ProgressTracker({
      nodes: ['a', 'b', 'c', 'd'],
      everyMs: 10_000,
      everyFraction: 0.5,
      minGapMs: 2_000,
      heartbeatMs: 60_000,
    });
    t.chunkStarted('x', 0);
    expect(t.take(1000)).toBeUndefined(); // nothing finished yet
    t.nodeFinished('a', 'pass');
    expect(t.take(1500)).toMatch(/^\[ 1\/4 \]/);
    t.nodeFinished('b', 'pass');
    expect(t.take(2000)).toBeUndefined(); // too soon, and only 25 % more
    t.nodeFinished('c', 'pass');
    expect(t.take(2500)).toBeUndefined(); // 50 % more, but within minGap
    expect(t.take(3500)).toMatch(/^\[ 3\/4 \]/);
    t.nodeFinished('d', 'pass');
    expect(t.take(3600)).toMatch(/^\[ 4\/4 \]/); // completion is always said
  });
});

describe('progressDue', () => {
  const o = { everyMs: 10_000, everyFraction: 0.05, minGapMs: 2_000, heartbeatMs: 60_000 };
  test.each([
    ['nothing printed, nothing done', undefined, 0, 0, false],
    ['nothing printed, one done', undefined, 0, 1, true],
    ['10 s later with progress', { at: 0, done: 10 }, 10_000, 11, true],
    ['9 s later, little progress', { at: 0, done: 10 }, 9_000, 11, false],
    ['5 % more, 2 s later', { at: 0, done: 10 }, 2_000, 60, true],
    ['5 % more, 1 s later', { at: 0, done: 10 }, 1_000, 60, false],
    ['no progress, 59 s later', { at: 0, done: 10 }, 59_000, 10, false],
    ['no progress, 60 s later (heartbeat)', { at: 0, done: 10 }, 60_000, 10, true],
    ['completion, right away', { at: 0, done: 999 }, 100, 1000, true],
  ])('%s', (_what, last, now, done, due) => {
    expect(progressDue(last, now, done, 1000, o)).toBe(due);
  });
});

test('progressLine and clock', () => {
  expect(
    progressLine({
      done: 412,
      total: 1730,
      running: 3,
      elapsedMs: 192_000,
      leftMs: 100_000,
      counts: { passed: 400, failed: 1, errored: 1, warned: 0, skipped: 0 },
    }),
  ).toBe('[  412/1730 ] 3 chunks running · 2 failed · 03:12 elapsed · ~01:40 left');
  expect(clock(3_723_000)).toBe('1:02:03');
  expect(clock(-5)).toBe('00:00');
});
