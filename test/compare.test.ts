// The comparison with the base (src/report/compare.ts, src/report/base.ts) and comment-mode
// (src/report/github/comment.ts): labels, fixed nodes, the thresholds for slow-downs and row counts, what a
// base file that cannot be used does, and when the PR comment is written (real Octokit, local API stand-in).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBase } from '../src/report/base.js';
import { baseNodeOf, compareRuns, passesFailOn, type Base } from '../src/report/compare.js';
import { flakyOf, type NodeOutcome, type RunReport, countOf } from '../src/report/model.js';
import { annotationsFor } from '../src/report/annotations.js';
import { createOctokit, type RetryPolicy } from '../src/report/github/client.js';
import { keptLines, type KeptLines } from './support/log.js';
import {
  commentMarker,
  problemState,
  renderPrComment,
  shouldWriteComment,
  upsertPrComment,
} from '../src/report/github/comment.js';
import { startGithubApi, type GithubApi } from './support/github-api.js';
import { nodeStatus } from '../src/dbt/statuses.js';
import { runResultsJson } from './support/run-results.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FAST: RetryPolicy = { delaysMs: [5, 10], sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

function node(uid: string, bucket: NodeOutcome['bucket'], extra: Partial<NodeOutcome> = {}): NodeOutcome {
  const status = {
    passed: uid.startsWith('test.') ? 'pass' : 'success',
    failed: 'fail',
    errored: 'error',
    warned: 'warn',
    skipped: 'skipped',
  }[bucket];
  return {
    uid,
    name: uid.split('.')[2],
    resourceType: uid.split('.')[0],
    status,
    bucket,
    message: null,
    failures: null,
    seconds: 1,
    chunk: 'chunk-1',
    ...extra,
  };
}

function base(entries: [string, string, number?, number?][]): Base {
  return {
    files: ['/base/run_results.json'],
    nodes: new Map(
      entries.map(([u, status, seconds, rows]) => [
        u,
        baseNodeOf({
          status: nodeStatus(status),
          execution_time: seconds ?? 1,
          adapter_response: rows === undefined ? {} : { rows_affected: rows },
        }),
      ]),
    ),
  };
}

function report(nodes: NodeOutcome[], extra: Partial<RunReport> = {}): RunReport {
  const counts = countOf(nodes);
  return {
    command: 'build',
    ok: counts.failed + counts.errored + counts.skipped === 0,
    counts,
    wallSeconds: 1,
    chunks: [],
    nodes,
    notes: [],
    ...extra,
  };
}

