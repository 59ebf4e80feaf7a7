// Exact node selection by FQN (src/run/selectors.ts) and argv batching (batchesFor in src/run/chunk.ts).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { join } from 'node:path';
import { argvBytes, chunkArgv } from '../src/dbt/argv.js';
import { ARGV_BUDGET_BYTES, batchesFor, type ChunkContext, type ChunkJob } from '../src/run/chunk.js';
import { SelectorIndex } from '../src/run/selectors.js';
import type { ManifestNode } from '../src/dbt/types.js';
import { manifestNode, manifestOf } from './support/graphs.js';

/**
 * dbt's FQN selector match for plain (unversioned, wildcard-free) selectors, after dbt-core 1.11
 * core/dbt/graph/selector_methods.py is_selected_node / QualifiedNameSelectorMethod.node_is_match: the leaf name,
 * or a prefix of the flattened FQN — tried on the FQN and on the FQN without its package ("across packages").
 * Sources are never matched.
 */
function dbtSelects(selector: string, n: ManifestNode): boolean {
  if (n.resource_type === 'source') return false;
  if (selector.includes(',')) return selector.split(',').every((part) => dbtSelects(part, n)); // intersection
  if (selector.startsWith('path:')) return n.original_file_path === selector.slice('path:'.length);
  const prefix = (fqn: string[]): boolean => {
    if (fqn[fqn.length - 1] === selector) return true;
    const flat = fqn.flatMap((s) => s.split('.'));
    const parts = selector.split('.');
    return flat.length >= parts.length && parts.every((p, i) => flat[i] === p);
  };
  return prefix(n.fqn) || prefix(n.fqn.slice(1));
}

/** What `dbt … --select <select> --exclude <exclude>` would run. */
function dbtRuns(nodes: ManifestNode[], sel: { select: string[]; exclude: string[] }): string[] {
  return nodes.filter((n) => sel.select.some((s) => dbtSelects(s, n)) && !sel.exclude.some((s) => dbtSelects(s, n))).map((n) => n.unique_id).sort();
}

describe('SelectorIndex', () => {
  const nodes = [
    manifestNode('model.p.orders', { fqn: ['p', 'stg', 'orders'] }),
    manifestNode('model.p.orders_v2', { fqn: ['p', 'stg', 'orders', 'orders_v2'] }), // models/stg/orders/orders_v2.sql
    manifestNode('model.p.orders_v3', { fqn: ['p', 'stg', 'orders_v3'] }), // string prefix only: not matched by dbt
    manifestNode('source.p.raw.orders', { fqn: ['p', 'stg', 'orders', 'raw'] }), // sources are not selected by FQN
  ];
  const index = new SelectorIndex(manifestOf(nodes));

  test('a node whose FQN extends another\'s is excluded from the other\'s selection', () => {
    const sel = index.selectionFor(['model.p.orders']);
    // The FQN alone would also select orders_v2: the node's own file narrows it to exactly orders.
    expect(sel).toEqual({ select: ['p.stg.orders,path:models/orders.sql'], exclude: [] });
    expect(dbtRuns(nodes, sel)).toEqual(['model.p.orders']);
    expect(dbtRuns(nodes, { select: ['p.stg.orders'], exclude: [] })).toEqual(['model.p.orders', 'model.p.orders_v2']);
  });

  test('both in the same chunk: no exclude', () => {
    const sel = index.selectionFor(['model.p.orders', 'model.p.orders_v2']);
    expect(sel).toEqual({ select: ['p.stg.orders,path:models/orders.sql', 'p.stg.orders.orders_v2'], exclude: [] });
    expect(dbtRuns(nodes, sel)).toEqual(['model.p.orders', 'model.p.orders_v2']);
  });

  test('the longer FQN alone, a mere string prefix and a source need no exclude', () => {
    expect(index.selectionFor(['model.p.orders_v2']).exclude).toEqual([]);
    expect(index.selectionFor(['model.p.orders_v3']).exclude).toEqual([]);
    expect(index.overmatched('model.p.orders')).toEqual(['model.p.orders_v2']);
    expect(() => index.selectorOf('source.p.raw.orders')).toThrow(/no FQN/);
  });

  // Random projects of one package whose folders and model names come from a tiny alphabet (so FQNs often extend
  // one another), none named like the package: nothing outside a chunk runs, and every chunk member runs unless it
  // sits below the FQN of a node outside the chunk.
  test('random FQN trees: dbt runs the chunk and nothing else', () => {
    const segment = fc.constantFrom('stg', 'marts', 'orders', 'a', 'b');
    const fqns = fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30, selector: (f) => f.join('.') });
    fc.assert(
      fc.property(fqns.chain((fs) => fc.tuple(fc.constant(fs), fc.subarray([...fs.keys()], { minLength: 1 }))), ([fs, chunk]) => {
        const ns = fs.map((f, i) => manifestNode(`model.p.m${i}`, { fqn: ['p', ...f] }));
        const ids = chunk.map((i) => ns[i].unique_id);
        const sel = new SelectorIndex(manifestOf(ns)).selectionFor(ids);
        const runs = new Set(dbtRuns(ns, sel));
        for (const n of ns) if (!ids.includes(n.unique_id)) expect(runs.has(n.unique_id)).toBe(false);
        for (const u of ids) expect(runs.has(u)).toBe(true); // every chunk member runs
      }),
      { numRuns: 500 },
    );
  });

  // Regression (found by this test, fixed with `fqn,path:file` intersections): dbt also matches a selector against the FQN without its package
  // (node_is_match: "Match nodes across different packages"), so in project `marts` the selector `marts.orders`
  // (models/orders.sql) also selects models/marts/orders/fct_orders.sql, FQN marts.marts.orders.fct_orders.
  // Checked with dbt-core 1.11.16: `dbt ls --select marts.orders` lists both. overmatched() only looks for FQNs
  // extending the key, so fct_orders is not excluded and would run in two chunks.
  test('a folder named like the project: the package-less FQN match is excluded too', () => {
    const ns = [
      manifestNode('model.marts.orders', { fqn: ['marts', 'orders'] }),
      manifestNode('model.marts.fct_orders', { fqn: ['marts', 'marts', 'orders', 'fct_orders'] }),
    ];
    const sel = new SelectorIndex(manifestOf(ns)).selectionFor(['model.marts.orders']);
    expect(dbtRuns(ns, sel)).toEqual(['model.marts.orders']);
  });

  // Regression (found by this test, fixed): an exclude for a node outside the chunk also removes the chunk's own nodes whose
  // FQN extends it. Chunk {a, c} with b elsewhere: select `p.a p.a.b.c`, exclude `p.a.b` — and `p.a.b` matches
  // c (p.a.b.c), so dbt runs only a (checked with dbt-core 1.11.16 `dbt ls`); c ends as "no result" error.
  test('an exclude never removes a node of the chunk itself', () => {
    const ns = [
      manifestNode('model.p.a', { fqn: ['p', 'a'] }), // models/a.sql
      manifestNode('model.p.b', { fqn: ['p', 'a', 'b'] }), // models/a/b.sql
      manifestNode('model.p.c', { fqn: ['p', 'a', 'b', 'c'] }), // models/a/b/c.sql
    ];
    const sel = new SelectorIndex(manifestOf(ns)).selectionFor(['model.p.a', 'model.p.c']);
    expect(dbtRuns(ns, sel)).toEqual(['model.p.a', 'model.p.c']);
  });
});

