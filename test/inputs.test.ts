// The action's inputs as the runner passes them (INPUT_* variables), read into Settings; bad input → one line.
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from '../src/inputs/settings.js';
import { parseGroups } from '../src/inputs/groups.js';
import { InputError } from '../src/shared/errors.js';
import { budgetNote, shapeCandidates } from '../src/plan/shape.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-inputs-'));
  writeFileSync(join(dir, 'dbt_project.yml'), 'name: p\n');
  mkdirSync(join(dir, 'profiles'));
  return dir;
}

function env(inputs: Record<string, string>): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) e[`INPUT_${k.toUpperCase()}`] = v;
  return e;
}

describe('readSettings', () => {
  test('defaults', () => {
    const dir = project();
    const s = readSettings(env({}), dir);
    expect(s).toMatchObject({
      command: 'build',
      select: [],
      exclude: [],
      defer: false,
      dbt: 'dbt',
      ifNoNodes: 'warn',
      projectDir: dir,
      planOnly: false,
      workerHost: 'auto',
    });
    // parallel follows the runner's cores unless given (decided in flow/, where the machine is known)
    expect(s.parallel).toBeUndefined();
    expect(s.threads).toBeUndefined();
    expect(s.workDir).toBe(join(dir, 'target', 'parallel-dbt'));
  });

  test('compare-to: paths and globs resolved against the working directory; fail-on and comment-mode defaults', () => {
    const dir = project();
    expect(readSettings(env({}), dir)).toMatchObject({ compareTo: [], failOn: 'any', commentMode: 'always' });
    const s = readSettings(
      env({
        'compare-to': '.dbt-base/run_results.json\n# a comment\n/abs/shard-*/run_results.json',
        'fail-on': 'new',
        'comment-mode': 'changes',
      }),
      dir,
    );
    expect(s).toMatchObject({
      compareTo: [join(dir, '.dbt-base/run_results.json'), '/abs/shard-*/run_results.json'],
      failOn: 'new',
      commentMode: 'changes',
    });
  });

  test('values are read, trimmed and split like dbt splits --select', () => {
    const dir = project();
    const s = readSettings(
      {
        ...env({
          command: ' run ',
          select: 'tag:a  state:modified+\nmodel_b',
          exclude: 'tag:slow',
          parallel: '3',
          threads: '2',
          'max-connections': '9',
          'profiles-dir': 'profiles',
          vars: '{"x": 1}',
          'timeout-minutes': '1.5',
        }),
        RUNNER_TEMP: '/tmp/rt',
      },
      dir,
    );
    expect(s).toMatchObject({
      command: 'run',
      select: ['tag:a', 'state:modified+', 'model_b'],
      exclude: ['tag:slow'],
      parallel: 3,
      threads: 2,
      maxConnections: 9,
      profilesDir: join(dir, 'profiles'),
      vars: '{"x": 1}',
      timeoutMinutes: 1.5,
      workDir: '/tmp/rt/parallel-dbt',
    });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      'unknown command',
      { command: 'deploy' },
      /^Input 'command': must be one of build, run, test, seed, snapshot; got 'deploy'\.$/,
    ],
    [
      'unknown worker-host',
      { 'worker-host': 'maybe' },
      /^Input 'worker-host': must be one of auto, off; got 'maybe'\.$/,
    ],
    [
      'parallel not a number',
      { parallel: 'abc' },
      /^Input 'parallel': must be a whole number from 1 to 64, got 'abc'\.$/,
    ],
    ['parallel zero', { parallel: '0' }, /^Input 'parallel': must be a whole number from 1 to 64, got '0'\.$/],
    ['parallel too large', { parallel: '65' }, /^Input 'parallel'/],
    ['parallel fractional', { parallel: '2.5' }, /^Input 'parallel'/],
    ['parallel negative', { parallel: '-1' }, /^Input 'parallel'/],
    ['threads not a number', { threads: 'many' }, /^Input 'threads': must be a whole number from 1 to 256/],
    ['chunks zero', { chunks: '0' }, /^Input 'chunks': must be a whole number from 1 to 256/],
    ['max-connections one', { 'max-connections': '1' }, /^Input 'max-connections': must be a whole number from 2/],
    [
      'timeout not a number',
      { 'timeout-minutes': 'soon' },
      /^Input 'timeout-minutes': must be a number greater than 0/,
    ],
    ['timeout zero', { 'timeout-minutes': '0' }, /^Input 'timeout-minutes'/],
    ['defer not boolean', { defer: 'maybe' }, /^Input 'defer': must be true or false, got 'maybe'\.$/],
    ['defer without state', { defer: 'true' }, /^Input 'defer': needs 'state'/],
    ['favor-state without defer', { 'favor-state': 'true' }, /^Input 'favor-state': needs 'defer: true'/],
    [
      'full-refresh with test',
      { command: 'test', 'full-refresh': 'true' },
      /^Input 'full-refresh': dbt test has no --full-refresh; use it with command build, run or seed\.$/,
    ],
    ['empty with seed', { command: 'seed', empty: 'true' }, /^Input 'empty': dbt seed has no --empty/],
    ['empty not boolean', { empty: 'yes please' }, /^Input 'empty': must be true or false/],
    [
      'upload-artifacts not boolean',
      { 'upload-artifacts': 'sometimes' },
      /^Input 'upload-artifacts': must be true or false/,
    ],
    [
      'if-no-nodes unknown',
      { 'if-no-nodes': 'panic' },
      /^Input 'if-no-nodes': must be one of warn, error, ignore; got 'panic'\.$/,
    ],
    [
      'selector with select',
      { selector: 'nightly', select: 'tag:a' },
      /^Input 'selector': cannot be combined with 'select' or 'exclude'/,
    ],
    ['selector with exclude', { selector: 'nightly', exclude: 'tag:a' }, /^Input 'selector': cannot be combined/],
    [
      'groups with selector',
      { selector: 'nightly', groups: 'a: tag:a' },
      /^Input 'groups': cannot be combined with 'selector'/,
    ],
    ['groups with chunks', { groups: 'a: tag:a', chunks: '3' }, /^Input 'chunks': cannot be combined with 'groups'/],
    ['vars not YAML', { vars: '{a: [1, 2' }, /^Input 'vars': is not valid YAML/],
    ['vars not a mapping', { vars: '- 1\n- 2' }, /^Input 'vars': must be a YAML mapping/],
    ['vars a bare string', { vars: 'hello' }, /^Input 'vars': must be a YAML mapping/],
    [
      'project dir missing',
      { 'project-dir': 'no/such/dir' },
      /^Input 'project-dir': directory 'no\/such\/dir' does not exist/,
    ],
    [
      'profiles dir missing',
      { 'profiles-dir': 'nowhere' },
      /^Input 'profiles-dir': directory 'nowhere' does not exist/,
    ],
    ['state dir missing', { state: 'prod-artifacts' }, /^Input 'state': directory 'prod-artifacts' does not exist/],
    ['group line without a name', { groups: 'tag:finance' }, /^Input 'groups': line 1 'tag:finance' has no group name/],
    [
      'duplicate group names',
      { groups: 'a: tag:x\na: tag:y' },
      /^Input 'groups': group name 'a' appears twice \(line 2\)/,
    ],
    ['group with empty selection', { groups: 'a: ' }, /^Input 'groups': line 1/],
    [
      'group name with shell characters',
      { groups: 'a;rm: tag:x' },
      /^Input 'groups': line 1: group name 'a;rm' may use letters/,
    ],
    ['fail-on unknown', { 'fail-on': 'regression' }, /^Input 'fail-on': must be one of any, new; got 'regression'\.$/],
    [
      'comment-mode unknown',
      { 'comment-mode': 'never' },
      /^Input 'comment-mode': must be one of always, changes, failures; got 'never'\.$/,
    ],
  ];
  test.each(bad)('%s → one clear line', (_name, inputs, message) => {
    const dir = project();
    let thrown: unknown;
    try {
      readSettings(env(inputs), dir);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    const msg = (thrown as Error).message;
    expect(msg).toMatch(message);
    expect(msg).not.toContain('\n');
  });

  test('a directory without dbt_project.yml is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdbt-noproj-'));
    expect(() => readSettings(env({}), dir)).toThrow(/^Input 'project-dir': '\.' has no dbt_project\.yml/);
  });

  test('shell metacharacters in a selection are kept as data, item by item', () => {
    const dir = project();
    const s = readSettings(env({ select: 'tag:x;rm -rf / $(id) `whoami`' }), dir);
    expect(s.select).toEqual(['tag:x;rm', '-rf', '/', '$(id)', '`whoami`']);
  });
});

