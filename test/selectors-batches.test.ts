// Unit-test selectors (src/run/selectors.ts) and argv batching (batchesFor in src/run/chunk.ts).
import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { argvBytes, chunkArgv } from '../src/dbt/argv.js';
import { subprocessLauncher } from '../src/dbt/process.js';
import { ARGV_BUDGET_BYTES, batchesFor, type ChunkContext, type ChunkJob } from '../src/run/chunk.js';
import { SelectorIndex } from '../src/run/selectors.js';
import type { ManifestNode } from '../src/dbt/manifest.js';
import { manifestNode, manifestOf } from './support/graphs.js';

describe('SelectorIndex', () => {
  test('a unit test gets the exact unit_test:<package>.<name>,<fqn> form; other nodes travel in the state file', () => {
    const ns = [
      manifestNode('model.p.orders', { fqn: ['p', 'stg', 'orders'] }),
      {
        ...manifestNode('unit_test.p.orders.test_totals', {
          fqn: ['p', 'stg', 'orders', 'test_totals'],
          resourceType: 'unit_test',
        }),
        name: 'test_totals',
      }, // dbt's unit test name
    ];
    const index = new SelectorIndex(manifestOf(ns));
    expect(index.isUnitTest('unit_test.p.orders.test_totals')).toBe(true);
    expect(index.isUnitTest('model.p.orders')).toBe(false);
    expect(index.exactSelectorOf('unit_test.p.orders.test_totals')).toBe(
      'unit_test:p.test_totals,p.stg.orders.test_totals',
    );
    expect(() => index.exactSelectorOf('model.p.orders')).toThrow(/not a unit test/);
  });
});

describe('batchesFor', () => {
  const folder = 'a_rather_long_folder_name_for_marketing_attribution_models';
  const ctxFor = (ns: ManifestNode[]): ChunkContext => ({
    dbt: {
      launch: subprocessLauncher('/opt/dbt/bin/dbt'),
      command: 'build',
      project: {
        projectDir: '/home/runner/work/repo/repo/analytics',
        profilesDir: '/home/runner/.dbt',
        target: 'ci',
        vars: '{"run_date": "2026-01-01"}',
      },
      cwd: '/home/runner/work/repo/repo',
      env: { PATH: '/usr/bin:/bin', DBT_PROFILES_DIR: '/home/runner/.dbt', SOME_TOKEN_NAME: 'x'.repeat(200) },
      partialParseFile: '/tmp/parallel-dbt/parse/partial_parse.msgpack',
      threads: 8,
      defer: false,
    },
    limits: {},
    selectors: new SelectorIndex(manifestOf(ns)),
  });
  const job = (nodes: string[]): ChunkJob => ({ name: 'chunk-1', nodes, dir: '/tmp/parallel-dbt/chunks/chunk-1' });
  /** Kernel accounting of the environment: "K=V\0" plus a pointer per variable. */
  const envBytes = (env: Record<string, string | undefined>): number =>
    Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}=${v ?? ''}`) + 1 + 8, 0);
  /** The argv runChunk builds for batch i (of several): unit tests by selector, the rest through the state file. */
  const batchBytes = (ctx: ChunkContext, j: ChunkJob, batch: string[], i: number): number => {
    const suffix = `-${String(i + 1).padStart(2, '0')}`;
    const select = batch.filter((u) => ctx.selectors.isUnitTest(u)).map((u) => ctx.selectors.exactSelectorOf(u));
    const d = ctx.dbt;
    return (
      argvBytes(
        chunkArgv({
          ...d.project,
          command: d.command,
          targetPath: join(j.dir, `target${suffix}`),
          logPath: join(j.dir, `logs${suffix}`),
          selectionState: join(j.dir, `selection${suffix}`),
          partialParseFile: d.partialParseFile,
          threads: d.threads,
          select,
          exclude: [],
          state: d.state,
          defer: d.defer,
        }),
      ) + envBytes(d.env)
    );
  };

  test('40,000 long-named nodes are one invocation: the selection travels in a state file, not in argv', () => {
    const ns: ManifestNode[] = [];
    for (let i = 0; i < 40000; i++) {
      const name = `fct_campaign_touchpoint_attribution_weighted_by_channel_${String(i).padStart(5, '0')}`;
      ns.push(manifestNode(`model.analytics.${name}`, { fqn: ['analytics', folder, name] }));
    }
    const ctx = ctxFor(ns);
    const j = job(ns.map((n) => n.unique_id));
    const batches = batchesFor(ctx, j);
    expect(batches).toEqual([j.nodes]);
    expect(batchBytes(ctx, j, batches[0], 0)).toBeLessThan(4096);
  });

  test('unit tests do take argv space: 20,000 of them are split into batches under the budget, in order', () => {
    const ns: ManifestNode[] = [];
    for (let i = 0; i < 20000; i++) {
      const model = `fct_campaign_touchpoint_attribution_weighted_by_channel_${String(i).padStart(5, '0')}`;
      ns.push(manifestNode(`model.analytics.${model}`, { fqn: ['analytics', folder, model] }));
      ns.push(
        manifestNode(`unit_test.analytics.${model}.test_${model}`, {
          fqn: ['analytics', folder, model, `test_${model}`],
          resourceType: 'unit_test',
        }),
      );
    }
    const ctx = ctxFor(ns);
    const j = job(ns.map((n) => n.unique_id));
    const batches = batchesFor(ctx, j);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(j.nodes);
    for (const [i, b] of batches.entries()) expect(batchBytes(ctx, j, b, i)).toBeLessThanOrEqual(ARGV_BUDGET_BYTES);
    // Greedy, not wasteful: the next batch's first unit test would not have fitted.
    for (let i = 0; i + 1 < batches.length; i++) {
      const next = batches[i + 1].find((u) => ctx.selectors.isUnitTest(u))!;
      expect(batchBytes(ctx, j, [...batches[i], next], i)).toBeGreaterThan(ARGV_BUDGET_BYTES);
    }
  });

  test('a small chunk is one batch', () => {
    const ns = Array.from({ length: 20 }, (_, i) => manifestNode(`model.p.m${i}`, { fqn: ['p', 'm', `m${i}`] }));
    expect(batchesFor(ctxFor(ns), job(ns.map((n) => n.unique_id)))).toEqual([ns.map((n) => n.unique_id)]);
  });
});

describe("run flags in a chunk's argv", () => {
  const base = {
    projectDir: '/p',
    command: 'build',
    targetPath: '/t',
    logPath: '/l',
    selectionState: '/s',
    select: [],
    exclude: [],
    defer: false,
  };
  test('--full-refresh and --empty reach every chunk; --favor-state only with --defer', () => {
    expect(chunkArgv({ ...base, flags: { fullRefresh: true, empty: true, favorState: true } })).toEqual(
      expect.arrayContaining(['--full-refresh', '--empty']),
    );
    expect(chunkArgv({ ...base, flags: { favorState: true } })).not.toContain('--favor-state');
    const deferred = chunkArgv({ ...base, defer: true, state: '/prod', flags: { favorState: true } });
    expect(deferred.slice(deferred.indexOf('--defer'))).toEqual(
      expect.arrayContaining(['--defer', '--defer-state', '/prod', '--favor-state']),
    );
    expect(chunkArgv(base)).not.toEqual(expect.arrayContaining(['--full-refresh']));
  });
});
