// PR status on GitHub: the REAL Octokit client from @actions/github (getOctokit) against a local stand-in of
// GitHub's REST API (test/support/github-api.ts) over real HTTP. Checks the check run's create/update calls, the
// annotation batches, the PR comment edited in place, and the error answers (403, 422, 5xx, a hung request).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../src/dbt/manifest.js';
import type { RunResultsArtifact } from '../src/dbt/run-results.js';
import type { Chunk } from '../src/plan/chunks.js';
import { annotationsFor } from '../src/report/annotations.js';
import { buildReport } from '../src/report/build.js';
import { countOf, type NodeOutcome, type RunReport } from '../src/report/model.js';
import { renderSummary } from '../src/report/summary.js';
import type { Bucket } from '../src/dbt/statuses.js';
import { toCheckAnnotations, type SourceAnnotation } from '../src/report/github/check-annotations.js';
import { abandonCheckRun, completeCheckRun, startCheckRun, CHECK_TEXT_LIMIT } from '../src/report/github/checks.js';
import { createOctokit, type Octokit, type RetryPolicy } from '../src/report/github/client.js';
import { keptLines, type KeptLines } from './support/log.js';
import { COMMENT_LIMIT, commentMarker, renderPrComment, upsertPrComment } from '../src/report/github/comment.js';
import { readGithubTarget } from '../src/report/github/context.js';
import { startGithubReporting } from '../src/report/github/index.js';
import { startGithubApi, type GithubApi } from './support/github-api.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CAPTURED = join(HERE, 'fixtures', 'captured');
const EXAMPLE = join(HERE, '..', 'example');
const RED_OVERLAY = join(HERE, 'fixtures', 'red-overlay');
const FAST: RetryPolicy = { delaysMs: [5, 10], sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
const OWNER = 'acme';
const REPO = 'analytics';
const SHA = 'a'.repeat(40);

let api: GithubApi;
let octokit: Octokit;
let log: KeptLines;
let tmp: string;

beforeEach(async () => {
  api = await startGithubApi();
  octokit = createOctokit(api.token, api.url);
  log = keptLines();
  tmp = mkdtempSync(join(tmpdir(), 'pdbt-gh-'));
});

afterEach(async () => {
  await api.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A file of the example project as the captured run saw it (the red overlay copied over example/). */
function projectFile(which: 'red' | 'green', abs: string): string | undefined {
  const rel = abs.replace(/^\/ws\/example\//, '');
  for (const dir of which === 'red' ? [RED_OVERLAY, EXAMPLE] : [EXAMPLE]) {
    try {
      return readFileSync(join(dir, rel), 'utf8');
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

/** The report of a real captured run of the example project (project in example/ of the repository). */
function capturedReport(which: 'red' | 'green'): RunReport {
  const manifest = JSON.parse(readFileSync(join(CAPTURED, which, 'manifest.json'), 'utf8')) as Manifest;
  const results = JSON.parse(readFileSync(join(CAPTURED, which, 'run_results.json'), 'utf8')) as RunResultsArtifact;
  const chunk: Chunk = {
    index: 1,
    name: 'chunk-1',
    nodes: results.results.map((r) => r.unique_id),
    dependsOn: [],
    work: 0,
    predicted: 0,
  };
  return buildReport({
    command: 'build',
    manifest,
    paths: { projectDir: '/ws/example', workspace: '/ws' },
    chunks: [{ chunk, results: results.results, startedAt: 0, endedAt: 4600 }],
    planNotes: [],
    wallSeconds: 4.6,
    readFile: (abs) => projectFile(which, abs),
  });
}

function outcome(i: number, bucket: Bucket, o: Partial<NodeOutcome> = {}): NodeOutcome {
  const status = { passed: 'pass', failed: 'fail', warned: 'warn', errored: 'error', skipped: 'skipped' }[bucket];
  return {
    uid: `test.proj.t_${i}`,
    name: `t_${i}`,
    resourceType: 'test',
    file: `example/tests/t_${i}.sql`,
    status,
    bucket,
    message: `Got ${i} results, configured to fail if != 0`,
    failures: bucket === 'failed' ? i : null,
    seconds: 0.1,
    chunk: `chunk-${i % 4}`,
    ...o,
  };
}

function report(nodes: NodeOutcome[], command = 'build'): RunReport {
  const counts = countOf(nodes);
  return {
    command,
    ok: counts.failed + counts.errored + counts.skipped === 0,
    counts,
    wallSeconds: 10,
    chunks: [],
    nodes,
    notes: [],
  };
}

/** 120 failing tests (one per file, each with a line), 10 warnings, 5 package nodes without a file, 20 passes. */
function bigRedReport(): RunReport {
  const nodes: NodeOutcome[] = [];
  for (let i = 0; i < 20; i++) nodes.push(outcome(i, 'passed'));
  for (let i = 100; i < 220; i++) nodes.push(outcome(i, 'failed'));
  for (let i = 300; i < 310; i++) nodes.push(outcome(i, 'warned'));
  for (let i = 400; i < 405; i++)
    nodes.push(outcome(i, 'errored', { file: undefined, uid: `model.dbt_utils.m_${i}`, resourceType: 'model' }));
  return report(nodes);
}

/** annotationsFor plus a line number per annotation (what the line-aware annotationsFor will give). */
function withLines(r: RunReport): SourceAnnotation[] {
  return annotationsFor(r).map((a) => ({
    ...a,
    line: a.file ? (Number(/t_(\d+)/.exec(a.file)?.[1] ?? 1) % 50) + 1 : undefined,
  }));
}

async function start(name = 'dbt build'): Promise<NonNullable<Awaited<ReturnType<typeof startCheckRun>>>> {
  const h = await startCheckRun({
    octokit,
    owner: OWNER,
    repo: REPO,
    sha: SHA,
    name,
    detailsUrl: 'https://github.com/acme/analytics/actions/runs/7',
    log,
    retry: FAST,
  });
  expect(h).toBeDefined();
  return h as NonNullable<typeof h>;
}

describe('check run', () => {
  test('a red run of the example project: one check run, in progress then failure, every problem annotated on its file', async () => {
    const r = capturedReport('red');
    const expected = annotationsFor(r);
    expect(expected.length).toBe(3); // the red overlay: a failing test, a warning, a model error (naming its skipped child)

    const h = await start();
    const [create] = api.requestsOf('checks.create');
    expect(create.body).toMatchObject({
      name: 'dbt build',
      head_sha: SHA,
      status: 'in_progress',
      details_url: 'https://github.com/acme/analytics/actions/runs/7',
    });
    expect(api.checkRuns()[0].status).toBe('in_progress');

    const summary = renderSummary(r);
    const out = await completeCheckRun(h, { report: r, summaryMarkdown: summary, annotations: expected });
    expect(out).toMatchObject({ completed: true, annotated: 3, rejected: [], notSent: 0, batchFailed: false });

    expect(api.checkRuns()).toHaveLength(1);
    const run = api.checkRuns()[0];
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.output.summary).toBe(summary);
    expect(run.output.title).toBe('dbt build: 1 errored, 1 failed, 1 skipped, 1 warned, 95 passed of 99');
    expect(run.annotations.map((a) => [a.path, a.annotation_level, a.start_line])).toEqual([
      ['example/models/finance/order_unit_margin.sql', 'failure', 1],
      ['example/tests/assert_every_campaign_is_profitable.sql', 'failure', 1],
      ['example/models/staging/stg_orders.yml', 'warning', 35], // the not_null declaration in the overlay's YAML
    ]);
    expect(run.annotations.map((a) => a.title)).toEqual(expected.map((a) => a.title));
    expect(run.annotations.map((a) => a.message)).toEqual(expected.map((a) => a.message));
    // create, one annotation update, the completing update
    expect(api.requests().map((q) => q.route)).toEqual(['checks.create', 'checks.update', 'checks.update']);
  });

  test('a green run completes with success and sends no annotation', async () => {
    const r = capturedReport('green');
    const h = await start();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: renderSummary(r),
      annotations: annotationsFor(r),
    });
    expect(out).toMatchObject({ completed: true, annotated: 0 });
    expect(api.checkRuns()[0]).toMatchObject({ status: 'completed', conclusion: 'success', annotations: [] });
    expect(api.requestsOf('checks.update')).toHaveLength(1);
    expect(api.requestsOf('checks.update')[0].body).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  test('135 problems: every one annotated, in updates of at most 50, with paths, lines and levels; file-less nodes on dbt_project.yml', async () => {
    const r = bigRedReport();
    const annotations = withLines(r);
    const h = await start();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: renderSummary(r),
      annotations,
      fallbackFile: 'example/dbt_project.yml',
    });
    expect(out).toMatchObject({ completed: true, annotated: 135, notSent: 0 });

    const updates = api.requestsOf('checks.update');
    const sizes = updates.map(
      (u) => ((u.body?.output as { annotations?: unknown[] } | undefined)?.annotations ?? []).length,
    );
    expect(sizes).toEqual([50, 50, 35, 0]);
    for (const u of updates.slice(0, 3)) {
      expect(u.body?.output).toMatchObject({ title: expect.any(String), summary: expect.any(String) }); // required beside annotations
      expect(u.body?.status).toBeUndefined(); // still in progress while annotating
    }
    expect(updates[3].body).toMatchObject({ status: 'completed', conclusion: 'failure' });

    const run = api.checkRuns()[0];
    expect(run.annotations).toHaveLength(135);
    // most important first: 5 errors (package models, on dbt_project.yml line 1), 120 failures, 10 warnings
    expect(
      run.annotations
        .slice(0, 5)
        .every((a) => a.path === 'example/dbt_project.yml' && a.start_line === 1 && a.annotation_level === 'failure'),
    ).toBe(true);
    const failures = run.annotations.slice(5, 125);
    expect(failures.map((a) => a.path)).toEqual(
      Array.from({ length: 120 }, (_, k) => `example/tests/t_${100 + k}.sql`),
    );
    expect(failures.map((a) => a.start_line)).toEqual(Array.from({ length: 120 }, (_, k) => ((100 + k) % 50) + 1));
    expect(failures.every((a) => a.annotation_level === 'failure' && a.end_line === a.start_line)).toBe(true);
    expect(run.annotations.slice(125).map((a) => a.annotation_level)).toEqual(Array(10).fill('warning'));
  });

  test('without a fallback file, nodes with no file in the repository are left to the summary and counted', async () => {
    const r = bigRedReport();
    const h = await start();
    const out = await completeCheckRun(h, { report: r, summaryMarkdown: 'x', annotations: annotationsFor(r) });
    expect(out).toMatchObject({ annotated: 130, notSent: 5 });
    expect(api.checkRuns()[0].output.text).toMatch(/^5 problem\(s\) are not annotated/);
  });

  test('over maxAnnotations the rest is not sent and the output says so', async () => {
    const r = bigRedReport();
    const h = await start();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: 'x',
      annotations: annotationsFor(r),
      fallbackFile: 'example/dbt_project.yml',
      maxAnnotations: 60,
    });
    expect(out).toMatchObject({ annotated: 60, notSent: 75 });
    expect(
      api
        .requestsOf('checks.update')
        .map((u) => ((u.body?.output as { annotations?: unknown[] }).annotations ?? []).length),
    ).toEqual([50, 10, 0]);
  });

  test('a summary over 65,535 characters is cut at a line end with a note; the API accepts it', async () => {
    const r = bigRedReport();
    const huge = Array.from({ length: 20000 }, (_, i) => `| row ${i} | ${'é'.repeat(40)} |`).join('\n');
    const h = await start();
    const out = await completeCheckRun(h, { report: r, summaryMarkdown: huge, annotations: [] });
    expect(out.completed).toBe(true);
    const s = api.checkRuns()[0].output.summary ?? '';
    expect(s.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
    expect(s).toMatch(/\| row \d+ \| é+ \|\n\n…cut to fit GitHub's size limit/);
  });

  test('403 on create (no checks: write): one warning naming the permission, undefined, nothing thrown', async () => {
    api.deny('checks.create', 403);
    const h = await startCheckRun({ octokit, owner: OWNER, repo: REPO, sha: SHA, name: 'dbt build', log, retry: FAST });
    expect(h).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/checks: write/);
    expect(log.warnings[0]).toMatch(/Resource not accessible by integration/);
    expect(api.requestsOf('checks.create')).toHaveLength(1); // a 403 is not retried
  });

  test('422 on a batch: the refused annotations are isolated and dropped, every other one is delivered', async () => {
    const r = bigRedReport();
    const annotations = withLines(r);
    const bad = new Set(['example/tests/t_123.sql', 'example/tests/t_190.sql']);
    api.rejectAnnotations((a) => bad.has(a.path));
    const h = await start();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: 'x',
      annotations,
      fallbackFile: 'example/dbt_project.yml',
    });
    expect(out.completed).toBe(true);
    expect(out.annotated).toBe(133);
    expect(out.rejected).toHaveLength(2);
    expect(out.rejected.join(' ')).toMatch(/t_123\.sql.*t_190\.sql/);
    const stored = api.checkRuns()[0].annotations.map((a) => a.path);
    expect(stored).toHaveLength(133);
    expect(stored.filter((p) => bad.has(p))).toEqual([]);
    expect(new Set(stored).size).toBe(stored.length - 4); // no duplicates: the 5 file-less share dbt_project.yml
    expect(api.checkRuns()[0]).toMatchObject({ conclusion: 'failure' });
    expect(api.checkRuns()[0].output.text).toMatch(/GitHub refused 2 annotation/);
    expect(log.warnings.join('\n')).toMatch(/refused 2 annotation/);
    // bounded: 2 × log2(50) splits per bad annotation at most, plus the 3 batches and the completion
    expect(api.requestsOf('checks.update').length).toBeLessThanOrEqual(3 + 2 * 2 * 6 + 1);
  });

  test('5xx then success: the create and an annotation batch are retried and nothing is duplicated', async () => {
    api.failNext('checks.create', 502, 2);
    const h = await start();
    expect(api.requestsOf('checks.create').map((q) => q.status)).toEqual([502, 502, 201]);
    api.failNext('checks.update', 503, 1);
    const r = bigRedReport();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: 'x',
      annotations: annotationsFor(r),
      fallbackFile: 'example/dbt_project.yml',
    });
    expect(out).toMatchObject({ completed: true, annotated: 135, batchFailed: false });
    expect(api.requestsOf('checks.update').map((q) => q.status)).toEqual([503, 200, 200, 200, 200]);
    expect(api.checkRuns()[0].annotations).toHaveLength(135);
    expect(log.warnings).toEqual([]);
  });

  test('a server that keeps failing: bounded tries, warnings, no throw', async () => {
    const h = await start();
    api.failNext('checks.update', 500, 1000);
    const r = bigRedReport();
    const out = await completeCheckRun(h, {
      report: r,
      summaryMarkdown: 'x',
      annotations: annotationsFor(r),
      fallbackFile: 'example/dbt_project.yml',
    });
    expect(out).toMatchObject({ completed: false, annotated: 0, batchFailed: true, notSent: 135 });
    // first batch: 3 tries, then no more batches; the completion: 3 tries
    expect(api.requestsOf('checks.update')).toHaveLength(6);
    expect(log.warnings.join('\n')).toMatch(/annotation batch 1 of 3 failed.*\n.*could not be completed/);
  });

  test('a create whose answer is late: the client times out, finds the run it made and adopts it (no second run)', async () => {
    const quick = createOctokit(api.token, api.url, 150);
    api.delayNext('checks.create', 1000);
    const h = await startCheckRun({
      octokit: quick,
      owner: OWNER,
      repo: REPO,
      sha: SHA,
      name: 'dbt build',
      log,
      retry: FAST,
    });
    expect(h?.id).toBe(api.checkRuns()[0].id);
    expect(api.checkRuns()).toHaveLength(1);
    expect(api.requests().map((q) => q.route)).toEqual(['checks.create', 'checks.listForRef']);
    expect(log.warnings).toEqual([]);
  });

  test('a create that failed with 5xx before writing: the lookup finds nothing and the create is tried again', async () => {
    api.failNext('checks.create', 500, 1);
    await start();
    expect(api.requests().map((q) => [q.route, q.status])).toEqual([
      ['checks.create', 500],
      ['checks.listForRef', 200],
      ['checks.create', 201],
    ]);
    expect(api.checkRuns()).toHaveLength(1);
  });

  test('abandonCheckRun completes a started run with the reason', async () => {
    const h = await start();
    await abandonCheckRun(h, 'parallel-dbt failed unexpectedly: boom');
    expect(api.checkRuns()[0]).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'parallel-dbt failed unexpectedly: boom' },
    });
  });
});

