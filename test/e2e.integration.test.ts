// The action end to end: the bundle built from src/, real dbt-core, real PostgreSQL, inputs as INPUT_* variables,
// outputs/summary/annotations read where the runner reads them.
import { describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  annotations,
  connectionPeak,
  dbEnv,
  dbt,
  exampleCopy,
  freshDatabase,
  limitedRole,
  readResults,
  runAction,
  statusMap,
  usePostgres,
} from './support/harness.js';
import { readManifest } from '../src/dbt/manifest.js';
import { readRunRecord, RUN_RECORD_FILE } from '../src/flow/run-record.js';

const pg = usePostgres();

/** Inputs for the example project copy at `proj`. */
function inputs(proj: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'project-dir': proj, 'profiles-dir': proj, ...extra };
}

/**
 * A single, plain `dbt build` of the example project ('green', or 'red' with its planted failures) in its own database:
 * what dbt itself says. Every run path compares against the same build, so each variant is built once per file.
 */
const singleBuilds = new Map<'green' | 'red', Promise<Map<string, string>>>();
function singleBuildOf(variant: 'green' | 'red'): Promise<Map<string, string>> {
  let build = singleBuilds.get(variant);
  if (!build) {
    build = singleBuild(exampleCopy(variant));
    singleBuilds.set(variant, build);
  }
  return build;
}

async function singleBuild(proj: string): Promise<Map<string, string>> {
  const db = await freshDatabase(pg, 'single');
  const target = join(proj, 'target-single');
  const r = await dbt(
    ['build', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target],
    dbEnv(pg, db),
    proj,
  );
  expect([0, 1]).toContain(r.code);
  return statusMap(readResults(join(target, 'run_results.json')));
}

/**
 * Proof in PostgreSQL that parents were built before children: a relation's pg_class row carries the id of the
 * transaction that created (or renamed) it, and transaction ids grow with time.
 */
async function assertBuiltInDependencyOrder(db: string, manifestPath: string, built: Set<string>): Promise<number> {
  const m = readManifest(manifestPath);
  const c = await pg.client(db);
  try {
    const rows = (
      await c.query(`select n.nspname as schema, c.relname as name, c.xmin::text::bigint as xid
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','v','m')`)
    ).rows as { schema: string; name: string; xid: string }[];
    const xid = new Map(rows.map((r) => [`${r.schema}.${r.name}`, Number(r.xid)]));
    const relOf = (uid: string): number | undefined => {
      const n = m.nodes[uid];
      return n ? xid.get(`${n.schema}.${n.alias ?? n.name}`) : undefined;
    };
    let checked = 0;
    for (const uid of built) {
      const child = relOf(uid);
      if (child === undefined) continue;
      for (const p of m.nodes[uid]?.depends_on?.nodes ?? []) {
        if (!built.has(p)) continue;
        const parent = relOf(p);
        if (parent === undefined) continue;
        expect({ edge: `${p} -> ${uid}`, parentBeforeChild: parent < child }).toEqual({
          edge: `${p} -> ${uid}`,
          parentBeforeChild: true,
        });
        checked++;
      }
    }
    return checked;
  } finally {
    await c.end();
  }
}

// Every run path: workers forked from the host, each one dbt invocation whose nodes wait for parents in other
// workers (gated); forked workers in ordered chunks (more chunks than processes); one `dbt` process per chunk.
const paths: { name: string; extra: Record<string, string>; redChunks: string; path: RegExp; gated: boolean }[] = [
  {
    name: 'forked, gated workers',
    extra: { parallel: '3', chunks: '3' },
    redChunks: '3',
    path: /^Run path: fork — /m,
    gated: true,
  },
  {
    name: 'forked, ordered chunks',
    extra: { parallel: '2', chunks: '3' },
    redChunks: '4',
    path: /^Run path: fork — /m,
    gated: false,
  },
  {
    name: 'one dbt process per chunk',
    extra: { parallel: '3', chunks: '3', 'worker-host': 'off' },
    redChunks: '4',
    path: /^Run path: one dbt process per chunk — worker-host: off\.$/m,
    gated: false,
  },
];

