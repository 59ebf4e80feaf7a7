// Per-chunk artifacts through the real @actions/artifact client into a local stand-in of GitHub's artifact service,
// and the matrix fan-out (plan → shard runs → report) against the same stand-in, on real dbt + PostgreSQL.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  dbEnv,
  dbt,
  exampleCopy,
  freshDatabase,
  readResults,
  runAction,
  statusMap,
  usePostgres,
  useShared,
} from './support/harness.js';
import { runResultsJson } from './support/run-results.js';
import { startArtifactService } from './support/artifact-service.js';

const pg = usePostgres();
const service = useShared('the artifact service stand-in', startArtifactService, (s) => s.close());

function unzip(zip: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-unzip-'));
  const file = join(dir, 'a.zip');
  writeFileSync(file, zip);
  execFileSync('unzip', ['-q', file, '-d', join(dir, 'x')]);
  return join(dir, 'x');
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

async function singleBuild(proj: string, select: string[] = []): Promise<Map<string, string>> {
  const db = await freshDatabase(pg, 'single');
  const target = join(proj, 'target-single');
  await dbt(
    [
      'build',
      '--project-dir',
      proj,
      '--profiles-dir',
      proj,
      '--target-path',
      target,
      ...(select.length ? ['--select', ...select] : []),
    ],
    dbEnv(pg, db),
    proj,
  );
  return statusMap(readResults(join(target, 'run_results.json')));
}

describe('artifacts', () => {
  test('one artifact per chunk and one merged arrive intact; no profiles.yml, no password', async () => {
    const proj = exampleCopy('red');
    const db = await freshDatabase(pg);
    const before = new Set(service.artifacts().map((a) => a.name));
    const run = await runAction(
      {
        'project-dir': proj,
        'profiles-dir': proj,
        parallel: '2',
        chunks: '2',
        'upload-artifacts': 'true',
        'artifact-name': 'dbt',
      },
      {
        env: { ...dbEnv(pg, db), ...service.env, GITHUB_JOB: 'ci', GITHUB_RUN_ATTEMPT: '1' },
        cwd: proj,
      },
    );
    expect(run.code).toBe(1);
    const added = service
      .artifacts()
      .filter((a) => !before.has(a.name) && a.finalized)
      .map((a) => a.name)
      .sort();
    expect(added).toEqual(['dbt-ci-chunk-1-attempt-1', 'dbt-ci-chunk-2-attempt-1', 'dbt-ci-chunk-merged-attempt-1']);
    const work = join(run.runnerTemp, 'parallel-dbt');

    for (const chunk of ['1', '2']) {
      const dir = unzip(service.zipOf(`dbt-ci-chunk-${chunk}-attempt-1`));
      const files = filesUnder(dir);
      expect(files).toContain(`chunk-${chunk}/invocation/run_results.json`);
      expect(files).toContain(`chunk-${chunk}/invocation/dbt.log`);
      expect(readFileSync(join(dir, `chunk-${chunk}/invocation/run_results.json`), 'utf8')).toBe(
        readFileSync(join(work, `chunk-${chunk}`, 'target', 'run_results.json'), 'utf8'),
      );
      expect(files.some((f) => f.endsWith('profiles.yml'))).toBe(false);
      for (const f of files) expect(readFileSync(join(dir, f)).includes(pg.password)).toBe(false);
    }
    // The failing model's compiled SQL is in the artifact of the chunk that ran it.
    const chunkOf = readResults(run.outputs.results).results.find(
      (r) => r.unique_id === 'model.parallel_dbt_example.order_unit_margin',
    );
    expect(chunkOf?.status).toBe('error');
    const all = ['1', '2'].flatMap((c) => filesUnder(unzip(service.zipOf(`dbt-ci-chunk-${c}-attempt-1`))));
    expect(all.filter((f) => f.endsWith('/order_unit_margin.sql')).length).toBeGreaterThanOrEqual(1);

    const merged = unzip(service.zipOf('dbt-ci-chunk-merged-attempt-1'));
    expect(filesUnder(merged)).toEqual([
      'merged/junit.xml',
      'merged/manifest.json',
      'merged/parallel-dbt.json',
      'merged/run_results.json',
    ]);
    expect(readFileSync(join(merged, 'merged/run_results.json'), 'utf8')).toBe(
      readFileSync(run.outputs.results, 'utf8'),
    );
    const junit = readFileSync(join(merged, 'merged/junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="dbt" tests="99" failures="1" errors="1" skipped="1"/);
    const sizes = service
      .artifacts()
      .filter((a) => added.includes(a.name))
      .map((a) => `${a.name} ${a.size} B`);
    const times = run.stdout.split('\n').filter((l) => /^artifact .*: uploaded/.test(l));
    console.log(`artifacts of the red example:\n${sizes.join('\n')}\n${times.join('\n')}`);
  });

  test('outside Actions the same files go to a local folder, and the log says where', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, parallel: '2', chunks: '2', 'upload-artifacts': 'true' },
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(0);
    const local = join(run.runnerTemp, 'parallel-dbt-artifacts');
    expect(run.stdout).toContain(`copied`);
    expect(readdirSync(local).sort()).toEqual([
      'parallel-dbt-job-chunk-1-attempt-1',
      'parallel-dbt-job-chunk-2-attempt-1',
      'parallel-dbt-job-chunk-merged-attempt-1',
    ]);
    expect(existsSync(join(local, 'parallel-dbt-job-chunk-merged-attempt-1', 'merged', 'run_results.json'))).toBe(true);
  });
});

// The example's domains all reach each other (relationships tests bridge even the staging chains), so most
// selections are one connected DAG, i.e. one shard; the raw seeds (and the snapshot on one of them) are six
// independent parts: a selection matrix jobs can spread.
const SPREADABLE = 'tag:raw tag:snapshots';

describe('matrix fan-out', () => {
  test('plan → every shard → report equals one dbt build of the same selection', async () => {
    const proj = exampleCopy('red');
    const env = { ...service.env, GITHUB_RUN_ATTEMPT: '1' };
    const plan = await runAction(
      {
        mode: 'plan',
        shards: '3',
        select: SPREADABLE,
        'project-dir': proj,
        'profiles-dir': proj,
        'artifact-name': 'mx',
      },
      { env: { ...env, ...dbEnv(pg, 'postgres'), GITHUB_JOB: 'plan' }, cwd: proj },
    );
    expect(plan.code).toBe(0);
    const matrix = JSON.parse(plan.outputs.matrix) as { shard: string[] };
    expect(matrix.shard).toEqual(['1', '2', '3']);
    // The shard jobs share one warehouse database, as matrix jobs of one PR check do.
    const db = await freshDatabase(pg, 'matrix');
    const shardRuns = await Promise.all(
      matrix.shard.map((shard) =>
        runAction(
          {
            mode: 'run',
            shard,
            parallel: '2',
            select: SPREADABLE,
            'project-dir': proj,
            'profiles-dir': proj,
            'artifact-name': 'mx',
          },
          {
            env: { ...env, ...dbEnv(pg, db), GITHUB_JOB: 'dbt' },
            cwd: proj,
          },
        ),
      ),
    );
    for (const r of shardRuns) expect(r.stdout).toMatch(/Matrix shard \d+ of \d+/);
    const report = await runAction(
      { mode: 'report', 'project-dir': proj, 'artifact-name': 'mx' },
      { env: { ...env, GITHUB_JOB: 'report' }, cwd: proj },
    );
    // On a failure, what the report step said (its exit alone does not tell why).
    if (report.code !== 0)
      console.log(`report step exited ${report.code}:\n${report.stdout.slice(-4000)}\n${report.stderr}`);
    expect(report.code).toBe(0);
    const merged = statusMap(readResults(report.outputs.results));
    const single = await singleBuild(exampleCopy('red'), SPREADABLE.split(' '));
    expect(merged.size).toBeGreaterThan(10);
    expect(new Map([...merged].sort())).toEqual(new Map([...single].sort()));
    expect(report.summary).toContain('matrix shard');
    expect(report.outputs.passed).toBe(String(merged.size));

    // compare-to in the report job compares the merged results of every shard: a base in which one node of
    // each of two shards errored lists both as fixed.
    const shardPlan = JSON.parse(readFileSync(plan.outputs['shard-plan'], 'utf8')) as { shards: { nodes: string[] }[] };
    const wasRed = [shardPlan.shards[0].nodes[0], shardPlan.shards[1].nodes[0]];
    const baseFile = join(mkdtempSync(join(tmpdir(), 'pdbt-mx-base-')), 'run_results.json');
    writeFileSync(
      baseFile,
      runResultsJson(
        wasRed.map((unique_id) => ({ unique_id, status: 'error', execution_time: 0.1 })),
        { dbtVersion: readResults(report.outputs.results).metadata.dbt_version },
      ),
    );
    const compared = await runAction(
      { mode: 'report', 'project-dir': proj, 'artifact-name': 'mx', 'compare-to': baseFile, 'fail-on': 'new' },
      { env: { ...env, GITHUB_JOB: 'report' }, cwd: proj },
    );
    expect(compared.code).toBe(0);
    expect(JSON.parse(compared.outputs['fixed-nodes']).sort()).toEqual([...wasRed].sort());
    expect(compared.outputs['new-failures']).toBe('0');
    expect(compared.summary).toContain('0 new failures · 0 already failing · 2 fixed');
  });

  test('report fails when a shard left no results', async () => {
    const proj = exampleCopy('green');
    const env = { ...service.env, GITHUB_RUN_ATTEMPT: '1' };
    const plan = await runAction(
      {
        mode: 'plan',
        shards: '2',
        select: SPREADABLE,
        'project-dir': proj,
        'profiles-dir': proj,
        'artifact-name': 'gap',
      },
      { env: { ...env, ...dbEnv(pg, 'postgres'), GITHUB_JOB: 'plan' }, cwd: proj },
    );
    expect(plan.code).toBe(0);
    const db = await freshDatabase(pg, 'gap');
    const first = JSON.parse(plan.outputs.matrix).shard[0] as string;
    const one = await runAction(
      {
        mode: 'run',
        shard: first,
        select: SPREADABLE,
        'project-dir': proj,
        'profiles-dir': proj,
        'artifact-name': 'gap',
      },
      { env: { ...env, ...dbEnv(pg, db), GITHUB_JOB: 'dbt' }, cwd: proj },
    );
    expect(one.code).toBe(0);
    const report = await runAction(
      { mode: 'report', 'project-dir': proj, 'artifact-name': 'gap' },
      { env: { ...env, GITHUB_JOB: 'report' }, cwd: proj },
    );
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(/::warning::Shard 2 left no results/);
    expect(Number(report.outputs.errored)).toBeGreaterThan(0);
  });
});