describe('batchesFor', () => {
  const folder = 'a_rather_long_folder_name_for_marketing_attribution_models';
  const ctxFor = (ns: ManifestNode[]): ChunkContext => ({
    exe: '/opt/dbt/bin/dbt',
    command: 'build',
    project: { projectDir: '/home/runner/work/repo/repo/analytics', profilesDir: '/home/runner/.dbt', target: 'ci', vars: '{"run_date": "2026-01-01"}' },
    cwd: '/home/runner/work/repo/repo',
    env: { PATH: '/usr/bin:/bin', DBT_PROFILES_DIR: '/home/runner/.dbt', SOME_TOKEN_NAME: 'x'.repeat(200) },
    partialParseFile: '/tmp/parallel-dbt/parse/partial_parse.msgpack',
    threads: 8,
    defer: false,
    selectors: new SelectorIndex(manifestOf(ns)),
  });
  const job = (nodes: string[]): ChunkJob => ({ name: 'chunk-1', nodes, dir: '/tmp/parallel-dbt/chunks/chunk-1' });
  /** Kernel accounting of the environment: "K=V\0" plus a pointer per variable. */
  const envBytes = (env: Record<string, string | undefined>): number => Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}=${v ?? ''}`) + 1 + 8, 0);
  /** The argv runChunk builds for batch i (of several). */
  const batchBytes = (ctx: ChunkContext, j: ChunkJob, batch: string[], i: number): number => {
    const sel = ctx.selectors.selectionFor(batch);
    const suffix = `-${String(i + 1).padStart(2, '0')}`;
    return argvBytes(chunkArgv({ ...ctx.project, command: ctx.command, targetPath: join(j.dir, `target${suffix}`), logPath: join(j.dir, `logs${suffix}`), partialParseFile: ctx.partialParseFile, threads: ctx.threads, select: sel.select, exclude: sel.exclude, state: ctx.state, defer: ctx.defer })) + envBytes(ctx.env);
  };

  test('40,000 long-named nodes: several batches, each under the budget, together the chunk in order', () => {
    const ns: ManifestNode[] = [];
    for (let i = 0; i < 40000; i++) {
      const name = `fct_campaign_touchpoint_attribution_weighted_by_channel_${String(i).padStart(5, '0')}`;
      ns.push(manifestNode(`model.analytics.${name}`, { fqn: ['analytics', folder, name] }));
      // Every 50th model has a namesake folder with a model in it (not in this chunk): its selector needs an exclude.
      if (i % 50 === 0) ns.push(manifestNode(`model.analytics.${name}_v2`, { fqn: ['analytics', folder, name, `${name}_v2`] }));
    }
    const ctx = ctxFor(ns);
    const wanted = ns.filter((n) => !n.unique_id.endsWith('_v2')).map((n) => n.unique_id);
    const j = job(wanted);
    const batches = batchesFor(ctx, j);

    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(wanted);
    const sizes = batches.map((b, i) => batchBytes(ctx, j, b, i));
    for (const s of sizes) expect(s).toBeLessThanOrEqual(ARGV_BUDGET_BYTES);
    // Greedy, not wasteful: the next batch's first node would not have fitted into the previous batch.
    for (let i = 0; i + 1 < batches.length; i++) {
      expect(batchBytes(ctx, j, [...batches[i], batches[i + 1][0]], i)).toBeGreaterThan(ARGV_BUDGET_BYTES);
    }
    // The excludes made it into the argv of the batches that need them.
    expect(ctx.selectors.selectionFor(batches[0]).exclude.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(Math.ceil(sizes.reduce((a, b) => a + b, 0) / ARGV_BUDGET_BYTES) + 2);
  });

  test('a small chunk is one batch', () => {
    const ns = Array.from({ length: 20 }, (_, i) => manifestNode(`model.p.m${i}`, { fqn: ['p', 'm', `m${i}`] }));
    expect(batchesFor(ctxFor(ns), job(ns.map((n) => n.unique_id)))).toEqual([ns.map((n) => n.unique_id)]);
  });
});
