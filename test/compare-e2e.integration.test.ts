// What a pull request changed, end to end through the action bundle: a base run of the red example project,
// then a PR run that fixes one failure and introduces another, compared with the base's run_results.json
// (compare-to): the summary, the check run and the PR comment (local GitHub API stand-in) label each problem;
// fail-on: new fails only on the new failure. Then flaky nodes: errored, passed on a retry, reported as such,
// while a failing test retried with it stays red. Real dbt, real PostgreSQL, one server for every run.
import { describe, expect, test } from '@jest/globals';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT,
  annotations,
  dbEnv,
  exampleCopy,
  freshDatabase,
  readResults,
  runAction,
  usePostgres,
  useShared,
} from './support/harness.js';
import { prEventFile, startGithubApi } from './support/github-api.js';

const pg = usePostgres();
const api = useShared('the GitHub API stand-in', startGithubApi, (a) => a.close());

const P = 'parallel_dbt_example';
const ORDER_UNIT_MARGIN = `model.${P}.order_unit_margin`;
const CAMPAIGN_UNIT_MARGIN = `model.${P}.campaign_unit_margin`;
const PROFITABLE = `test.${P}.assert_every_campaign_is_profitable`;
const NEW_TEST = `test.${P}.assert_campaigns_have_no_spend`;

