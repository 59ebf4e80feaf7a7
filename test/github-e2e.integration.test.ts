// The PR status path through the action bundle: a red run of the example project creates one check run with
// every problem annotated and one PR comment; a second run edits that comment. The real Octokit client talks to a
// local stand-in of the GitHub API.
import { describe, expect, test } from '@jest/globals';
import {
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

describe('check run and PR comment', () => {
  test('a red run: one check run with every problem, one comment, edited by the next run', async () => {
    const proj = exampleCopy('red');
    const gh = {
      GITHUB_REPOSITORY: 'acme/analytics',
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '501',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'dbt',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: prEventFile(7, 'a'.repeat(40)),
    };
    const inputs = {
      'project-dir': proj,
      'profiles-dir': proj,
      parallel: '2',
      chunks: '2',
      'github-token': api.token,
      'pr-comment': 'true',
    };
    const db = await freshDatabase(pg);
    const first = await runAction(inputs, { env: { ...dbEnv(pg, db), ...gh }, cwd: proj });
    expect(first.code).toBe(1);
    const runs = api.checkRuns();
    expect(runs).toHaveLength(1);
    const check = runs[0];
    expect(check.head_sha).toBe('a'.repeat(40)); // the PR's head commit, not the merge commit
    expect(check.status).toBe('completed');
    expect(check.conclusion).toBe('failure');
    const problems = readResults(first.outputs.results).results.filter((r) => !['success', 'pass'].includes(r.status));
    // One annotation per cause: the skipped campaign_unit_margin is listed in its cause's annotation.
    expect(check.annotations).toHaveLength(problems.filter((r) => r.status !== 'skipped').length);
    expect(check.annotations.find((a) => a.path === 'models/finance/order_unit_margin.sql')?.message).toMatch(
      /Skipped because of it \(1\): model campaign_unit_margin\.$/,
    );
    expect(check.annotations.map((a) => a.path).sort()).toEqual(
      expect.arrayContaining([
        'models/finance/order_unit_margin.sql',
        'tests/assert_every_campaign_is_profitable.sql',
        'models/staging/stg_orders.yml',
      ]),
    );
    expect(check.annotations.find((a) => a.path === 'models/staging/stg_orders.yml')?.annotation_level).toBe('warning');
    expect(check.annotations.find((a) => a.path === 'models/finance/order_unit_margin.sql')?.annotation_level).toBe(
      'failure',
    );
    // Every annotation is on the check run, so none are repeated as workflow commands.
    expect(first.stdout).not.toMatch(/^::error file=/m);
    const comments = api.comments(7);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('order_unit_margin');

    const db2 = await freshDatabase(pg);
    const second = await runAction(inputs, { env: { ...dbEnv(pg, db2), ...gh, GITHUB_RUN_ID: '502' }, cwd: proj });
    expect(second.code).toBe(1);
    expect(api.checkRuns()).toHaveLength(2);
    const after = api.comments(7);
    expect(after).toHaveLength(1);
    expect(after[0].id).toBe(comments[0].id);
    expect(after[0].edits).toBe(1);
    expect(after[0].body).toContain('502');
  });

  test('without checks permission: one warning, and the workflow-command annotations as before', async () => {
    const proj = exampleCopy('red');
    api.deny('checks.create', 403, 'Resource not accessible by integration');
    const db = await freshDatabase(pg);
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, parallel: '2', chunks: '2', 'github-token': api.token },
      {
        env: {
          ...dbEnv(pg, db),
          GITHUB_REPOSITORY: 'acme/analytics',
          GITHUB_SHA: 'c'.repeat(40),
          GITHUB_API_URL: api.url,
          GITHUB_RUN_ID: '503',
          GITHUB_JOB: 'dbt',
          GITHUB_EVENT_NAME: 'push',
        },
        cwd: proj,
      },
    );
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::warning::') && /checks: write/.test(l))).toHaveLength(
      1,
    );
    expect(run.stdout).toMatch(/^::error title=.*,file=models\/finance\/order_unit_margin\.sql/m);
  });
});