describe('check annotations', () => {
  test('paths are made repository-relative or fall back; lines are sanitised; levels mapped', () => {
    const list: SourceAnnotation[] = [
      { level: 'error', title: 't', message: 'm', file: './example/a.sql', line: 12 },
      { level: 'warning', title: 't', message: '', file: 'example\\b.yml', line: 0 },
      { level: 'error', title: 't', message: 'm', file: '/abs/c.sql', line: 5 },
      { level: 'error', title: 't', message: 'm', file: '../outside.sql' },
      { level: 'error', title: 'x'.repeat(300), message: 'm', file: 'd.sql', line: 3 },
    ];
    const { annotations, unplaced } = toCheckAnnotations(list, 'example/dbt_project.yml');
    expect(unplaced).toBe(0);
    expect(annotations.map((a) => [a.path, a.start_line, a.end_line, a.annotation_level])).toEqual([
      ['example/a.sql', 12, 12, 'failure'],
      ['example/b.yml', 1, 1, 'warning'],
      ['example/dbt_project.yml', 1, 1, 'failure'],
      ['example/dbt_project.yml', 1, 1, 'failure'],
      ['d.sql', 3, 3, 'failure'],
    ]);
    expect(annotations[1].message).toBe('t'); // an empty message would be refused
    expect(annotations[4].title?.length).toBe(255);
  });
});

