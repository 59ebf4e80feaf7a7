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
 * @typedef {{ name: string, tag: string, layer: number, parents: string[], materialized: string, sleep: number, heavy: boolean }} Model
 *
 * @typedef {object} Layout   the models of every tag, by layer
 * @property {Model[]} models
 * @property {Map<string, string[]>} byTagLayer   `${tag}/${layer}` -> model names
 * @property {Map<string, Model>} byName
 * @property {(tag: string) => number} layersOf
 */

/**
 * Writes the project into `dir` (emptied first) and returns what was generated. The steps draw from one PRNG in a
 * fixed order (parents, sleeps and materializations, the test spread, seed rows), so the same options give the same
 * files.
 * @param {string} dir
 * @param {ProjectOptions} [options]
 * @returns {GeneratedProject}
 */
export function generateProject(dir, options = {}) {
  const o = {
    models: 40,
    testsPerModel: 2,
    tags: 4,
    skew: 0,
    crossTagRefProb: 0.1,
    layers: 5,
    sleepSeconds: 0,
    tableShare: 0.2,
    tableEvery: 3,
    seedRows: 20,
    seed: 1,
    name: 'bench_project',
    ...options,
  };
  const rng = prng(o.seed);
  const tagNames = Array.isArray(o.tags)
    ? o.tags
    : Array.from({ length: o.tags }, (_, i) => `tag_${String.fromCharCode(97 + i)}`);
  const sizes = tagSizes(tagNames.length, o.models, o.skew);
  const layout = layOutModels(tagNames, sizes, Math.max(1, o.layers));
  /** @type {SleepSpec} */
  const sleep =
    typeof o.sleepSeconds === 'number'
      ? { base: o.sleepSeconds }
      : typeof o.sleepSeconds === 'object'
        ? o.sleepSeconds
        : {};
  const heavyPrev = chainHeavyModels(layout, tagNames, sleep.heavyCount ?? 0);
  pickParents(layout, tagNames, heavyPrev, o.crossTagRefProb, rng);
  sleepAndMaterialize(
    layout.models,
    {
      sleepSeconds: o.sleepSeconds,
      sleep,
      heavy: new Set(heavyPrev.keys()),
      tableEvery: o.tableEvery,
      tableShare: o.tableShare,
    },
    rng,
  );
  const perModel = spreadTests(
    layout.models,
    Math.min(o.tests ?? Math.round(o.models * o.testsPerModel), layout.models.length * 7),
    rng,
  );

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  /** @param {string} rel @param {string} text */
  const w = (rel, text) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  writeProjectFiles(w, o.name, tagNames);
  writeSeeds(w, tagNames, o.seedRows, rng);
  writeModels(w, layout.models);
  const generic = writeGenericTests(w, layout, tagNames, perModel);
  const singular =
    o.singularTests && o.singularTests.count > 0
      ? writeSingularTests(w, layout.models, o.singularTests, o.seed)
      : { count: 0, sleepSeconds: 0 };

  const { models, byName } = layout;
  const crossRefs = models.reduce((n, m) => n + m.parents.filter((p) => byName.get(p)?.tag !== m.tag).length, 0);
  return {
    dir: resolve(dir),
    name: o.name,
    tags: tagNames.map((t, i) => ({ name: t, models: sizes[i] })),
    models: models.length,
    seeds: tagNames.length,
    tests: generic.count + singular.count,
    singularTests: singular.count,
    singularSleepSeconds: Math.round(singular.sleepSeconds * 1000) / 1000,
    nodes: models.length + tagNames.length + generic.count + singular.count,
    tables: models.filter((m) => m.materialized === 'table').length,
    sleepingModels: models.filter((m) => m.sleep > 0).length,
    sleepSecondsTotal: Math.round(models.reduce((s, m) => s + m.sleep, 0) * 1000) / 1000,
    heavyModels: models.filter((m) => m.heavy).map((m) => ({ name: m.name, seconds: m.sleep })),
    crossTagRefs: crossRefs,
    crossTagTests: generic.crossTag,
  };
}

/**
 * Tag sizes: Zipf-like shares (1 / rank^skew), every tag at least one model, `models` in all.
 * @param {number} tags
 * @param {number} models
 * @param {number} skew
 */
