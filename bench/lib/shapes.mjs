// The shapes (workloads): what project each one generates (bench/generate.mjs) or takes (example/), its connection
// budget, and how one dbt and the action spend that budget.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.mjs';

/**
 * A connection budget B and how one dbt and the action spend it (dbt-postgres holds up to threads + 1 connections
 * per process: one per worker thread plus the main thread's, used for schema creation, the relation cache and hooks).
 * @param {number} budget
 * @param {number} parallel   the action's parallel input
 */
export const spending = (budget, parallel) => ({
  budget,
  singleThreads: budget - 1,
  actionThreads: Math.max(1, Math.floor(budget / parallel) - 1),
});

/**
 * @typedef {'cpu' | 'latency' | 'remote' | 'slimci' | 'example'} ShapeKind
 * @typedef {object} Shape
 * @property {string} key
 * @property {string} title
 * @property {ShapeKind} kind
 * @property {string} describe
 * @property {number} [budget]     connection budget (generated shapes); the example runs with the profile's threads
 * @property {import('../generate.mjs').ProjectOptions} [gen]
 * @property {string} [vars]       --vars for the example project
 * @property {string[]} variants   variants that make sense for this shape
 * @property {number} [changeRoots] slimci: how many root models (layer 0) the PR changes, the first of each tag in turn
 */

/**
 * The shapes; --scale multiplies model and test counts (and sleeps, not below 25 %).
 * @param {number} scale
 * @returns {Record<string, Shape>}
 */
export function shapes(scale) {
  /** @param {number} x */
  const n = (x) => Math.max(4, Math.round(x * scale));
  /** @param {number} x */
  const s = (x) => Math.round(x * Math.min(1, Math.max(0.25, scale)) * 100) / 100;
  const all = ['single', 'seed-style', 'prefect', 'action', 'action-timings'];
  /** @type {import('../generate.mjs').ProjectOptions} */
  const remoteGen = {
    name: 'bench_remote',
    models: Math.max(4, Math.round(20 * Math.min(1, scale * 2))),
    testsPerModel: 0,
    tags: 4,
    skew: 0,
    crossTagRefProb: 0.1,
    layers: 3,
    tableShare: 0.3,
    seedRows: 10,
    seed: 23,
    singularTests: { count: n(1500), minSeconds: 0.1, maxSeconds: 0.3 },
  };
  return {
    cpu: {
      key: 'cpu',
      title: 'CPU-bound',
      kind: 'cpu',
      budget: 8,
      variants: all,
      describe: 'no sleeps, views and small tables, 4 generic tests per model',
      gen: {
        name: 'bench_cpu',
        models: n(400),
        testsPerModel: 4,
        tags: 4,
        skew: 0.5,
        crossTagRefProb: 0.15,
        layers: 8,
        tableShare: 0.2,
        seedRows: 10,
        seed: 11,
      },
    },
    latency: {
      key: 'latency',
      title: 'Latency-bound',
      kind: 'latency',
      budget: 8,
      variants: all,
      describe: `80 % of models wait ${s(1.5)} s ± 50 % (pg_sleep), a chain of 5 heavy models waits ${s(5)} s each, skewed tags`,
      gen: {
        name: 'bench_latency',
        models: n(100),
        testsPerModel: 1.5,
        tags: 4,
        skew: 1.2,
        crossTagRefProb: 0.2,
        layers: 6,
        tableShare: 0.1,
        seedRows: 10,
        seed: 7,
        sleepSeconds: { base: s(1.5), share: 0.8, jitter: 0.5, heavyCount: 5, heavySeconds: s(5) },
      },
    },
    remote: {
      key: 'remote',
      title: 'Remote-warehouse tests',
      kind: 'remote',
      budget: 32,
      variants: all,
      describe:
        "singular tests (tests/*.sql) that each wait 0.1–0.3 s in PostgreSQL (pg_sleep, uniform, deterministic PRNG) and return no row, spread round-robin over a few small models: no local CPU beyond dbt's own, as a large test suite on Snowflake or BigQuery",
      gen: remoteGen,
    },
    // Slim CI: the remote project (the shape where processes win; a PR's test suite on a remote warehouse) run as a
    // pull request's build with defer. See slimci.mjs (prepareSlim, relationCounts).
    slimci: {
      key: 'slimci',
      title: 'Slim CI (remote, defer)',
      kind: 'slimci',
      budget: 32,
      variants: ['single', 'action', 'action-timings'],
      changeRoots: 4,
      describe:
        "the remote project as a pull request's run: built whole once as prod with plain dbt (schema prod; its target/ is the state), then 4 root models changed (the first root model of each tag gets `where p0.id <> 1`: one row fewer, so a child that read the prod relation instead of the PR's has one row more), and every variant runs `build --select state:modified+ --defer --state <prod target>` into a fresh schema of the same database; after the runs, the statuses and the row count of every relation are compared with plain dbt's",
      gen: remoteGen,
    },
    example: {
      key: 'example',
      title: 'Example project',
      kind: 'example',
      variants: ['single', 'action'],
      vars: `{demo_sleep_seconds: ${s(3)}}`,
      describe: `the repository's example/ project (as scripts/demo.mjs runs it: its profile, PARALLEL_DBT_PG_* env, vars demo_sleep_seconds=${s(3)}); plain \`dbt build\` with the profile's threads vs the action with its default inputs (no parallel, threads, max-connections or chunks)`,
    },
  };
}

/**
 * A shape's connection budget: --budget, else its own; undefined for the example (it runs with the profile's threads).
 * @param {Shape} shape
 * @param {number | undefined} override   --budget
 */
export const budgetOf = (shape, override) => (shape.kind === 'example' ? undefined : (override ?? shape.budget ?? 8));

/** The example's profile threads (what plain `dbt build` uses there). */
export function exampleProfileThreads() {
  const m = /threads:\s*(\d+)/.exec(readFileSync(join(ROOT, 'example', 'profiles.yml'), 'utf8'));
  return m ? Number(m[1]) : 4;
}