describe('pull request comment', () => {
  const marker = commentMarker('dbt build');

  test('the first run creates the comment, the second edits the same one (found past the first page)', async () => {
    api.seedComments(7, 150);
    const red = renderPrComment({
      report: capturedReport('red'),
      marker,
      runUrl: 'https://github.com/acme/analytics/actions/runs/1',
      sha: SHA,
    });
    const first = await upsertPrComment({
      octokit,
      owner: OWNER,
      repo: REPO,
      issueNumber: 7,
      body: red,
      marker,
      log,
      retry: FAST,
    });
    expect(first?.action).toBe('created');
    api.seedComments(7, 30); // the conversation goes on
    const green = renderPrComment({
      report: capturedReport('green'),
      marker,
      runUrl: 'https://github.com/acme/analytics/actions/runs/2',
      sha: 'b'.repeat(40),
    });
    const second = await upsertPrComment({
      octokit,
      owner: OWNER,
      repo: REPO,
      issueNumber: 7,
      body: green,
      marker,
      log,
      retry: FAST,
    });
    expect(second).toMatchObject({ action: 'updated', id: first?.id });

    const ours = api.comments(7).filter((c) => c.body.includes(marker));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ id: first?.id, edits: 1, body: green });
    expect(api.comments(7)).toHaveLength(181);
    expect(api.requestsOf('comments.create')).toHaveLength(1);
    // the second search read page 1 and 2 (ours is the 151st comment)
    expect(api.requestsOf('comments.list').length).toBe(2 + 2);
    expect(red).toMatch(
      /^<!-- parallel-dbt: dbt build -->\n### ❌ dbt build: 1 errored · 1 failed · 1 skipped · 1 warned · 95 passed \(99 nodes\)/,
    );
    expect(red).toContain(
      '| 💥 error | `order_unit_margin` <sub>model</sub> | example/models/finance/order_unit_margin.sql |',
    );
    expect(red).toContain('[Workflow run](https://github.com/acme/analytics/actions/runs/1)');
    expect(green).toMatch(/### ✅ dbt build: 95 passed \(95 nodes\)/);
  });

  test('a huge report stays under 65,536 characters and GitHub accepts it', async () => {
    const nodes = Array.from({ length: 10000 }, (_, i) =>
      outcome(i, 'failed', { name: `n${'x'.repeat(400)}${i}`, message: `${'boom | <b> '.repeat(600)}${i}` }),
    );
    const body = renderPrComment({
      report: report(nodes),
      marker,
      runUrl: 'https://x/run',
      checkUrl: 'https://x/check',
      maxRows: 10000,
    });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toMatch(
      /…and \d+ more: see the workflow run's summary and the check run\.\n\n\[Workflow run\]\(https:\/\/x\/run\)/,
    );
    expect(body).not.toContain('<b>');
    const out = await upsertPrComment({
      octokit,
      owner: OWNER,
      repo: REPO,
      issueNumber: 9,
      body,
      marker,
      log,
      retry: FAST,
    });
    expect(out?.action).toBe('created');
    // the default keeps the comment short: 25 rows
    const short = renderPrComment({ report: report(nodes), marker });
    expect(short).toContain('…and 9975 more');
  });

  test('a comment create whose answer is lost: the retry finds it and edits it instead of posting twice', async () => {
    const quick = createOctokit(api.token, api.url, 150);
    api.delayNext('comments.create', 1000);
    const out = await upsertPrComment({
      octokit: quick,
      owner: OWNER,
      repo: REPO,
      issueNumber: 7,
      body: 'hello',
      marker,
      log,
      retry: FAST,
    });
    expect(out?.action).toBe('updated');
    expect(api.comments(7)).toHaveLength(1);
    expect(api.requests().map((q) => q.route)).toEqual([
      'comments.list',
      'comments.create',
      'comments.list',
      'comments.update',
    ]);
  });

  test('403 on comments (no pull-requests: write): one warning, nothing thrown', async () => {
    api.deny('comments.list', 403);
    const out = await upsertPrComment({
      octokit,
      owner: OWNER,
      repo: REPO,
      issueNumber: 7,
      body: 'b',
      marker,
      log,
      retry: FAST,
    });
    expect(out).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/pull-requests: write/);
  });
});