describe.each(paths)('the action on the example project ($name)', ({ extra, redChunks, path, gated }) => {
  test('green: several concurrent chunks, every node once, parents first, outputs and summary', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, extra), { env: dbEnv(pg, db), cwd: proj });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(path);
    const record = readRunRecord(join(run.runnerTemp, 'parallel-dbt', RUN_RECORD_FILE));
    // Gated workers all start at once (no order between them); ordered chunks wait for the ones they need.
    if (gated) expect(record.chunks.every((c) => c.dependsOn.length === 0)).toBe(true);
    else expect(record.chunks.some((c) => c.dependsOn.length > 0)).toBe(true);
    for (const c of record.chunks) expect(c.firstNodeAt).toBeGreaterThanOrEqual(c.startedAt ?? Infinity);
    // Forked workers' CPU, from the kernel: each started worker's, more than its start-up's; per node, in the record
    // and in the merged run_results.json for the next run's machine model. The subprocess path measures none.
    const mergedArgs = readResults(run.outputs.results).args;
    if (/^Run path: fork/m.test(run.stdout)) {
      for (const c of record.chunks.filter((x) => x.processes.length > 0)) {
        expect(c.cpu?.seconds).toBeGreaterThan(c.cpu?.startup ?? Infinity);
        expect(c.cpu?.startup).toBeGreaterThan(0);
      }
      expect(record.cpuPerNode).toBeGreaterThan(0.001);
      expect(record.cpuPerNode).toBeLessThan(1);
      // The rest of the machine's CPU per second of the workers' (PostgreSQL and the action on the same cores).
      expect(record.otherCpuShare).toBeGreaterThan(0);
      expect(mergedArgs.parallel_dbt).toEqual({
        cpu_per_node: Number(record.cpuPerNode!.toFixed(4)),
        other_cpu_share: Number(record.otherCpuShare!.toFixed(3)),
      });
    } else {
      expect(record.cpuPerNode).toBeUndefined();
      expect(record.otherCpuShare).toBeUndefined();
      expect(mergedArgs).not.toHaveProperty('parallel_dbt');
    }

    // The gated workers take nodes from one pool, which predicted its makespan again once a fifth of its nodes (at
    // least 40) had ended, from its workers' own CPU per node (a worker tells it at 10 nodes of its own: with 95 nodes
    // on 3, one has). Ordered chunks and subprocesses have no pool.
    expect(record.pool !== undefined).toBe(gated);
    if (gated) {
      const cal = record.pool?.calibration;
      expect(cal?.nodes).toBeGreaterThanOrEqual(40);
      expect(cal?.cpuPerNode).toBeGreaterThan(0.001);
      expect(cal?.predictedMakespan).toBeGreaterThan(0);
      expect(run.stdout).toMatch(
        /^▶ the pool: \d+ of \d+ nodes ended \(.* predicted again from what they measured: ~/m,
      );
    }

    // Several dbt processes actually ran, and at least two overlapped in time.
    const starts = run.stdout.split('\n').filter((l) => /^▶ chunk-\d+/.test(l));
    expect(starts.length).toBeGreaterThanOrEqual(2);

    const merged = readResults(run.outputs.results);
    const ids = merged.results.map((r) => r.unique_id);
    expect(new Set(ids).size).toBe(ids.length); // exactly once
    const single = await singleBuildOf('green');
    expect(new Map([...statusMap(merged)].sort())).toEqual(new Map([...single].sort()));

    expect(Number(run.outputs.passed)).toBe(ids.length);
    expect(run.outputs.failed).toBe('0');
    expect(run.outputs.errored).toBe('0');
    expect(run.outputs.skipped).toBe('0');
    expect(JSON.parse(run.outputs['failed-nodes'])).toEqual([]);

    expect(run.summary).toMatch(/^### ✅ dbt build: \d+ passed/m);
    expect(run.summary).toContain('| Chunk | Nodes |');
    expect(annotations(run.stdout).filter((a) => a.level === 'error')).toEqual([]);

    const manifest = join(run.runnerTemp, 'parallel-dbt', 'parse', 'target', 'manifest.json');
    const edges = await assertBuiltInDependencyOrder(db, manifest, new Set(ids));
    expect(edges).toBeGreaterThan(10);
  });

  test('red: statuses equal one dbt build, failures annotated on their files, step fails', async () => {
    const proj = exampleCopy('red');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { ...extra, chunks: redChunks }), { env: dbEnv(pg, db), cwd: proj });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(path);
    const merged = statusMap(readResults(run.outputs.results));
    const single = await singleBuildOf('red');
    expect(new Map([...merged].sort())).toEqual(new Map([...single].sort()));

    const bad = [...merged].filter(([, s]) => !['success', 'pass'].includes(s));
    expect(bad.length).toBeGreaterThanOrEqual(4);
    expect(run.outputs.errored).toBe('1');
    expect(run.outputs.failed).toBe('1');
    expect(run.outputs.warned).toBe('1');
    expect(run.outputs.skipped).toBe('1');
    const failedNodes = JSON.parse(run.outputs['failed-nodes']) as string[];
    expect(failedNodes.sort()).toEqual(
      bad
        .filter(([, s]) => s !== 'warn')
        .map(([u]) => u)
        .sort(),
    );

    const notes = annotations(run.stdout);
    const errorFiles = notes.filter((a) => a.level === 'error' && a.file).map((a) => a.file);
    expect(errorFiles).toContain('models/finance/order_unit_margin.sql');
    expect(errorFiles).toContain('tests/assert_every_campaign_is_profitable.sql');
    expect(notes.filter((a) => a.level === 'warning' && a.file).map((a) => a.file)).toContain(
      'models/staging/stg_orders.yml',
    );
    // The model error comes before the test failure, which comes before the skip.
    expect(errorFiles.indexOf('models/finance/order_unit_margin.sql')).toBeLessThan(
      errorFiles.indexOf('tests/assert_every_campaign_is_profitable.sql'),
    );

    expect(run.summary).toMatch(/^### ❌ dbt build:/m);
    expect(run.summary).toContain('order_unit_margin');
    expect(run.summary).toContain('division by zero');
  });
});