describe('compareRuns', () => {
  test('labels: new when passed or absent on the base, existing when failing there; fixed when failing there and passing here', () => {
    const nodes = [
      node('model.p.was_green', 'errored'),
      node('model.p.absent', 'errored'),
      node('test.p.still_red', 'failed'),
      node('model.p.skipped_both', 'skipped'),
      node('test.p.warned_both', 'warned'),
      node('test.p.warned_new', 'warned'),
      node('model.p.fixed', 'passed'),
      node('test.p.fixed_to_warn', 'warned'),
      node('model.p.green', 'passed'),
    ];
    const b = base([
      ['model.p.was_green', 'success'],
      ['test.p.still_red', 'fail'],
      ['model.p.skipped_both', 'skipped'],
      ['test.p.warned_both', 'warn'],
      ['test.p.warned_new', 'pass'],
      ['model.p.fixed', 'error'],
      ['test.p.fixed_to_warn', 'fail'],
      ['model.p.green', 'success'],
    ]);
    const c = compareRuns(nodes, b);
    expect(Object.fromEntries(c.since)).toEqual({
      'model.p.was_green': 'new',
      'model.p.absent': 'new',
      'test.p.still_red': 'existing',
      'model.p.skipped_both': 'existing',
      'test.p.warned_both': 'existing',
      'test.p.warned_new': 'new',
      'test.p.fixed_to_warn': 'existing',
    });
    expect(c.newFailures).toEqual(['model.p.was_green', 'model.p.absent']);
    expect(c.existingFailures).toEqual(['test.p.still_red', 'model.p.skipped_both']);
    expect(c.fixed).toEqual([
      { uid: 'model.p.fixed', baseStatus: 'error' },
      { uid: 'test.p.fixed_to_warn', baseStatus: 'fail' },
    ]);
    expect(passesFailOn(nodes, c, 'new')).toBe(false);
    // Without the new failures, fail-on: new passes while the old ones are still there (and fail-on: any fails).
    const rest = nodes.filter((n) => !c.newFailures.includes(n.uid));
    expect(passesFailOn(rest, compareRuns(rest, b), 'new')).toBe(true);
    expect(passesFailOn(rest, compareRuns(rest, b), 'any')).toBe(false);
  });

  test('no base: every problem is new, nothing fixed', () => {
    const c = compareRuns(
      [node('model.p.a', 'errored'), node('model.p.b', 'skipped'), node('model.p.c', 'passed')],
      undefined,
    );
    expect(c.newFailures).toEqual(['model.p.a', 'model.p.b']);
    expect(c.fixed).toEqual([]);
  });

  test('slower: at least 2× and 5 s more, the largest slow-downs first, top 10', () => {
    const nodes = [
      node('model.p.twice_but_small', 'passed', { seconds: 8 }), // 4 → 8: +4 s only
      node('model.p.slow', 'passed', { seconds: 12 }), // 5 → 12: 2.4×, +7 s
      node('model.p.much_slower', 'passed', { seconds: 40 }), // 10 → 40
      node('model.p.not_twice', 'passed', { seconds: 30 }), // 20 → 30: +10 s, 1.5×
      node('model.p.skipped', 'skipped', { seconds: 0 }),
      ...Array.from({ length: 12 }, (_, i) => node(`model.p.many_${i}`, 'passed', { seconds: 20 + i })),
    ];
    const c = compareRuns(
      nodes,
      base([
        ['model.p.twice_but_small', 'success', 4],
        ['model.p.slow', 'success', 5],
        ['model.p.much_slower', 'success', 10],
        ['model.p.not_twice', 'success', 20],
        ['model.p.skipped', 'success', 3],
        ...Array.from({ length: 12 }, (_, i): [string, string, number] => [`model.p.many_${i}`, 'success', 1]),
      ]),
    );
    expect(c.slower).toHaveLength(10);
    expect(c.slower[0]).toEqual({ uid: 'model.p.much_slower', base: 10, now: 40 });
    expect(c.slower.map((x) => x.uid)).not.toContain('model.p.twice_but_small');
    expect(c.slower.map((x) => x.uid)).not.toContain('model.p.not_twice');
    expect(c.slower.map((x) => x.now - x.base)).toEqual([...c.slower.map((x) => x.now - x.base)].sort((a, b) => b - a));
  });

  test('row counts: models whose rows_affected changed by 20 % or more; tests and unknown counts are left out', () => {
    const nodes = [
      node('model.p.same', 'passed', { rows: 100 }),
      node('model.p.up', 'passed', { rows: 125 }),
      node('model.p.down', 'passed', { rows: 10 }),
      node('model.p.from_zero', 'passed', { rows: 3 }),
      node('model.p.just_under', 'passed', { rows: 119 }),
      node('model.p.no_rows', 'passed'),
      node('test.p.t', 'passed', { rows: 50 }),
    ];
    const c = compareRuns(
      nodes,
      base([
        ['model.p.same', 'success', 1, 100],
        ['model.p.up', 'success', 1, 100],
        ['model.p.down', 'success', 1, 100],
        ['model.p.from_zero', 'success', 1, 0],
        ['model.p.just_under', 'success', 1, 100],
        ['model.p.no_rows', 'success', 1, 100],
        ['test.p.t', 'pass', 1, 5],
      ]),
    );
    expect(c.rows.map((x) => x.uid)).toEqual(['model.p.from_zero', 'model.p.down', 'model.p.up']);
  });
});

describe('flaky nodes', () => {
  test('errored or failed, then passed: flaky; skipped then passed, or failing every time, is not', () => {
    expect(
      flakyOf([
        { uid: 'model.p.flaky', statuses: ['error', 'success'] },
        { uid: 'test.p.flaky_test', statuses: ['fail', 'fail', 'pass'] },
        { uid: 'model.p.child', statuses: ['skipped', 'success'] },
        { uid: 'test.p.red', statuses: ['fail', 'fail'] },
        { uid: 'model.p.broken', statuses: ['error', 'error'] },
      ]).map((x) => x.uid),
    ).toEqual(['model.p.flaky', 'test.p.flaky_test']);
  });
});

