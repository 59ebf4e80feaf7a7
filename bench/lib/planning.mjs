// Planning a 50,000-node manifest: the planner from src/plan (the ncc bundle of plan-lib.mjs) in a child process, on
// a synthetic manifest with a timings file for every node; wall time and peak RSS.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prng } from '../generate.mjs';
import { BENCH, WORK } from './paths.mjs';
import { planLib } from './plan-lib.mjs';
import { run } from './processes.mjs';
import { round } from './util.mjs';

/**
 * A synthetic manifest and run_results.json (a time for every node): 1 model : 3 tests, 20 tags × 10 layers, one
 * test in three with two parents; lean (the fields the planner reads plus common ones).
 * @param {number} nodes
 * @param {number} seed
 */
export function synthManifest(nodes, seed) {
  const rng = prng(seed);
  const models = Math.round(nodes / 4);
  const tests = nodes - models;
  const tags = 20;
  const layers = 10;
  const ids = [];
  const byLayerTag = new Map(); // `${layer}/${tag}` -> model ids
  /** @param {number} l @param {number} t @returns {string[]} */
  const cands = (l, t) => byLayerTag.get(`${l}/${t}`) ?? [];
  /** @type {{ metadata: object, nodes: Record<string, any>, sources: object, unit_tests: object }} */
  const manifest = {
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', dbt_version: '1.11.16' },
    nodes: {},
    sources: {},
    unit_tests: {},
  };
  /** @param {string} uid @param {string} type @param {string} name @param {string[]} deps @param {string} tag */
  const node = (uid, type, name, deps, tag) => ({
    database: 'bench',
    schema: `bench_${tag}`,
    name,
    resource_type: type,
    package_name: 'big',
    path: `${tag}/${name}.sql`,
    original_file_path: `models/${tag}/${name}.sql`,
    unique_id: uid,
    fqn: ['big', tag, name],
    alias: name,
    checksum: { name: 'sha256', checksum: 'f'.repeat(64) },
    config: {
      enabled: true,
      alias: null,
      schema: tag,
      database: null,
      tags: [tag],
      meta: {},
      materialized: type === 'test' ? 'test' : 'view',
      incremental_strategy: null,
      persist_docs: {},
      quoting: {},
      column_types: {},
      full_refresh: null,
      on_schema_change: 'ignore',
      grants: {},
      packages: [],
      docs: { show: true },
      contract: { enforced: false },
    },
    tags: [tag],
    description: '',
    columns: {},
    meta: {},
    docs: { show: true },
    patch_path: null,
    build_path: null,
    unrendered_config: {},
    created_at: 1700000000,
    relation_name: `"bench"."bench_${tag}"."${name}"`,
    raw_code: `select * from {{ ref('${deps[0]?.split('.').pop() ?? 'x'}') }}`,
    language: 'sql',
    refs: deps.map((d) => ({ name: d.split('.').pop(), package: null, version: null })),
    sources: [],
    metrics: [],
    depends_on: { macros: type === 'test' ? ['macro.dbt.test_unique'] : [], nodes: deps },
    compiled_path: null,
    contract: { enforced: false, alias_types: true, checksum: null },
  });
  for (let i = 0; i < models; i++) {
    const tag = `t${i % tags}`;
    const layer = Math.floor((Math.floor(i / tags) * layers) / Math.ceil(models / tags));
    const name = `m${i}`;
    const uid = `model.big.${name}`;
    const deps = [];
    if (layer > 0) {
      const prev = cands(layer - 1, i % tags);
      if (prev.length) deps.push(prev[Math.floor(rng() * prev.length)]);
      if (rng() < 0.15) {
        const other = cands(layer - 1, Math.floor(rng() * tags));
        if (other.length) deps.push(other[Math.floor(rng() * other.length)]);
      }
    }
    ids.push(uid);
    const key = `${layer}/${i % tags}`;
    (byLayerTag.get(key) ?? byLayerTag.set(key, []).get(key)).push(uid);
    manifest.nodes[uid] = node(uid, 'model', name, [...new Set(deps)], tag);
  }
  for (let k = 0; k < tests; k++) {
    const i = k % models;
    const uid = ids[i];
    const tag = `t${i % tags}`;
    const kind = Math.floor(k / models);
    const name = `test_${kind}_m${i}`;
    const deps =
      kind === 2 && manifest.nodes[uid].depends_on.nodes.length
        ? [uid, manifest.nodes[uid].depends_on.nodes.at(-1)]
        : [uid];
    manifest.nodes[`test.big.${name}`] = node(`test.big.${name}`, 'test', name, deps, tag);
  }
  const results = Object.keys(manifest.nodes).map((u) => ({
    unique_id: u,
    status: u.startsWith('test.') ? 'pass' : 'success',
    execution_time: u.startsWith('test.') ? 0.05 + rng() * 0.1 : 0.1 + rng() * 2,
    timing: [],
    thread_id: 'Thread-1',
    adapter_response: {},
    message: null,
    failures: null,
  }));
  return {
    manifest,
    runResults: {
      metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json' },
      results,
      elapsed_time: 0,
      args: {},
    },
  };
}

/**
 * Plans the synthetic manifest in a child Node process (bench/plan-child.mjs), twice: wall times and peak RSS of the best.
 * @param {{ nodes: number, parallel: number, threads: number }} o   threads: the action's under the cpu shape's budget
 */
export async function plan50k({ nodes, parallel, threads }) {
  const dir = join(WORK, 'plan50k');
  mkdirSync(dir, { recursive: true });
  const pl = await planLib();
  if (!pl.bundle) return { error: pl.error ?? 'no src/plan bundle' };
  const { manifest, runResults } = synthManifest(nodes, 5);
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  writeFileSync(join(dir, 'run_results.json'), JSON.stringify(runResults));
  const childPath = join(BENCH, 'plan-child.mjs');
  const manifestMB = round(readFileSync(manifestPath).length / 1048576);
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const p = await run(
      process.execPath,
      [
        childPath,
        pathToFileURL(pl.bundle).href,
        manifestPath,
        join(dir, 'run_results.json'),
        String(Math.max(parallel, 4)),
        String(threads),
      ],
      { env: process.env, cwd: dir, log: join(dir, `child-${i}.log`), timeoutMs: 180000 },
    );
    const line = readFileSync(join(dir, `child-${i}.log`), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('BENCH_RESULT '));
    if (!line)
      return {
        error: `planner child exited ${p.code ?? p.signal} after ${round(p.seconds)} s without a result (see bench/work/plan50k/child-${i}.log)`,
        manifestMB,
      };
    runs.push(JSON.parse(line.slice('BENCH_RESULT '.length)));
  }
  const best = runs.reduce((a, b) => (b.planning < a.planning ? b : a));
  rmSync(manifestPath, { force: true });
  return {
    ...best,
    manifestMB,
    runs: runs.map((r) => ({ planning: r.planning, total: r.total, maxRssMB: r.maxRssMB })),
    maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)),
    chunksAsked: Math.max(parallel, 4),
    threads,
  };
}