describe('compare-to: what this pull request changed', () => {
  test('base run, then a PR run with one failure fixed and one new: labelled everywhere; fail-on: new fails only on the new one', async () => {
    // The base branch: the red project as it is (1 model error, its skipped child, 1 failing test, 1 warning).
    const base = exampleCopy('red');
    const baseRun = await runAction(
      { 'project-dir': base, 'profiles-dir': base, parallel: '2', chunks: '2' },
      { env: dbEnv(pg, await freshDatabase(pg)), cwd: base },
    );
    expect(baseRun.code).toBe(1);
    // The PR: order_unit_margin fixed (so its skipped child runs again), a new singular test that fails.
    const pr = exampleCopy('red');
    // One cache/artifact folder for both timings and compare-to, as the README shows (restored into the checkout).
    const cache = pr;
    mkdirSync(join(cache, '.dbt-base'));
    cpSync(baseRun.outputs.results, join(cache, '.dbt-base', 'run_results.json'));
    writeFileSync(
      join(pr, 'models', 'finance', 'order_unit_margin.sql'),
      "select order_id, campaign_id, order_amount, quantity, order_amount / nullif(quantity, 0) as amount_per_unit\nfrom {{ ref('orders_enriched') }}\n",
    );
    // On a leaf model, like the base's failing test, so that it skips nothing.
    writeFileSync(
      join(pr, 'tests', 'assert_campaigns_have_no_spend.sql'),
      "-- New in the PR: fails, every campaign spends.\nselect campaign_id from {{ ref('campaign_performance') }} where total_spend > 0\n",
    );
    const gh = {
      GITHUB_REPOSITORY: 'acme/analytics',
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '601',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'dbt',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: prEventFile(12, 'e'.repeat(40)),
    };
    const inputs = {
      'project-dir': pr,
      'profiles-dir': pr,
      parallel: '2',
      chunks: '2',
      'github-token': api.token,
      'pr-comment': 'true',
      timings: '.dbt-base/run_results.json',
      'compare-to': '.dbt-base/run_results.json\nno-such-folder/*.json',
      'fail-on': 'new',
      'comment-mode': 'changes',
    };
    const run = await runAction(inputs, { env: { ...dbEnv(pg, await freshDatabase(pg)), ...gh }, cwd: cache });

    // fail-on: new fails the step, naming how many failures are new.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::dbt build: 0 errored, 2 failed, 0 skipped of 100 node\(s\); 1 of them not already failing on the base \(fail-on: new\)\.$/m,
    );
    expect(JSON.parse(run.outputs['new-failed-nodes'])).toEqual([NEW_TEST]);
    expect(run.outputs['new-failures']).toBe('1');
    expect(JSON.parse(run.outputs['fixed-nodes']).sort()).toEqual([CAMPAIGN_UNIT_MARGIN, ORDER_UNIT_MARGIN]);
    expect(JSON.parse(run.outputs['failed-nodes']).sort()).toEqual([PROFITABLE, NEW_TEST].sort());
    expect(run.outputs.flaky).toBe('0');

    // The summary: the delta line, each failure labelled, the fixed nodes listed.
    expect(run.summary).toContain(
      '**Against the base** (1 base run_results.json file): 1 new failure · 1 already failing · 2 fixed',
    );
    expect(run.summary).toMatch(
      /^\*\*❌ test `assert_campaigns_have_no_spend` — \d+ failing rows\*\* · \*\*🆕 new in this PR\*\* · /m,
    );
    expect(run.summary).toMatch(
      /^\*\*❌ test `assert_every_campaign_is_profitable` — 2 failing rows\*\* · \*\*already failing on the base\*\* · /m,
    );
    expect(run.summary.indexOf('assert_campaigns_have_no_spend')).toBeLessThan(
      run.summary.indexOf('assert_every_campaign_is_profitable'),
    );
    expect(run.summary).toMatch(
      /^#### Fixed since the base \(2\)\n\n.*`order_unit_margin` \(was error\).*`campaign_unit_margin` \(was skipped\)|^#### Fixed since the base \(2\)\n\n.*`campaign_unit_margin` \(was skipped\).*`order_unit_margin` \(was error\)/m,
    );
    expect(run.summary).toMatch(/`not_null_stg_orders_campaign_id` · already warning on the base/);

    // The check run: failure, every problem annotated with its label, the new one first.
    const check = api.checkRuns().at(-1)!;
    expect(check).toMatchObject({ head_sha: 'e'.repeat(40), status: 'completed', conclusion: 'failure' });
    expect(check.annotations.map((a) => [a.annotation_level, a.title])).toEqual([
      [
        'failure',
        expect.stringMatching(/^dbt test assert_campaigns_have_no_spend: \d+ failing rows \(new in this PR\)$/),
      ],
      ['failure', 'dbt test assert_every_campaign_is_profitable: 2 failing rows (already failing on the base)'],
      ['warning', 'dbt test not_null_stg_orders_campaign_id: warning (12 failing rows) (already warning on the base)'],
    ]);
    expect(check.output.summary).toContain('1 new failure · 1 already failing · 2 fixed');
    expect(check.output.title).toBe(
      'dbt build: 2 failed, 1 warned, 97 passed of 100 · 1 new, 2 fixed against the base',
    );

    // The PR comment: the same labels and the fixed nodes.
    const [comment] = api.comments(12);
    expect(comment.body).toContain('**Against the base:** 1 new failure · 1 already failing · 2 fixed');
    expect(comment.body).toMatch(/\| ❌ fail \(\d+ rows\) · 🆕 new in this PR \| `assert_campaigns_have_no_spend`/);
    expect(comment.body).toMatch(
      /\| ❌ fail \(2 rows\) · already failing on the base \| `assert_every_campaign_is_profitable`/,
    );
    expect(comment.body).toMatch(/✅ Fixed: .*`order_unit_margin`/);

    // The same PR without the new failure: fail-on: new passes, and the old failure is still reported.
    rmSync(join(pr, 'tests', 'assert_campaigns_have_no_spend.sql'));
    const again = await runAction(inputs, {
      env: { ...dbEnv(pg, await freshDatabase(pg)), ...gh, GITHUB_RUN_ID: '602' },
      cwd: cache,
    });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/^::error::/m);
    expect(again.outputs.failed).toBe('1');
    expect(again.outputs['new-failures']).toBe('0');
    expect(JSON.parse(again.outputs['new-failed-nodes'])).toEqual([]);
    expect(JSON.parse(again.outputs['failed-nodes'])).toEqual([PROFITABLE]);
    expect(again.summary).toMatch(/^### ✅ dbt build: 97 passed · 1 failed · 1 warned · 99 nodes/m);
    expect(again.summary).toContain('0 new failures · 1 already failing · 2 fixed');
    expect(again.summary).toMatch(
      /`assert_every_campaign_is_profitable` — 2 failing rows\*\* · \*\*already failing on the base\*\*/,
    );
    const check2 = api.checkRuns().at(-1)!;
    expect(check2.conclusion).toBe('success');
    expect(check2.annotations.map((a) => a.title)).toContain(
      'dbt test assert_every_campaign_is_profitable: 2 failing rows (already failing on the base)',
    );
    // comment-mode: changes — the problems changed, so the one comment was edited.
    const after = api.comments(12);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: comment.id, edits: 1 });
    expect(after[0].body).toContain('0 new failures · 1 already failing · 2 fixed');
    expect(again.stdout).toContain(
      'fail-on: new — 1 node(s) already failing on the base are reported but do not fail the step.',
    );
  });

  test('a retried-then-passed node is reported flaky; a failing test retried with it stays red', async () => {
    const proj = exampleCopy('flaky');
    cpSync(join(ROOT, 'test', 'fixtures', 'red-overlay'), proj, {
      recursive: true,
      filter: (src) => !src.endsWith('README.md'),
    });
    const db = await freshDatabase(pg);
    const c = await pg.client(db);
    await c.query('create sequence public.flaky_attempts');
    await c.end();
    const run = await runAction(
      {
        'project-dir': proj,
        'profiles-dir': proj,
        parallel: '2',
        chunks: '2',
        retries: '1',
        'retry-on': 'error, fail',
      },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.flaky).toBe('1');
    const results = new Map(readResults(run.outputs.results).results.map((r) => [r.unique_id, r.status]));
    expect(results.get(`model.${P}.flaky_orders`)).toBe('success');
    expect(results.get(PROFITABLE)).toBe('fail');
    expect(JSON.parse(run.outputs['failed-nodes'])).toContain(PROFITABLE);
    const flaky = run.summary.slice(run.summary.indexOf('#### Flaky (1)'));
    expect(run.summary).toContain('#### Flaky (1)');
    expect(flaky).toMatch(/^\| 🔁 `flaky_orders` \| model \| chunk-\d \| error → success \|$/m);
    // Its child was only skipped, then ran: not flaky. The failing test failed twice: red, not flaky.
    expect(flaky.split('\n\n#### ')[0]).not.toContain('flaky_child');
    expect(flaky.split('\n\n#### ')[0]).not.toContain('assert_every_campaign_is_profitable');
    expect(run.summary).toMatch(/^\*\*❌ test `assert_every_campaign_is_profitable` — 2 failing rows\*\*/m);
    // No compare-to: no labels, every failure counts as new.
    expect(run.summary).not.toContain('Against the base');
    expect(JSON.parse(run.outputs['new-failed-nodes']).sort()).toEqual(JSON.parse(run.outputs['failed-nodes']).sort());
    // Annotations: the flaky model gets a warning on its file; the skipped model none of its own (its cause lists it).
    const notes = annotations(run.stdout);
    expect(notes).toContainEqual(
      expect.objectContaining({
        level: 'warning',
        file: 'models/staging/flaky_orders.sql',
        title: 'dbt model flaky_orders: flaky (passed on a retry)',
      }),
    );
    expect(notes.filter((a) => a.file === 'models/marketing/campaign_unit_margin.sql')).toEqual([]);
    expect(notes.find((a) => a.file === 'models/finance/order_unit_margin.sql')?.message).toMatch(
      /Skipped because of it \(1\): model campaign_unit_margin\.$/,
    );
  });
});