describe('parseGroups', () => {
  test('names and selections; comments and blank lines ignored', () => {
    expect(
      parseGroups('finance: tag:finance\n\n# comment\nmarketing: tag:marketing tag:ads\nsales:  path:models/sales+ '),
    ).toEqual([
      { name: 'finance', select: ['tag:finance'] },
      { name: 'marketing', select: ['tag:marketing', 'tag:ads'] },
      { name: 'sales', select: ['path:models/sales+'] },
    ]);
  });
});

describe('shapeCandidates under max-connections', () => {
  test('lowers threads first, then processes, never below one thread, and says so', () => {
    const fit = (parallel: number, threads: number | undefined, maxConnections: number, chunks?: number) =>
      shapeCandidates({ parallel, threads, maxConnections, profileThreads: 4, chunks }).map((b) => [
        b.parallel,
        b.threads,
        b.peak,
      ]);
    expect(fit(4, 3, 16, 4)).toEqual([[4, 3, 16]]);
    expect(fit(4, 4, 12, 4)).toEqual([[4, 2, 12]]);
    expect(fit(8, 4, 6, 8)).toEqual([[3, 1, 6]]);
    expect(fit(8, undefined, 2, 8)).toEqual([[1, 1, 2]]);
    const r = { parallel: 3, threads: 4, maxConnections: 6, profileThreads: 4, chunks: 3 };
    expect(budgetNote(r, shapeCandidates(r)[0])).toBe(
      'parallel 3 × (threads 4 + 1) = 15 connections exceeds max-connections 6: using parallel 3 × (threads 1 + 1) = 6.',
    );
  });
  test('never exceeds the budget', () => {
    for (let p = 1; p <= 12; p++)
      for (let t = 1; t <= 10; t++)
        for (let b = 2; b <= 40; b++) {
          for (const r of shapeCandidates({ parallel: p, threads: t, maxConnections: b, profileThreads: 4 })) {
            expect(r.parallel * (r.threads + 1)).toBeLessThanOrEqual(b);
            expect(r.parallel).toBeGreaterThanOrEqual(1);
            expect(r.threads).toBeGreaterThanOrEqual(1);
          }
        }
  });
});

describe('secrets', () => {
  test('secret-looking names, not look-alikes', async () => {
    const { secretsFromEnv } = await import('../src/shared/secrets.js');
    expect(
      secretsFromEnv({
        DBT_PASSWORD: 'hunter22',
        SNOWFLAKE_PRIVATE_KEY: 'pk-123456',
        GH_TOKEN: 'ghp_abcdef',
        MY_API_KEY: 'k-999999',
        TOX_TESTENV_PASSENV: 'OPENBLAS_*',
        PWD: '/home/runner',
        KEYBOARD: 'us-intl',
        TOKENIZER_MODE: 'fast',
        INPUT_PASSWORD: 'not-this',
      }).sort(),
    ).toEqual(['ghp_abcdef', 'hunter22', 'k-999999', 'pk-123456']);
  });
});
