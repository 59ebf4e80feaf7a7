// Bad input through the action bundle, the way the runner passes it: one clear line, a non-zero exit, no stack
// trace, nothing run. (The input parser's cases are in inputs.test.ts; these need the real process around them.)
import { describe, expect, test } from '@jest/globals';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBT_BIN, dbEnv, exampleCopy, freshDatabase, readResults, runAction, usePostgres } from './support/harness.js';

const pg = usePostgres();

function oneErrorLine(stdout: string, stderr: string): string {
  const errors = stdout.split('\n').filter((l) => l.startsWith('::error'));
  expect(errors).toHaveLength(1);
  expect(`${stdout}\n${stderr}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  return errors[0];
}

function fakeExecutable(content: string | Buffer, mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-fake-'));
  const f = join(dir, 'dbt');
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

describe('refused before dbt runs', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a dbt path that does not exist', { dbt: '/nowhere/dbt' }, /Input 'dbt': '\/nowhere\/dbt' does not exist\./],
    [
      'a dbt that is not executable',
      { dbt: fakeExecutable('#!/bin/sh\n', 0o644) },
      /Input 'dbt': '.*' is not an executable file/,
    ],
    [
      'dbt Fusion (a native binary)',
      { dbt: fakeExecutable(Buffer.concat([Buffer.from([0x7f]), Buffer.from('ELF'), Buffer.alloc(60)])) },
      /Input 'dbt': .* is dbt Fusion \(v2\)/,
    ],
    [
      'a project dir that does not exist',
      { 'project-dir': 'no/such/project' },
      /Input 'project-dir': directory 'no\/such\/project' does not exist/,
    ],
    [
      'groups with selector',
      { groups: 'a: tag:a', selector: 'nightly' },
      /Input 'groups': cannot be combined with 'selector'/,
    ],
    ['vars that are not YAML', { vars: '{a: [' }, /Input 'vars': is not valid YAML/],
    ['mode run without shard', { mode: 'run' }, /Input 'shard': is needed with mode: run/],
    ['retries out of range', { retries: '9' }, /Input 'retries': must be a whole number from 0 to 5/],
  ];
  test.each(cases)('%s', async (_name, extra, line) => {
    const proj = exampleCopy('green');
    const run = await runAction({ 'project-dir': proj, 'profiles-dir': proj, ...extra }, { cwd: proj });
    expect(run.code).toBe(1);
    expect(oneErrorLine(run.stdout, run.stderr)).toMatch(line);
  });
});

describe('refused by dbt, reported in one line', () => {
  test('a dbt-core older than 1.8 (the manifest says so)', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    // The real dbt, whose manifest claims an old version: the check reads dbt's own artifact.
    const old = fakeExecutable(
      `#!/usr/bin/env bash\n"${join(DBT_BIN, 'dbt')}" "$@"; code=$?\nfor m in $(find /tmp -path '*parallel-dbt/parse/target/manifest.json' -newer "$0" 2>/dev/null); do sed -i 's/"dbt_version": "[^"]*"/"dbt_version": "1.7.19"/' "$m"; done\nexit $code\n`,
    );
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, dbt: old },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(1);
    expect(oneErrorLine(run.stdout, run.stderr)).toMatch(
      /dbt-core 1\.7\.19 is too old; parallel-dbt needs dbt-core 1\.8 or newer/,
    );
  });

  test('a selector with shell metacharacters is data for dbt, never run', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const marker = join(mkdtempSync(join(tmpdir(), 'pdbt-pwn-')), 'pwned');
    const run = await runAction(
      {
        'project-dir': proj,
        'profiles-dir': proj,
        select: `tag:x;touch${'${IFS}'}${marker} $(touch${'${IFS}'}${marker}) \`touch${'${IFS}'}${marker}\``,
      },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(existsSync(marker)).toBe(false);
    // dbt itself decides: these are not valid selectors, or they match nothing.
    expect([0, 1]).toContain(run.code);
    if (run.code === 1) oneErrorLine(run.stdout, run.stderr);
    else expect(run.stdout).toMatch(/::warning::The selection matched no node/);
  });

  test('an unreadable timings file', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const t = join(mkdtempSync(join(tmpdir(), 'pdbt-timings-')), 'run_results.json');
    writeFileSync(t, '{ this is not json');
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, timings: t },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(1);
    expect(oneErrorLine(run.stdout, run.stderr)).toMatch(
      /Input 'timings': .*run_results\.json is not JSON \(.+\); give run_results.json files of earlier runs/,
    );
  });

  test('a timings path that matches nothing is a first run, not an error', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, timings: 'no-such-dir/*.json', 'plan-only': 'true' },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Timings: no run_results.json matched');
  });
});

describe('awkward but valid paths', () => {
  test('a project under a path with spaces and non-ASCII characters runs', async () => {
    const parent = join(mkdtempSync(join(tmpdir(), 'pdbt-')), 'Dossier de données ünd Ärger');
    mkdirSync(parent, { recursive: true });
    const proj = join(parent, 'analytics project');
    cpSync(exampleCopy('green'), proj, { recursive: true });
    const db = await freshDatabase(pg);
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, parallel: '2', chunks: '2' },
      { env: dbEnv(pg, db), cwd: parent },
    );
    expect(run.code).toBe(0);
    expect(readResults(run.outputs.results).results.length).toBeGreaterThan(90);
  });
});