describe('project hooks', () => {
  test('on-run-start/end hooks: forked workers keep the chunks (they run the hooks once); separate dbt processes run as one, saying why', async () => {
    const proj = exampleCopy('green');
    const projectYml = join(proj, 'dbt_project.yml');
    writeFileSync(
      projectYml,
      `${readFileSync(projectYml, 'utf8')}\non-run-start:\n  - "select 1"\non-run-end:\n  - "select 2"\n`,
    );
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', 'plan-only': 'true' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Run path: fork — /m);
    expect(run.stdout).toMatch(/^Plan: 2 chunk\(s\)/m);
    expect(run.stdout).not.toMatch(/hook\(s\)/);
    const sub = await runAction(
      inputs(proj, { parallel: '2', chunks: '2', 'plan-only': 'true', 'worker-host': 'off' }),
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(
      /^::warning::One process: the project has 1 on-run-start and 1 on-run-end hook\(s\), which several dbt processes would each run .*; on this run path \(worker-host: off\) the action runs one process, as plain dbt\./m,
    );
    expect(sub.stdout).toMatch(/^Plan: 1 chunk\(s\)/m);
  });
});

describe('explicit groups', () => {
  test('groups that depend on each other run in order; a cycle between groups is merged and reported', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const groups = [
      'raw: tag:raw tag:snapshots',
      'staging: tag:staging',
      'sales: tag:sales',
      'finance: tag:finance',
      'marketing: tag:marketing',
    ].join('\n');
    const run = await runAction(inputs(proj, { parallel: '3', groups }), { env: dbEnv(pg, db), cwd: proj });
    expect(run.code).toBe(0);
    const merged = readResults(run.outputs.results);
    const ids = merged.results.map((r) => r.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    const single = await singleBuildOf('green');
    expect(new Set(ids)).toEqual(new Set(single.keys()));
    const manifest = join(run.runnerTemp, 'parallel-dbt', 'parse', 'target', 'manifest.json');
    expect(await assertBuiltInDependencyOrder(db, manifest, new Set(ids))).toBeGreaterThan(10);
    expect(run.summary).toContain('staging');
    expect(run.summary).toContain('finance');
    expect(run.stdout).not.toContain('in a cycle');

    // x holds sales + marketing, y holds finance: finance reads sales and marketing reads finance, a cycle.
    const db2 = await freshDatabase(pg);
    const cyclic = ['upstream: tag:raw tag:snapshots tag:staging', 'x: tag:sales tag:marketing', 'y: tag:finance'].join(
      '\n',
    );
    const run2 = await runAction(inputs(exampleCopy('green'), { parallel: '3', groups: cyclic }), {
      env: dbEnv(pg, db2),
      cwd: proj,
    });
    expect(run2.code).toBe(0);
    expect(run2.stdout).toMatch(
      /^::warning::groups 'x', 'y' depend on each other in a cycle: they run as one chunk\.$/m,
    );
    const ids2 = readResults(run2.outputs.results).results.map((r) => r.unique_id);
    expect(new Set(ids2)).toEqual(new Set(single.keys()));
    expect(ids2).toHaveLength(single.size);
    expect(run2.summary).toContain('x+y');
  });
});

describe('the connection budget', () => {
  test('a role limited to max-connections never sees "too many connections"', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const budget = 6;
    await limitedRole(pg, db, 'budget_user', 'budget-pw', budget);
    const sampler = connectionPeak(pg, 'budget_user', 25);
    const run = await runAction(
      inputs(proj, {
        parallel: '3',
        threads: '4',
        'max-connections': String(budget),
        chunks: '3',
        vars: '{demo_sleep_seconds: 1}',
      }),
      {
        env: dbEnv(pg, db, { PARALLEL_DBT_PG_USER: 'budget_user', PARALLEL_DBT_PG_PASSWORD: 'budget-pw' }),
        cwd: proj,
      },
    );
    const peak = await sampler.stop();
    expect(run.stdout).not.toMatch(/too many connections/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('using parallel 3 × (threads 1 + 1) = 6');
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(budget);
    console.log(`connection budget ${budget}: peak ${peak} connections observed`);
  });
});

describe('bad input and empty selections', () => {
  test.each([
    [
      { command: 'deploy' },
      /^::error::Input 'command': must be one of build, run, test, seed, snapshot; got 'deploy'\.$/m,
    ],
    [{ parallel: 'abc' }, /^::error::Input 'parallel': must be a whole number from 1 to 64, got 'abc'\.$/m],
    [{ dbt: 'no-such-dbt-here' }, /^::error::Input 'dbt': 'no-such-dbt-here' was not found on PATH\./m],
    [{ 'fail-on': 'regression' }, /^::error::Input 'fail-on': must be one of any, new; got 'regression'\.$/m],
  ])('%j is refused in one line', async (extra, line) => {
    const proj = exampleCopy('green');
    const run = await runAction(inputs(proj, extra as Record<string, string>), { cwd: proj });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(line);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1);
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m);
  });

  test('a broken profile (wrong password) stops with one clear line', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2' }), {
      env: dbEnv(pg, db, { PARALLEL_DBT_PG_PASSWORD: 'wrong' }),
      cwd: proj,
    });
    expect(run.code).not.toBe(0);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/password authentication failed/);
    // The runner hides ::add-mask:: values; nowhere else may the password appear.
    expect(
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain('wrong');
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m);
  });

  test("a state folder dbt cannot read stops with dbt's reason in one line, no traceback", async () => {
    const proj = exampleCopy('green');
    const state = join(proj, 'prod-state');
    mkdirSync(state);
    writeFileSync(
      join(state, 'manifest.json'),
      JSON.stringify({
        metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json' },
        nodes: 5,
      }),
    );
    const run = await runAction(inputs(proj, { select: 'state:modified+', state }), { cwd: proj });
    expect(run.code).not.toBe(0);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::dbt ls \(resolving the selection\) failed \(exit code 2\): .*invalid value 5/);
    expect(errors[0]).not.toMatch(/File "|\^\^\^|Traceback/);
    // The host tried to read the state while it parsed (worker_host.py StateReadAhead) and left it to dbt.
    expect(run.stdout).toMatch(/^::debug::worker host: no state read ahead \(\w+\): dbt reads it$/m);
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m);
  });

  test('a selection that matches nothing warns and succeeds, or fails with if-no-nodes: error', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const warn = await runAction(inputs(proj, { select: 'tag:no_such_tag' }), { env: dbEnv(pg, db), cwd: proj });
    expect(warn.code).toBe(0);
    expect(warn.stdout).toMatch(/^::warning::The selection matched no node to build/m);
    expect(warn.outputs.passed).toBe('0');
    expect(existsSync(warn.outputs.results)).toBe(true);
    const fail = await runAction(inputs(proj, { select: 'tag:no_such_tag', 'if-no-nodes': 'error' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/^::error::The selection matched no node to build\. \(if-no-nodes: error\)$/m);
  });
});
