// Generates synthetic dbt projects for the benchmark: seeds, layered model DAGs split into tag folders (each with
// `+tags` and its own schema), refs across tags, generic tests (unique / not_null / accepted_values /
// relationships, some across tags) and, optionally, simulated warehouse latency per model (`pg_sleep` in a CTE of
// a table model). Deterministic: the same options give the same files, byte for byte (own PRNG, no Math.random).
//
//   import { generateProject } from './generate.mjs';
//   const info = generateProject('bench/work/x', { models: 400, testsPerModel: 4, tags: 4, skew: 0.5, seed: 1 });
//
// Also a CLI: node bench/generate.mjs <dir> [--models N] [--tests N | --tests-per-model X] [--tags N] [--skew X]
//   [--cross-tag-ref-prob X] [--layers N] [--sleep S] [--heavy-count N] [--heavy-seconds S] [--seed N]
//   [--singular-tests N [--singular-min S] [--singular-max S]]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * mulberry32: a tiny, well-mixed 32-bit PRNG. Returns floats in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CATEGORIES = ['alpha', 'beta', 'gamma', 'delta'];

/**
 * @typedef {object} SleepSpec
 * @property {number} [base]          seconds each sleeping model waits (default 0)
 * @property {number} [share]         fraction of the (non-heavy) models that sleep (default 1 when base > 0)
 * @property {number} [jitter]        fraction of base (plus or minus), per model (default 0)
 * @property {number} [heavyCount]    models that wait heavySeconds; chained through one tag's layers
 * @property {number} [heavySeconds]
 *
 * @typedef {object} ProjectOptions
 * @property {number} [models]           total models (default 40)
 * @property {number} [tests]            total generic tests (wins over testsPerModel)
 * @property {number} [testsPerModel]    average generic tests per model (default 2, at most 7)
 * @property {number|string[]} [tags]    number of tags or their names (default 4)
 * @property {number} [skew]             Zipf exponent of tag sizes: 0 = equal tags (default 0)
 * @property {number} [crossTagRefProb]  probability that a model also refs a model of another tag (default 0.1)
 * @property {number} [layers]           layers of each tag's DAG (default 5)
 * @property {number|SleepSpec|((m: {name: string, tag: string, layer: number}, rng: () => number) => number)} [sleepSeconds]
 * @property {number} [tableShare]       fraction of the other models built as tables (default 0.2)
 * @property {number} [tableEvery]       every n-th layer is all tables, so that views never nest deeply (default 3)
 * @property {number} [seedRows]         rows per seed (default 20)
 * @property {number} [seed]             PRNG seed (default 1)
 * @property {string} [name]             dbt project name (default bench_project)
 * @property {SingularTestSpec} [singularTests] singular tests (tests/*.sql) that wait in the warehouse
 *
 * @typedef {object} SingularTestSpec
 * @property {number} count        how many (each refs one model, round-robin over the models)
 * @property {number} minSeconds   each waits a uniform random time in [minSeconds, maxSeconds] (pg_sleep)
 * @property {number} maxSeconds
 *
 * @typedef {object} GeneratedProject
 * @property {string} dir
 * @property {string} name
 * @property {{ name: string, models: number }[]} tags
 * @property {number} models
 * @property {number} seeds
 * @property {number} tests             generic + singular tests
 * @property {number} singularTests
 * @property {number} singularSleepSeconds  Σ of the singular tests' waits
 * @property {number} nodes
 * @property {number} tables
 * @property {number} sleepingModels
 * @property {number} sleepSecondsTotal Σ of the models' waits
 * @property {{ name: string, seconds: number }[]} heavyModels
 * @property {number} crossTagRefs
 * @property {number} crossTagTests
 */

/**
 * Writes the project into `dir` (emptied first) and returns what was generated.
 * @param {string} dir
 * @param {ProjectOptions} [options]
 * @returns {GeneratedProject}
 */