describe('startGithubReporting (what main.ts and publish.ts call)', () => {
  function event(payload: object): string {
    const p = join(tmp, `event-${Math.random()}.json`);
    writeFileSync(p, JSON.stringify(payload));
    return p;
  }
  const prPayload = (headRepo: string | null) => ({
    pull_request: {
      number: 42,
      head: { sha: 'c'.repeat(40), repo: headRepo === null ? null : { full_name: headRepo } },
      base: { repo: { full_name: 'acme/analytics' } },
    },
  });
  function env(extra: Record<string, string>): Record<string, string> {
    return {
      GITHUB_REPOSITORY: 'acme/analytics',
      GITHUB_SHA: 'd'.repeat(40),
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '99',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'dbt',
      ...extra,
    };
  }

  test('two pushes to a PR: a check run on the head commit each time, and one comment edited by the second', async () => {
    const e = env({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event(prPayload('acme/analytics')) });
    const red = capturedReport('red');
    const g1 = await startGithubReporting({
      token: api.token,
      checkName: '',
      prComment: true,
      command: 'build',
      env: e,
      log,
      retry: FAST,
      planSummary: 'plan',
    });
    expect(g1.checkUrl).toMatch(/\/runs\/\d+$/);
    const o1 = await g1.finish({
      report: red,
      summaryMarkdown: renderSummary(red),
      annotations: annotationsFor(red),
      fallbackFile: 'example/dbt_project.yml',
    });
    expect(o1).toMatchObject({
      annotationsDelivered: true,
      check: { completed: true, annotated: 3 },
      comment: { action: 'created' },
    });

    const green = capturedReport('green');
    const g2 = await startGithubReporting({
      token: api.token,
      checkName: '',
      prComment: true,
      command: 'build',
      env: { ...e, GITHUB_RUN_ID: '100' },
      log,
      retry: FAST,
    });
    const o2 = await g2.finish({
      report: green,
      summaryMarkdown: renderSummary(green),
      annotations: annotationsFor(green),
    });
    expect(o2.comment).toMatchObject({ action: 'updated', id: o1.comment?.id });

    expect(api.checkRuns().map((c) => [c.name, c.head_sha, c.conclusion, c.details_url])).toEqual([
      ['dbt / dbt build', 'c'.repeat(40), 'failure', 'https://github.com/acme/analytics/actions/runs/99'],
      ['dbt / dbt build', 'c'.repeat(40), 'success', 'https://github.com/acme/analytics/actions/runs/100'],
    ]);
    const comments = api.comments(42);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('<!-- parallel-dbt: dbt / dbt build -->');
    expect(comments[0].body).toContain('[Workflow run](https://github.com/acme/analytics/actions/runs/100)');
    expect(comments[0].body).toMatch(
      /\[every problem annotated\]\(http:\/\/127\.0\.0\.1:\d+\/acme\/analytics\/runs\/\d+\)/,
    );
    expect(log.warnings).toEqual([]);
  });

  test('a pull request from a fork: no request at all, one info line', async () => {
    const e = env({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event(prPayload('someone/analytics')) });
    const g = await startGithubReporting({
      token: api.token,
      checkName: 'dbt',
      prComment: true,
      command: 'build',
      env: e,
      log,
      retry: FAST,
    });
    const r = capturedReport('red');
    expect(await g.finish({ report: r, summaryMarkdown: 'x', annotations: annotationsFor(r) })).toEqual({
      annotationsDelivered: false,
    });
    expect(api.requests()).toEqual([]);
    expect(log.infos).toHaveLength(1);
    expect(log.infos[0]).toMatch(/fork.*read-only token/);
    expect(log.warnings).toEqual([]);
  });

  test('no checks permission: one warning, the comment still goes (its permission is separate)', async () => {
    api.deny('checks.create', 403);
    const e = env({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event(prPayload('acme/analytics')) });
    const g = await startGithubReporting({
      token: api.token,
      checkName: 'dbt',
      prComment: true,
      command: 'build',
      env: e,
      log,
      retry: FAST,
    });
    const r = capturedReport('red');
    const o = await g.finish({ report: r, summaryMarkdown: 'x', annotations: annotationsFor(r) });
    expect(o.annotationsDelivered).toBe(false);
    expect(o.comment?.action).toBe('created');
    expect(log.warnings).toHaveLength(1);
    expect(api.requestsOf('checks.update')).toEqual([]);
  });

  test('a push: the check run goes on GITHUB_SHA; pr-comment says there is no pull request', async () => {
    const e = env({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: event({ ref: 'refs/heads/main' }) });
    const g = await startGithubReporting({
      token: api.token,
      checkName: 'nightly dbt',
      prComment: true,
      command: 'build',
      env: e,
      log,
      retry: FAST,
    });
    const r = capturedReport('green');
    const o = await g.finish({ report: r, summaryMarkdown: 'x', annotations: [] });
    expect(o.comment).toBeUndefined();
    expect(api.checkRuns()[0]).toMatchObject({ name: 'nightly dbt', head_sha: 'd'.repeat(40), conclusion: 'success' });
    expect(log.infos.join('\n')).toMatch(/push run has no pull request/);
  });

  test('an empty token or no GitHub environment: no request, one info line', async () => {
    const g = await startGithubReporting({
      token: '',
      checkName: '',
      prComment: true,
      command: 'build',
      env: env({}),
      log,
    });
    const h = await startGithubReporting({
      token: 't',
      checkName: '',
      prComment: true,
      command: 'build',
      env: {},
      log,
    });
    await g.abandon('x');
    await h.finish({ report: capturedReport('green'), summaryMarkdown: 'x', annotations: [] });
    expect(api.requests()).toEqual([]);
    expect(log.infos).toHaveLength(2);
  });
});