function tagSizes(tags, models, skew) {
  const shares = Array.from({ length: tags }, (_, i) => 1 / Math.pow(i + 1, skew));
  const total = shares.reduce((a, b) => a + b, 0);
  const sizes = shares.map((s) => Math.max(1, Math.floor((models * s) / total)));
  for (let i = 0; sizes.reduce((a, b) => a + b, 0) < models; i = (i + 1) % sizes.length) sizes[i]++;
  for (let i = sizes.length - 1; sizes.reduce((a, b) => a + b, 0) > models && i >= 0; i--) if (sizes[i] > 1) sizes[i]--;
  return sizes;
}

/**
 * Models per tag and layer: layer sizes as even as possible, layer 0 first; no parents yet.
 * @param {string[]} tagNames
 * @param {number[]} sizes
 * @param {number} layers
 * @returns {Layout}
 */
function layOutModels(tagNames, sizes, layers) {
  /** @type {Model[]} */
  const models = [];
  /** @type {Map<string, string[]>} */
  const byTagLayer = new Map();
  tagNames.forEach((tag, ti) => {
    const n = sizes[ti];
    const ls = Math.min(layers, n);
    for (let j = 0; j < n; j++) {
      const layer = Math.floor((j * ls) / n);
      const name = `${tag}_l${layer}_${String(j).padStart(4, '0')}`;
      models.push({ name, tag, layer, parents: [], materialized: 'view', sleep: 0, heavy: false });
      const key = `${tag}/${layer}`;
      (byTagLayer.get(key) ?? byTagLayer.set(key, []).get(key) ?? []).push(name);
    }
  });
  /** @param {string} tag */
  const layersOf = (tag) => Math.max(...models.filter((m) => m.tag === tag).map((m) => m.layer)) + 1;
  return { models, byTagLayer, byName: new Map(models.map((m) => [m.name, m])), layersOf };
}

/**
 * Heavy models: a chain through the first tag's layers (1, 2, …), then the next tag, so that they form the critical
 * path the planner has to respect.
 * @param {Layout} layout
 * @param {string[]} tagNames
 * @param {number} count
 * @returns {Map<string, string | undefined>}   heavy model -> the previous heavy model of its chain (none: the first)
 */
function chainHeavyModels({ byTagLayer, layersOf }, tagNames, count) {
  /** @type {Map<string, string | undefined>} */
  const heavyPrev = new Map();
  let left = count;
  for (const tag of tagNames) {
    if (left <= 0) break;
    /** @type {string | undefined} */
    let prev;
    for (let layer = 1; layer < layersOf(tag) && left > 0; layer++) {
      const candidates = byTagLayer.get(`${tag}/${layer}`) ?? [];
      if (candidates.length === 0) continue;
      const name = candidates[0];
      heavyPrev.set(name, prev);
      prev = name;
      left--;
    }
  }
  return heavyPrev;
}

/**
 * Parents: layer 0 reads the tag's seed; later layers ref one model of the previous layer (a heavy model its chain's
 * previous one), maybe one more of an earlier layer of the same tag, and with crossTagRefProb one model of an earlier
 * layer of another tag.
 * @param {Layout} layout
 * @param {string[]} tagNames
 * @param {Map<string, string | undefined>} heavyPrev
 * @param {number} crossTagRefProb
 * @param {() => number} rng
 */
function pickParents({ models, byTagLayer, layersOf }, tagNames, heavyPrev, crossTagRefProb, rng) {
  /** @template T @param {T[]} xs @returns {T} */
  const pick = (xs) => xs[Math.floor(rng() * xs.length)];
  /** @param {string} tag @param {number} layer */
  const at = (tag, layer) => byTagLayer.get(`${tag}/${layer}`) ?? [];
  for (const m of models) {
    if (m.layer === 0) continue;
    m.parents.push(heavyPrev.get(m.name) ?? pick(at(m.tag, m.layer - 1)));
    if (rng() < 0.5) {
      const p = pick(at(m.tag, Math.floor(rng() * m.layer)));
      if (!m.parents.includes(p)) m.parents.push(p);
    }
    if (tagNames.length > 1 && rng() < crossTagRefProb) {
      const t = pick(tagNames.filter((x) => x !== m.tag));
      const l = Math.min(m.layer - 1, layersOf(t) - 1);
      const cand = [];
      for (let x = 0; x <= l; x++) cand.push(...at(t, x));
      if (cand.length > 0) {
        const p = pick(cand);
        if (!m.parents.includes(p)) m.parents.push(p);
      }
    }
  }
}