describe('readBase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdbt-base-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const captured = readFileSync(join(HERE, 'fixtures', 'captured', 'red', 'run_results.json'), 'utf8');
  const ours = { dbtVersion: '1.11.16', packages: new Set(['parallel_dbt_example']) };

  test('nothing matching is a notice, not an error', () => {
    const r = readBase([join(dir, 'missing.json'), join(dir, 'shard-*', 'run_results.json')], ours);
    expect(r.base).toBeUndefined();
    expect(r.notes).toEqual([
      {
        level: 'notice',
        message: expect.stringMatching(
          /^compare-to: no run_results\.json matched .*missing\.json.* \(no base yet\?\): every problem counts as new\.$/,
        ),
      },
    ]);
  });

  test('globs over shards: every file read, later files override earlier ones node by node', () => {
    for (const [i, status] of [
      [1, 'error'],
      [2, 'success'],
    ] as const) {
      mkdirSync(join(dir, `shard-${i}`));
      writeFileSync(
        join(dir, `shard-${i}`, 'run_results.json'),
        runResultsJson([{ unique_id: 'model.parallel_dbt_example.m', status, execution_time: i }]),
      );
    }
    const r = readBase([join(dir, 'shard-*', 'run_results.json')], ours);
    expect(r.notes).toEqual([]);
    expect(r.base?.files).toHaveLength(2);
    expect(r.base?.nodes.get('model.parallel_dbt_example.m')).toMatchObject({ status: 'success', seconds: 2 });
  });

  test('another project, not JSON, not a run_results.json: a warning naming the file, and the file ignored; another dbt version: compared, with a warning', () => {
    const other = join(dir, 'other.json');
    writeFileSync(
      other,
      runResultsJson([{ unique_id: 'model.jaffle_shop.orders', status: 'error', execution_time: 1 }]),
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"results": [');
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ nodes: {} }));
    const old = join(dir, 'old.json');
    writeFileSync(old, captured.replace(/"dbt_version": "[^"]+"/, '"dbt_version": "1.8.9"'));
    const statusless = join(dir, 'statusless.json');
    writeFileSync(
      statusless,
      JSON.stringify({ ...JSON.parse(captured), results: [{ ...JSON.parse(captured).results[0], status: undefined }] }),
    );
    const r = readBase([other, broken, manifest, old, statusless], ours);
    expect(r.notes.map((n) => n.level)).toEqual(['warning', 'warning', 'warning', 'warning', 'warning']);
    const text = r.notes.map((n) => n.message).join('\n');
    expect(text).toContain(`compare-to: ${broken} is not JSON`);
    expect(text).toContain(`compare-to: ${manifest} is not a dbt run_results.json (no "results" list); it is ignored.`);
    expect(text).toContain(
      `compare-to: ${statusless} is not a dbt run_results.json (results[0] (${JSON.parse(captured).results[0].unique_id}): "status" is not a string); it is ignored.`,
    );
    expect(text).toContain(
      `compare-to: ${other} is from another dbt project (its nodes are in jaffle_shop; this run's in parallel_dbt_example); it is ignored.`,
    );
    expect(text).toContain(
      `compare-to: ${old} was written by dbt 1.8.9, this run uses dbt 1.11.16; statuses are compared anyway`,
    );
    expect(r.base?.files).toEqual([old]);
    expect(r.base?.nodes.get('model.parallel_dbt_example.order_unit_margin')?.status).toBe('error');
  });
});