describe('readGithubTarget', () => {
  const read = (payload: object) => () => JSON.stringify(payload);
  const base = { GITHUB_REPOSITORY: 'acme/analytics', GITHUB_SHA: 'd'.repeat(40), GITHUB_EVENT_PATH: '/event.json' };

  test('a deleted fork (head.repo null) counts as a fork; pull_request_target gets a write token and does not', () => {
    const pr = {
      pull_request: {
        number: 3,
        head: { sha: 'e'.repeat(40), repo: null },
        base: { repo: { full_name: 'acme/analytics' } },
      },
    };
    expect(readGithubTarget({ ...base, GITHUB_EVENT_NAME: 'pull_request' }, read(pr))).toMatchObject({
      readOnlyFork: true,
      sha: 'e'.repeat(40),
    });
    expect(readGithubTarget({ ...base, GITHUB_EVENT_NAME: 'pull_request_target' }, read(pr))).toMatchObject({
      readOnlyFork: false,
      pullRequest: { number: 3, fromFork: true },
    });
  });

  test('run URL with the attempt; an unreadable payload still gives a target on GITHUB_SHA', () => {
    const t = readGithubTarget(
      { ...base, GITHUB_RUN_ID: '5', GITHUB_RUN_ATTEMPT: '2', GITHUB_EVENT_NAME: 'push' },
      () => {
        throw new Error('ENOENT');
      },
    );
    expect(t).toMatchObject({
      sha: 'd'.repeat(40),
      runUrl: 'https://github.com/acme/analytics/actions/runs/5/attempts/2',
      apiUrl: 'https://api.github.com',
      readOnlyFork: false,
    });
    expect(readGithubTarget({})).toMatch(/GITHUB_REPOSITORY/);
  });
});