/**
 * Each model's sleep and materialization. Sleeping models are tables (a view would not wait at build time), and so
 * is every tableEvery-th layer and a tableShare of the rest.
 * @param {Model[]} models
 * @param {{ sleepSeconds: ProjectOptions['sleepSeconds'], sleep: SleepSpec, heavy: Set<string>, tableEvery: number, tableShare: number }} o
 * @param {() => number} rng
 */
function sleepAndMaterialize(models, { sleepSeconds, sleep, heavy, tableEvery, tableShare }, rng) {
  for (const m of models) {
    let s = 0;
    if (typeof sleepSeconds === 'function') s = sleepSeconds(m, rng);
    else if (heavy.has(m.name)) s = sleep.heavySeconds ?? 0;
    else if ((sleep.base ?? 0) > 0 && rng() < (sleep.share ?? 1))
      s = (sleep.base ?? 0) * (1 + (sleep.jitter ?? 0) * (2 * rng() - 1));
    m.sleep = Math.round(s * 1000) / 1000;
    m.heavy = heavy.has(m.name);
    const table = m.sleep > 0 || m.layer % Math.max(1, tableEvery) === 0 || rng() < tableShare;
    m.materialized = table ? 'table' : 'view';
  }
}

/**
 * Generic tests per model: `total` spread evenly, the remainder to random models.
 * @param {Model[]} models
 * @param {number} total
 * @param {() => number} rng
 * @returns {Map<string, number>}
 */
function spreadTests(models, total, rng) {
  const perModel = new Map(models.map((m) => [m.name, Math.floor(total / models.length)]));
  const order = models.map((m) => m.name);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < total % models.length; i++) perModel.set(order[i], (perModel.get(order[i]) ?? 0) + 1);
  return perModel;
}

/** @typedef {(rel: string, text: string) => void} Write   writes one file of the project */

/**
 * dbt_project.yml (a folder per tag with its +schema and +tags) and profiles.yml (postgres, every value from the
 * PARALLEL_DBT_PG_* environment).
 * @param {Write} w
 * @param {string} name
 * @param {string[]} tagNames
 */
function writeProjectFiles(w, name, tagNames) {
  /** @param {string} extra */
  const folderConfig = (extra) =>
    tagNames.map((t) => `    ${t}:\n      +schema: ${t}\n      +tags: ["${t}"]\n${extra}`).join('');
  w(
    'dbt_project.yml',
    [
      `name: ${name}`,
      'version: "1.0.0"',
      'config-version: 2',
      'profile: parallel_dbt_bench',
      '',
      'model-paths: ["models"]',
      'seed-paths: ["seeds"]',
      'test-paths: ["tests"]',
      'target-path: target',
      '',
      'seeds:',
      `  ${name}:`,
      '    +quote_columns: false',
      folderConfig(''),
      'models:',
      `  ${name}:`,
      '    +materialized: view',
      folderConfig(''),
    ].join('\n'),
  );
  w(
    'profiles.yml',
    [
      '# Every connection value comes from the environment (set by bench/run.mjs).',
      'parallel_dbt_bench:',
      '  target: bench',
      '  outputs:',
      '    bench:',
      '      type: postgres',
      "      host: \"{{ env_var('PARALLEL_DBT_PG_HOST', '127.0.0.1') }}\"",
      "      port: \"{{ env_var('PARALLEL_DBT_PG_PORT', '5432') | as_number }}\"",
      "      user: \"{{ env_var('PARALLEL_DBT_PG_USER', 'postgres') }}\"",
      "      password: \"{{ env_var('PARALLEL_DBT_PG_PASSWORD', 'postgres') }}\"",
      "      dbname: \"{{ env_var('PARALLEL_DBT_PG_DATABASE', 'postgres') }}\"",
      "      schema: \"{{ env_var('PARALLEL_DBT_PG_SCHEMA', 'bench') }}\"",
      '      threads: 4',
      '      connect_timeout: 30',
      '',
    ].join('\n'),
  );
}

