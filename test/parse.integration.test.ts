// The action's parse starts where plain dbt's would: from a saved partial_parse.msgpack (the project's own
// target/partial_parse.msgpack, or the partial-parse input, e.g. the base branch's from the cache), never cold where
// plain dbt would not be. dbt decides whether the file fits; the action reports dbt's verdict, and the manifest it
// plans from is the one a cold parse of the same files gives.
import { describe, expect, test } from '@jest/globals';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dbEnv, dbt, exampleCopy, freshDatabase, runAction, usePostgres } from './support/harness.js';
import type { Manifest } from '../src/dbt/manifest.js';

const pg = usePostgres();
const CHANGED_MODEL = join('models', 'staging', 'stg_orders.sql');

function inputs(proj: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'project-dir': proj, 'profiles-dir': proj, 'plan-only': 'true', ...extra };
}

/** The parse line the action logs: `dbt <version>: parsed and selected in <s> s (<what it started from>)…`. */
function parseLine(stdout: string): string {
  const line = stdout.split('\n').find((l) => /^dbt \d+\.\d+\.\d+\S*: parsed and selected in /.test(l));
  expect(line).toBeDefined();
  return line!;
}

function actionManifest(runnerTemp: string): Manifest {
  return JSON.parse(
    readFileSync(join(runnerTemp, 'parallel-dbt', 'parse', 'target', 'manifest.json'), 'utf8'),
  ) as Manifest;
}

/** What a cold `dbt parse` of `proj` (into a target of its own) gives: node ids and each node's checksum. */
async function coldManifest(proj: string, env: Record<string, string>): Promise<Map<string, string>> {
  const target = join(proj, 'target-cold');
  const r = await dbt(
    ['parse', '--no-partial-parse', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target],
    env,
    proj,
  );
  expect(r.code).toBe(0);
  return checksums(JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')) as Manifest);
}

function checksums(m: Manifest): Map<string, string> {
  const nodes = m.nodes as Record<string, { checksum?: { checksum?: string } }>;
  return new Map(
    Object.entries(nodes)
      .map(([uid, n]): [string, string] => [uid, n.checksum?.checksum ?? ''])
      .sort(),
  );
}

// Both ways the action parses: one dbt process per chunk parses in its first `dbt ls` (a selection) here; the worker
// host parses in-process (`dbt parse`, the whole project) in the cache test below.
describe.each<{ path: string; extra: Record<string, string> }>([
  { path: 'one dbt process per chunk, with a selection', extra: { 'worker-host': 'off', select: 'tag:staging+' } },
])('a saved partial parse ($path)', ({ extra }) => {
  test("the project's own target/partial_parse.msgpack is reused, a changed file parsed again, the manifest a cold parse's", async () => {
    const proj = exampleCopy('green');
    const env = dbEnv(pg, await freshDatabase(pg));
    // Plain dbt parsed this project before (as a CI job that caches target/ has): its state is in target/.
    const first = await dbt(['parse', '--project-dir', proj, '--profiles-dir', proj], env, proj);
    expect(first.code).toBe(0);
    expect(existsSync(join(proj, 'target', 'partial_parse.msgpack'))).toBe(true);
    appendFileSync(join(proj, CHANGED_MODEL), '\n-- changed in this PR\n');

    const run = await runAction(inputs(proj, extra), { env, cwd: proj });
    expect(run.code).toBe(0);
    expect(parseLine(run.stdout)).toMatch(
      /\(from the saved partial parse \S*target\/partial_parse\.msgpack, 1 file parsed again\)/,
    );
    // The manifest the action planned from is what a cold parse of the changed project gives.
    const m = actionManifest(run.runnerTemp);
    expect(checksums(m)).toEqual(await coldManifest(proj, env));
    expect(m.nodes['model.parallel_dbt_example.stg_orders']?.raw_code).toContain('-- changed in this PR');
    // This run's own parse state, for the base branch to cache.
    expect(run.outputs['partial-parse']).toBe(
      join(run.runnerTemp, 'parallel-dbt', 'parse', 'target', 'partial_parse.msgpack'),
    );
    expect(existsSync(run.outputs['partial-parse'])).toBe(true);
  });
});

describe('a saved partial parse from the cache (worker host)', () => {
  const extra = {};
  test("the partial-parse input (a folder holding the base branch's file) starts a fresh checkout; a file dbt rejects is a notice naming why, and the parse is cold", async () => {
    const env = dbEnv(pg, await freshDatabase(pg));
    const base = exampleCopy('green');
    const baseRun = await runAction(inputs(base, extra), { env, cwd: base });
    expect(baseRun.code).toBe(0);
    expect(baseRun.stdout).toMatch(/^Run path: fork — /m);
    expect(parseLine(baseRun.stdout)).toMatch(/\(no saved partial parse at \S+: a cold parse, as plain dbt's\)/);
    const saved = join(baseRun.runnerTemp, 'parallel-dbt', 'parse', 'target');

    // A fresh checkout (new paths, new file times) with the base branch's parse state: reused.
    const pr = exampleCopy('green');
    const prRun = await runAction(inputs(pr, { ...extra, 'partial-parse': saved }), { env, cwd: pr });
    expect(prRun.code).toBe(0);
    expect(parseLine(prRun.stdout)).toMatch(/\(from the saved partial parse \S+, 0 files parsed again\)/);
    expect(checksums(actionManifest(prRun.runnerTemp))).toEqual(checksums(actionManifest(baseRun.runnerTemp)));

    // Other vars: dbt does not use the file; the action says so and dbt's manifest has the new vars.
    const other = exampleCopy('green');
    const otherRun = await runAction(
      inputs(other, { ...extra, 'partial-parse': join(saved, 'partial_parse.msgpack'), vars: '{"pr_run": true}' }),
      { env, cwd: other },
    );
    expect(otherRun.code).toBe(0);
    expect(parseLine(otherRun.stdout)).toMatch(
      /\(cold: dbt did not use the saved partial parse \S+ because config vars, config profile, or config target have changed\)/,
    );
    expect(otherRun.stdout).toMatch(
      /^::notice::The saved partial parse \S+ was not used: config vars, config profile, or config target have changed\. dbt parsed the project cold/m,
    );
  });
});