export function generateProject(dir, options = {}) {
  const o = {
    models: 40, testsPerModel: 2, tags: 4, skew: 0, crossTagRefProb: 0.1, layers: 5, sleepSeconds: 0,
    tableShare: 0.2, tableEvery: 3, seedRows: 20, seed: 1, name: 'bench_project', ...options,
  };
  const rng = prng(o.seed);
  /** @template T @param {T[]} xs @returns {T} */
  const pick = (xs) => xs[Math.floor(rng() * xs.length)];
  const tagNames = Array.isArray(o.tags) ? o.tags : Array.from({ length: o.tags }, (_, i) => `tag_${String.fromCharCode(97 + i)}`);
  const layers = Math.max(1, o.layers);

  // Tag sizes: Zipf-like shares, every tag at least one model per layer it can fill (and at least one model).
  const shares = tagNames.map((_, i) => 1 / Math.pow(i + 1, o.skew));
  const total = shares.reduce((a, b) => a + b, 0);
  const sizes = shares.map((s) => Math.max(1, Math.floor((o.models * s) / total)));
  for (let i = 0; sizes.reduce((a, b) => a + b, 0) < o.models; i = (i + 1) % sizes.length) sizes[i]++;
  for (let i = sizes.length - 1; sizes.reduce((a, b) => a + b, 0) > o.models && i >= 0; i--) if (sizes[i] > 1) sizes[i]--;

  // Models per tag and layer: layer sizes as even as possible, layer 0 first.
  /** @type {{name: string, tag: string, layer: number, parents: string[], materialized: string, sleep: number, heavy: boolean}[]} */
  const models = [];
  const byTagLayer = new Map(); // `${tag}/${layer}` -> model names
  tagNames.forEach((tag, ti) => {
    const n = sizes[ti];
    const ls = Math.min(layers, n);
    for (let j = 0; j < n; j++) {
      const layer = Math.floor((j * ls) / n);
      const name = `${tag}_l${layer}_${String(j).padStart(4, '0')}`;
      models.push({ name, tag, layer, parents: [], materialized: 'view', sleep: 0, heavy: false });
      const key = `${tag}/${layer}`;
      (byTagLayer.get(key) ?? byTagLayer.set(key, []).get(key)).push(name);
    }
  });
  const byName = new Map(models.map((m) => [m.name, m]));
  /** @param {string} tag */
  const layersOf = (tag) => Math.max(...models.filter((m) => m.tag === tag).map((m) => m.layer)) + 1;

  // Heavy models: a chain through the largest tag's layers (1, 2, …), then the next tag, so that they form the
  // critical path the planner has to respect.
  /** @type {SleepSpec} */
  const sleep = typeof o.sleepSeconds === 'number' ? { base: o.sleepSeconds } : typeof o.sleepSeconds === 'object' ? o.sleepSeconds : {};
  const heavy = new Set();
  const heavyPrev = new Map(); // heavy model -> previous heavy in its chain
  if (typeof sleep === 'object' && (sleep.heavyCount ?? 0) > 0) {
    let left = sleep.heavyCount ?? 0;
    for (const tag of tagNames) {
      let prev;
      for (let layer = 1; layer < layersOf(tag) && left > 0; layer++) {
        const candidates = byTagLayer.get(`${tag}/${layer}`) ?? [];
        if (candidates.length === 0) continue;
        const name = candidates[0];
        heavy.add(name);
        if (prev) heavyPrev.set(name, prev);
        prev = name;
        left--;
      }
      if (left === 0) break;
    }
  }

  // Parents: layer 0 reads the tag's seed; later layers ref one model of the previous layer, maybe one more of an
  // earlier layer of the same tag, and with crossTagRefProb one model of an earlier layer of another tag.
  for (const m of models) {
    if (m.layer === 0) continue;
    const same = byTagLayer.get(`${m.tag}/${m.layer - 1}`);
    m.parents.push(heavyPrev.get(m.name) ?? pick(same));
    if (rng() < 0.5) {
      const l = Math.floor(rng() * m.layer);
      const p = pick(byTagLayer.get(`${m.tag}/${l}`));
      if (!m.parents.includes(p)) m.parents.push(p);
    }
    if (tagNames.length > 1 && rng() < o.crossTagRefProb) {
      const others = tagNames.filter((t) => t !== m.tag);
      const t = pick(others);
      const l = Math.min(m.layer - 1, layersOf(t) - 1);
      const cand = [];
      for (let x = 0; x <= l; x++) cand.push(...(byTagLayer.get(`${t}/${x}`) ?? []));
      if (cand.length > 0) {
        const p = pick(cand);
        if (!m.parents.includes(p)) m.parents.push(p);
      }
    }
  }

  // Materialization and sleep. Sleeping models are tables (a view would not wait at build time).
  for (const m of models) {
    let s = 0;
    if (typeof o.sleepSeconds === 'function') s = o.sleepSeconds(m, rng);
    else if (heavy.has(m.name)) s = sleep.heavySeconds ?? 0;
    else if ((sleep.base ?? 0) > 0 && rng() < (sleep.share ?? 1)) s = (sleep.base ?? 0) * (1 + (sleep.jitter ?? 0) * (2 * rng() - 1));
    m.sleep = Math.round(s * 1000) / 1000;
    m.heavy = heavy.has(m.name);
    const table = m.sleep > 0 || m.layer % Math.max(1, o.tableEvery) === 0 || rng() < o.tableShare;
    m.materialized = table ? 'table' : 'view';
  }

  // Tests: `tests` in total, spread evenly (the remainder to random models); kinds in a fixed order per model.
  const totalTests = Math.min(o.tests ?? Math.round(o.models * o.testsPerModel), models.length * 7);
  const perModel = new Map(models.map((m) => [m.name, Math.floor(totalTests / models.length)]));
  const order = models.map((m) => m.name);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < totalTests % models.length; i++) perModel.set(order[i], (perModel.get(order[i]) ?? 0) + 1);

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  /** @param {string} rel @param {string} text */
  const w = (rel, text) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };

  // Project, profile, seeds.
  /** @param {string} extra */
  const folderConfig = (extra) => tagNames.map((t) => `    ${t}:\n      +schema: ${t}\n      +tags: ["${t}"]\n${extra}`).join('');
  w('dbt_project.yml', [
    `name: ${o.name}`, 'version: "1.0.0"', 'config-version: 2', 'profile: parallel_dbt_bench', '',
    'model-paths: ["models"]', 'seed-paths: ["seeds"]', 'test-paths: ["tests"]', 'target-path: target', '',
    'seeds:', `  ${o.name}:`, '    +quote_columns: false', folderConfig(''),
    'models:', `  ${o.name}:`, '    +materialized: view', folderConfig(''),
  ].join('\n'));
  w('profiles.yml', [
    '# Every connection value comes from the environment (set by bench/run.mjs).',
    'parallel_dbt_bench:', '  target: bench', '  outputs:', '    bench:', '      type: postgres',
    "      host: \"{{ env_var('PARALLEL_DBT_PG_HOST', '127.0.0.1') }}\"",
    "      port: \"{{ env_var('PARALLEL_DBT_PG_PORT', '5432') | as_number }}\"",
    "      user: \"{{ env_var('PARALLEL_DBT_PG_USER', 'postgres') }}\"",
    "      password: \"{{ env_var('PARALLEL_DBT_PG_PASSWORD', 'postgres') }}\"",
    "      dbname: \"{{ env_var('PARALLEL_DBT_PG_DATABASE', 'postgres') }}\"",
    "      schema: \"{{ env_var('PARALLEL_DBT_PG_SCHEMA', 'bench') }}\"",
    '      threads: 4', '      connect_timeout: 30', '',
  ].join('\n'));
  for (const tag of tagNames) {
    const rows = ['id,category,amount'];
    for (let i = 1; i <= o.seedRows; i++) rows.push(`${i},${CATEGORIES[i % CATEGORIES.length]},${1 + Math.floor(rng() * 100)}`);
    w(`seeds/${tag}/raw_${tag}.csv`, rows.join('\n') + '\n');
  }

  // Models: every model has exactly the seed's ids, so unique/not_null/relationships on id hold everywhere.
  for (const m of models) {
    const cfg = m.materialized === 'table' ? "{{ config(materialized='table') }}\n" : '';
    const ctes = [];
    if (m.sleep > 0) ctes.push(`latency as (select pg_sleep(${m.sleep}) as waited)`);
    const src = m.layer === 0 ? [`raw_${m.tag}`] : m.parents;
    src.forEach((p, i) => ctes.push(i === 0 ? `p0 as (select id, category, amount from {{ ref('${p}') }})` : `p${i} as (select id, amount from {{ ref('${p}') }})`));
    const amount = ['p0.amount', ...src.slice(1).map((_, i) => `coalesce(p${i + 1}.amount, 0) % 7`)].join(' + ');
    const joins = src.slice(1).map((_, i) => `left join p${i + 1} on p${i + 1}.id = p0.id`);
    if (m.sleep > 0) joins.push('cross join latency');
    w(`models/${m.tag}/${m.name}.sql`, `${cfg}with ${ctes.join(',\n')}\nselect p0.id, p0.category, ${amount} as amount\nfrom p0\n${joins.join('\n')}\n`.replace(/\n\n$/, '\n'));
  }

  // Tests, one YAML file per tag.
  let testCount = 0;
  let crossTagTests = 0;
  for (const tag of tagNames) {
    const lines = ['version: 2', '', 'models:'];
    for (const m of models.filter((x) => x.tag === tag)) {
      const n = perModel.get(m.name);
      if (n === 0) continue;
      const crossParent = m.parents.find((p) => byName.get(p)?.tag !== m.tag);
      const relTo = [crossParent ?? m.parents[0] ?? `raw_${m.tag}`, m.parents.find((p) => p !== (crossParent ?? m.parents[0])) ?? `raw_${m.tag}`];
      /** @type {string[]} */
      const idTests = [];
      /** @type {string[]} */
      const catTests = [];
      /** @type {string[]} */
      const amountTests = [];
      const kinds = [
        () => idTests.push('          - unique'),
        () => idTests.push('          - not_null'),
        () => catTests.push('          - accepted_values:', '              arguments:', `                values: [${CATEGORIES.map((c) => `"${c}"`).join(', ')}]`),
        () => idTests.push('          - relationships:', '              arguments:', `                to: ref('${relTo[0]}')`, '                field: id'),
        () => catTests.push('          - not_null'),
        () => amountTests.push('          - not_null'),
        () => idTests.push('          - relationships:', '              arguments:', `                to: ref('${relTo[1]}')`, '                field: id'),
      ];
      const made = Math.min(n ?? 0, relTo[0] === relTo[1] ? 6 : 7);
      for (let k = 0; k < made; k++) kinds[k]();
      testCount += made;
      for (const k of [3, 6]) if (made > k && byName.get(relTo[k === 3 ? 0 : 1])?.tag !== undefined && byName.get(relTo[k === 3 ? 0 : 1])?.tag !== m.tag) crossTagTests++;
      lines.push(`  - name: ${m.name}`, '    columns:');
      if (idTests.length) lines.push('      - name: id', '        data_tests:', ...idTests);
      if (catTests.length) lines.push('      - name: category', '        data_tests:', ...catTests);
      if (amountTests.length) lines.push('      - name: amount', '        data_tests:', ...amountTests);
    }
    if (lines.length > 3) w(`models/${tag}/_${tag}.yml`, lines.join('\n') + '\n');
  }

  // Singular tests (tests/<tag>/…sql): each waits in the warehouse and returns no row. The wait is the scan of a
  // one-row CTE whose value comes from pg_sleep (volatile, so PostgreSQL must run it); the filter then drops the
  // row. The ref gives the test its parent model, as a data test on a remote warehouse has.
  let singularTests = 0;
  let singularSleep = 0;
  if (o.singularTests && o.singularTests.count > 0) {
    const { count, minSeconds, maxSeconds } = o.singularTests;
    const srng = prng(o.seed * 7919 + 13);
    for (let i = 0; i < count; i++) {
      const m = models[i % models.length];
      const wait = Math.round((minSeconds + (maxSeconds - minSeconds) * srng()) * 1000) / 1000;
      singularSleep += wait;
      w(`tests/${m.tag}/assert_${String(i).padStart(5, '0')}_${m.name}.sql`,
        `-- waits ${wait} s in the warehouse, then returns no row\nwith waited as (select pg_sleep(${wait})::text as w)\nselect waited.w from waited\nwhere waited.w <> '' and exists (select 1 from {{ ref('${m.name}') }})\n`);
      singularTests++;
    }
  }

  const crossRefs = models.reduce((n, m) => n + m.parents.filter((p) => byName.get(p)?.tag !== m.tag).length, 0);
  return {
    dir: resolve(dir),
    name: o.name,
    tags: tagNames.map((t, i) => ({ name: t, models: sizes[i] })),
    models: models.length,
    seeds: tagNames.length,
    tests: testCount + singularTests,
    singularTests,
    singularSleepSeconds: Math.round(singularSleep * 1000) / 1000,
    nodes: models.length + tagNames.length + testCount + singularTests,
    tables: models.filter((m) => m.materialized === 'table').length,
    sleepingModels: models.filter((m) => m.sleep > 0).length,
    sleepSecondsTotal: Math.round(models.reduce((s, m) => s + m.sleep, 0) * 1000) / 1000,
    heavyModels: models.filter((m) => m.heavy).map((m) => ({ name: m.name, seconds: m.sleep })),
    crossTagRefs: crossRefs,
    crossTagTests,
  };
}