/**
 * One seed per tag: ids 1…rows, a category, a random amount.
 * @param {Write} w
 * @param {string[]} tagNames
 * @param {number} seedRows
 * @param {() => number} rng
 */
function writeSeeds(w, tagNames, seedRows, rng) {
  for (const tag of tagNames) {
    const rows = ['id,category,amount'];
    for (let i = 1; i <= seedRows; i++)
      rows.push(`${i},${CATEGORIES[i % CATEGORIES.length]},${1 + Math.floor(rng() * 100)}`);
    w(`seeds/${tag}/raw_${tag}.csv`, rows.join('\n') + '\n');
  }
}

/**
 * Models: every model has exactly the seed's ids, so unique/not_null/relationships on id hold everywhere.
 * @param {Write} w
 * @param {Model[]} models
 */
function writeModels(w, models) {
  for (const m of models) {
    const cfg = m.materialized === 'table' ? "{{ config(materialized='table') }}\n" : '';
    const ctes = [];
    if (m.sleep > 0) ctes.push(`latency as (select pg_sleep(${m.sleep}) as waited)`);
    const src = m.layer === 0 ? [`raw_${m.tag}`] : m.parents;
    src.forEach((p, i) =>
      ctes.push(
        i === 0
          ? `p0 as (select id, category, amount from {{ ref('${p}') }})`
          : `p${i} as (select id, amount from {{ ref('${p}') }})`,
      ),
    );
    const amount = ['p0.amount', ...src.slice(1).map((_, i) => `coalesce(p${i + 1}.amount, 0) % 7`)].join(' + ');
    const joins = src.slice(1).map((_, i) => `left join p${i + 1} on p${i + 1}.id = p0.id`);
    if (m.sleep > 0) joins.push('cross join latency');
    w(
      `models/${m.tag}/${m.name}.sql`,
      `${cfg}with ${ctes.join(',\n')}\nselect p0.id, p0.category, ${amount} as amount\nfrom p0\n${joins.join('\n')}\n`.replace(
        /\n\n$/,
        '\n',
      ),
    );
  }
}

/**
 * Generic tests, one YAML file per tag; kinds in a fixed order per model (unique, not_null, accepted_values,
 * relationships — to a parent in another tag when there is one — and so on).
 * @param {Write} w
 * @param {Layout} layout
 * @param {string[]} tagNames
 * @param {Map<string, number>} perModel
 * @returns {{ count: number, crossTag: number }}
 */
function writeGenericTests(w, { models, byName }, tagNames, perModel) {
  let count = 0;
  let crossTag = 0;
  for (const tag of tagNames) {
    const lines = ['version: 2', '', 'models:'];
    for (const m of models.filter((x) => x.tag === tag)) {
      const n = perModel.get(m.name);
      if (n === 0) continue;
      const crossParent = m.parents.find((p) => byName.get(p)?.tag !== m.tag);
      const relTo = [
        crossParent ?? m.parents[0] ?? `raw_${m.tag}`,
        m.parents.find((p) => p !== (crossParent ?? m.parents[0])) ?? `raw_${m.tag}`,
      ];
      /** @type {string[]} */
      const idTests = [];
      /** @type {string[]} */
      const catTests = [];
      /** @type {string[]} */
      const amountTests = [];
      const kinds = [
        () => idTests.push('          - unique'),
        () => idTests.push('          - not_null'),
        () =>
          catTests.push(
            '          - accepted_values:',
            '              arguments:',
            `                values: [${CATEGORIES.map((c) => `"${c}"`).join(', ')}]`,
          ),
        () =>
          idTests.push(
            '          - relationships:',
            '              arguments:',
            `                to: ref('${relTo[0]}')`,
            '                field: id',
          ),
        () => catTests.push('          - not_null'),
        () => amountTests.push('          - not_null'),
        () =>
          idTests.push(
            '          - relationships:',
            '              arguments:',
            `                to: ref('${relTo[1]}')`,
            '                field: id',
          ),
      ];
      const made = Math.min(n ?? 0, relTo[0] === relTo[1] ? 6 : 7);
      for (let k = 0; k < made; k++) kinds[k]();
      count += made;
      for (const k of [3, 6])
        if (
          made > k &&
          byName.get(relTo[k === 3 ? 0 : 1])?.tag !== undefined &&
          byName.get(relTo[k === 3 ? 0 : 1])?.tag !== m.tag
        )
          crossTag++;
      lines.push(`  - name: ${m.name}`, '    columns:');
      if (idTests.length) lines.push('      - name: id', '        data_tests:', ...idTests);
      if (catTests.length) lines.push('      - name: category', '        data_tests:', ...catTests);
      if (amountTests.length) lines.push('      - name: amount', '        data_tests:', ...amountTests);
    }
    if (lines.length > 3) w(`models/${tag}/_${tag}.yml`, lines.join('\n') + '\n');
  }
  return { count, crossTag };
}