describe('annotations against the base', () => {
  test('one per root cause, listing its skips; new causes take the first slots, then those already failing, then warnings', () => {
    const nodes = [
      node('model.p.old_error', 'errored', { finishedAt: '1' }),
      node('model.p.old_child', 'skipped', { cause: 'model.p.old_error' }),
      node('test.p.new_fail', 'failed', { finishedAt: '2', failures: 3 }),
      node('test.p.warn', 'warned', { finishedAt: '0' }),
      ...Array.from({ length: 12 }, (_, i) =>
        node(`model.p.new_child_${i}`, 'skipped', { cause: 'model.p.new_error' }),
      ),
      node('model.p.new_error', 'errored', { finishedAt: '3' }),
    ];
    const r = report(nodes);
    r.comparison = compareRuns(
      nodes,
      base([
        ['model.p.old_error', 'error'],
        ['model.p.old_child', 'skipped'],
        ['test.p.warn', 'pass'],
      ]),
    );
    const list = annotationsFor(r);
    expect(list.map((a) => a.title)).toEqual([
      'dbt model new_error: error, skipped 12 downstream (new in this PR)',
      'dbt test new_fail: 3 failing rows (new in this PR)',
      'dbt model old_error: error, skipped 1 downstream (already failing on the base)',
      'dbt test warn: warning (new in this PR)',
    ]);
    expect(list[0].message).toMatch(
      /Skipped because of it \(12\): model new_child_0, model new_child_1, .*model new_child_11\.$/,
    );
  });
});

describe('comment-mode', () => {
  let api: GithubApi;
  let log: KeptLines;
  beforeEach(async () => {
    api = await startGithubApi();
    log = {
      ...keptLines(),
      warning: (m) => {
        throw new Error(`unexpected warning: ${m}`);
      },
    };
  });
  afterEach(() => api.close());

  const red = report([node('model.p.a', 'errored'), node('model.p.b', 'passed')]);
  const redAgain = report([
    node('model.p.a', 'errored', { message: 'another run, same problem' }),
    node('model.p.b', 'passed'),
  ]);
  const green = report([node('model.p.a', 'passed'), node('model.p.b', 'passed')]);
  const marker = commentMarker('dbt / dbt build');
  async function post(r: RunReport, mode: 'always' | 'changes' | 'failures', runUrl: string) {
    const body = renderPrComment({ report: r, marker, runUrl });
    return upsertPrComment({
      octokit: createOctokit(api.token, api.url),
      owner: 'acme',
      repo: 'analytics',
      issueNumber: 5,
      body,
      marker,
      log,
      retry: FAST,
      shouldWrite: (existing) => shouldWriteComment(mode, r, existing, body),
    });
  }

  test('the state fingerprint follows the problems and their statuses, not messages or links', () => {
    expect(problemState(red)).toBe(problemState(redAgain));
    expect(problemState(red)).not.toBe(problemState(green));
  });

  test('changes: written the first time, left alone while the problems stay the same, edited when they change', async () => {
    expect(await post(red, 'changes', 'https://r/1')).toMatchObject({ action: 'created' });
    expect(await post(redAgain, 'changes', 'https://r/2')).toMatchObject({ action: 'unchanged' });
    expect(api.comments(5)[0]).toMatchObject({ edits: 0, body: expect.stringContaining('https://r/1') });
    expect(log.infos).toContain(
      'Pull request comment on #5: comment-mode changes: the problems are the same as in the comment, so it is left as it is.',
    );
    expect(await post(green, 'changes', 'https://r/3')).toMatchObject({ action: 'updated' });
    expect(api.comments(5)[0]).toMatchObject({ edits: 1, body: expect.stringContaining('### ✅ dbt build') });
  });

  test('failures: no comment while green, written once something fails, turned green when fixed', async () => {
    expect(await post(green, 'failures', 'https://r/1')).toEqual({ action: 'not written' });
    expect(api.comments(5)).toEqual([]);
    expect(api.requestsOf('comments.create')).toEqual([]);
    expect(await post(red, 'failures', 'https://r/2')).toMatchObject({ action: 'created' });
    expect(await post(green, 'failures', 'https://r/3')).toMatchObject({ action: 'updated' });
    expect(api.comments(5)).toHaveLength(1);
    expect(api.comments(5)[0].body).toContain('### ✅ dbt build');
  });

  test('always: every run edits the comment', async () => {
    await post(red, 'always', 'https://r/1');
    expect(await post(redAgain, 'always', 'https://r/2')).toMatchObject({ action: 'updated' });
    expect(api.comments(5)[0].edits).toBe(1);
  });
});