// CLI
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--') && !/^\d/.test(a));
  if (!dir) {
    console.error('usage: node bench/generate.mjs <dir> [--models N] [--tests N | --tests-per-model X] [--tags N] [--skew X] [--cross-tag-ref-prob X] [--layers N] [--sleep S] [--heavy-count N] [--heavy-seconds S] [--seed N] [--singular-tests N [--singular-min S] [--singular-max S]]');
    process.exit(2);
  }
  /** @param {string} flag */
  const num = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  /** @type {Record<string, any>} */
  const opts = {};
  for (const [flag, key] of [['--models', 'models'], ['--tests', 'tests'], ['--tests-per-model', 'testsPerModel'], ['--tags', 'tags'], ['--skew', 'skew'],
    ['--cross-tag-ref-prob', 'crossTagRefProb'], ['--layers', 'layers'], ['--seed-rows', 'seedRows'], ['--seed', 'seed'], ['--table-share', 'tableShare']]) {
    const v = num(flag);
    if (v !== undefined) opts[key] = v;
  }
  if (num('--singular-tests') !== undefined) {
    opts.singularTests = { count: num('--singular-tests') ?? 0, minSeconds: num('--singular-min') ?? 0.1, maxSeconds: num('--singular-max') ?? 0.3 };
  }
  if (num('--sleep') !== undefined || num('--heavy-count') !== undefined) {
    opts.sleepSeconds = { base: num('--sleep') ?? 0, heavyCount: num('--heavy-count') ?? 0, heavySeconds: num('--heavy-seconds') ?? 0, share: num('--sleep-share') };
  }
  console.log(JSON.stringify(generateProject(dir, opts), null, 2));
}