/**
 * Singular tests (tests/<tag>/…sql): each waits in the warehouse and returns no row. The wait is the scan of a
 * one-row CTE whose value comes from pg_sleep (volatile, so PostgreSQL must run it); the filter then drops the
 * row. The ref gives the test its parent model, as a data test on a remote warehouse has. Own PRNG stream.
 * @param {Write} w
 * @param {Model[]} models
 * @param {SingularTestSpec} spec
 * @param {number} seed
 * @returns {{ count: number, sleepSeconds: number }}
 */
function writeSingularTests(w, models, { count, minSeconds, maxSeconds }, seed) {
  const srng = prng(seed * 7919 + 13);
  let sleepSeconds = 0;
  for (let i = 0; i < count; i++) {
    const m = models[i % models.length];
    const wait = Math.round((minSeconds + (maxSeconds - minSeconds) * srng()) * 1000) / 1000;
    sleepSeconds += wait;
    w(
      `tests/${m.tag}/assert_${String(i).padStart(5, '0')}_${m.name}.sql`,
      `-- waits ${wait} s in the warehouse, then returns no row\nwith waited as (select pg_sleep(${wait})::text as w)\nselect waited.w from waited\nwhere waited.w <> '' and exists (select 1 from {{ ref('${m.name}') }})\n`,
    );
  }
  return { count, sleepSeconds };
}

// CLI
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--') && !/^\d/.test(a));
  if (!dir) {
    console.error(
      'usage: node bench/generate.mjs <dir> [--models N] [--tests N | --tests-per-model X] [--tags N] [--skew X] [--cross-tag-ref-prob X] [--layers N] [--sleep S] [--heavy-count N] [--heavy-seconds S] [--seed N] [--singular-tests N [--singular-min S] [--singular-max S]]',
    );
    process.exit(2);
  }
  /** @param {string} flag */
  const num = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  /** @type {Record<string, any>} */
  const opts = {};
  for (const [flag, key] of [
    ['--models', 'models'],
    ['--tests', 'tests'],
    ['--tests-per-model', 'testsPerModel'],
    ['--tags', 'tags'],
    ['--skew', 'skew'],
    ['--cross-tag-ref-prob', 'crossTagRefProb'],
    ['--layers', 'layers'],
    ['--seed-rows', 'seedRows'],
    ['--seed', 'seed'],
    ['--table-share', 'tableShare'],
  ]) {
    const v = num(flag);
    if (v !== undefined) opts[key] = v;
  }
  if (num('--singular-tests') !== undefined) {
    opts.singularTests = {
      count: num('--singular-tests') ?? 0,
      minSeconds: num('--singular-min') ?? 0.1,
      maxSeconds: num('--singular-max') ?? 0.3,
    };
  }
  if (num('--sleep') !== undefined || num('--heavy-count') !== undefined) {
    opts.sleepSeconds = {
      base: num('--sleep') ?? 0,
      heavyCount: num('--heavy-count') ?? 0,
      heavySeconds: num('--heavy-seconds') ?? 0,
      share: num('--sleep-share'),
    };
  }
  console.log(JSON.stringify(generateProject(dir, opts), null, 2));
}
