// The benchmark (`npm run bench`): generates dbt projects (bench/generate.mjs), runs each one on an embedded
// PostgreSQL with real dbt in several ways, side by side in one run, and writes one table of wall times and ratios
// to bench/results/latest.md and latest.json. See bench/README.md for the shapes, the variants and the formulas.
//
//   node bench/run.mjs --help
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateProject, prng } from './generate.mjs';
import { startPostgres } from '../scripts/lib/postgres.mjs';
import { runAction, ROOT, DBT_BIN, DIST_BUNDLE } from '../scripts/lib/action-run.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const WORK = join(BENCH, 'work');
const DBT = join(DBT_BIN, 'dbt');

// ---------------------------------------------------------------------------------------------------------------
// Options
const HELP = `usage: node bench/run.mjs [options]        (npm run bench -- [options])

Runs the chosen shapes with real dbt on an embedded PostgreSQL and writes one table to <out>/latest.md and
latest.json (default bench/results/). Generated projects, logs and targets go to bench/work/ (git-ignored).

One shape (--only takes one name or several, comma-separated):
  node bench/run.mjs --only cpu                                                  # every variant, fixed costs, planning
  node bench/run.mjs --only latency --no-prefect --no-fixed --no-plan            # its rows of the table only
  node bench/run.mjs --only remote --scale 0.1 --no-prefect --no-fixed --no-plan # small, for development
  node bench/run.mjs --only cpu --variants single,action --repeat 3              # one dbt vs the action, 3 runs each
  node bench/run.mjs --only example --no-plan --out bench/results/try            # report elsewhere
  node bench/run.mjs --only slimci --no-prefect --no-fixed --no-plan             # a PR run with defer only

Shapes (default: all five, in this order):
  cpu       2,004 nodes, no sleeps: dbt's own CPU is the work.            budget 8   (≈ 4.5 min; --no-prefect ≈ 2.5 min)
  latency   254 nodes, models wait 1.5 s (5 s on a chain) in PostgreSQL.  budget 8   (≈ 4 min; --no-prefect ≈ 3 min)
  remote    1,500 singular tests that each wait 0.1–0.3 s, 20 models.     budget 32  (≈ 7.5 min; --no-prefect ≈ 5 min)
  slimci    remote's project as a PR run with defer: a plain dbt build of it all as prod (timed apart), 4 root
            models changed, then build --select state:modified+ --defer --state <prod target> (≈ 55 % of the
            nodes), each variant into a fresh schema of the same database; their relations' row counts are
            compared. Only the variants single and action. budget 32  (≈ 4 min)
  example   the repository's example/ project: plain dbt build (profile threads) vs the action, default inputs
            (≈ 0.5–1 min; only the variants single and action; --scale only shortens its sleeps; no fixed costs)
  Times: full size, 2 shared cores, the action before the worker host (slimci: with it). All of it ≈ 22 min
  (--no-prefect ≈ 17 min);
  --scale 0.1 takes 0.5–1.5 min per shape.

Options (each value either as the next argument or after '=': --scale 0.1, --scale=0.1):
  --only S,S         shapes to run: cpu, latency, remote, slimci, example (default: all five)
  --scale X          X > 0: multiplies model and test counts, and the sleeps (not below 25 %; remote's 0.1–0.3 s
                     waits stay) (default 1)
  --budget B         B ≥ 2: warehouse connection budget for every generated shape (default: the shape's own: cpu 8,
                     latency 8, remote 32, slimci 32); one dbt gets --threads B-1, the action max-connections B
  --parallel P       P ≥ 1: the action's parallel input on generated shapes (default: nproc)
  --variants V,V     any of single, seed-style, prefect, action (default: all four; single always runs: it is the
                     reference; action means both action rows, without and with timings; the example and
                     slimci only have single and action)
  --repeat N         N ≥ 1: run every variant N times; the table shows the median wall (default 1)
  --no-prefect       skip prefect-dbt (its first use installs it into bench/work/prefect-venv)
  --no-fixed         skip the fixed-cost measurements (cold parse, chunk start-up; ≈ 1 min; on the cpu project,
                     else the first generated shape's; never on the example alone)
  --no-plan          skip the planning of a synthetic 50,000-node manifest (≈ 30 s)
  --plan-nodes N     N ≥ 1: size of that manifest (default 50000)
  --out DIR          where latest.md / latest.json go (default bench/results)
  -h, --help         this text

An unknown option, a missing or invalid value, or an argument that is no option stops the script with one line
and exit status 2.

Everything:
  npm run bench                                                                  # all five shapes (≈ 22 min)
  npm run bench -- --no-prefect                                                  # everything but prefect-dbt`;

const ALL_SHAPES = ['cpu', 'latency', 'remote', 'slimci', 'example'];
const ALL_VARIANTS = ['single', 'seed-style', 'prefect', 'action'];

/**
 * @typedef {object} Options
 * @property {number} scale
 * @property {string[]} only
 * @property {number | undefined} budget   --budget, or undefined: each shape's own
 * @property {number} parallel
 * @property {number} planNodes
 * @property {string} out                  absolute
 * @property {number} repeat
 * @property {boolean} prefect
 * @property {boolean} fixed
 * @property {boolean} plan
 * @property {string[]} variants
 */

/**
 * The command line, checked: every option this script knows (see HELP), nothing else.
 * @param {string[]} args   process.argv.slice(2)
 * @param {number} cores    the default of --parallel
 * @returns {{ help: true } | { error: string } | { options: Options }}
 */
function parseArgs(args, cores) {
  const withValue = ['--only', '--scale', '--budget', '--parallel', '--variants', '--repeat', '--plan-nodes', '--out'];
  const flags = ['--no-prefect', '--no-fixed', '--no-plan'];
  if (args.includes('--help') || args.includes('-h')) return { help: true };
  /** @type {Map<string, string>} */
  const values = new Map();
  /** @type {Set<string>} */
  const seen = new Set();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (flags.includes(name)) {
      if (eq > 0) return { error: `${name} takes no value` };
      seen.add(name);
    } else if (withValue.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[i + 1];
      if (v === undefined || v === '' || (eq < 0 && v.startsWith('-'))) return { error: `${name} needs a value` };
      if (eq < 0) i++;
      values.set(name, v);
    } else if (a.startsWith('-')) {
      return { error: `unknown option '${a}'` };
    } else {
      return { error: `unexpected argument '${a}' (options start with --)` };
    }
  }
  /** @param {string} v */
  const list = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);
  /**
   * @param {string} name
   * @param {number} dflt
   * @param {(x: number) => boolean} ok
   * @param {string} what   what ok accepts, for the error line
   * @returns {number | { error: string }}
   */
  const num = (name, dflt, ok, what) => {
    const v = values.get(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    return Number.isFinite(x) && ok(x) ? x : { error: `${name}: '${v}' is not ${what}` };
  };
  /** @param {number} min */
  const intAtLeast = (min) => /** @param {number} x */ (x) => Number.isInteger(x) && x >= min;
  const only = list(values.get('--only') ?? ALL_SHAPES.join(','));
  if (only.length === 0) return { error: '--only: no shape given' };
  for (const k of only) if (!ALL_SHAPES.includes(k)) return { error: `--only: unknown shape '${k}' (${ALL_SHAPES.join(', ')})` };
  const variants = list(values.get('--variants') ?? ALL_VARIANTS.join(','));
  if (variants.length === 0) return { error: '--variants: no variant given' };
  for (const k of variants) if (!ALL_VARIANTS.includes(k)) return { error: `--variants: unknown variant '${k}' (${ALL_VARIANTS.join(', ')})` };
  const scale = num('--scale', 1, (x) => x > 0, 'a number > 0');
  const budget = values.has('--budget') ? num('--budget', 8, intAtLeast(2), 'an integer ≥ 2') : undefined;
  const parallel = num('--parallel', cores, intAtLeast(1), 'an integer ≥ 1');
  const repeat = num('--repeat', 1, intAtLeast(1), 'an integer ≥ 1');
  const planNodes = num('--plan-nodes', 50000, intAtLeast(1), 'an integer ≥ 1');
  for (const x of [scale, budget, parallel, repeat, planNodes]) if (typeof x === 'object') return x;
  return {
    options: {
      scale: Number(scale), only, budget: budget === undefined ? undefined : Number(budget), parallel: Number(parallel), planNodes: Number(planNodes),
      out: resolve(values.get('--out') ?? join(BENCH, 'results')), repeat: Number(repeat),
      prefect: !seen.has('--no-prefect'), fixed: !seen.has('--no-fixed'), plan: !seen.has('--no-plan'), variants,
    },
  };
}

/** Node was started with this file (not imported, as bench/check.mjs does): the command line is for it. */
const IS_MAIN = Boolean(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
const CORES = Number(execFileSync('nproc').toString().trim());
const parsed = parseArgs(IS_MAIN ? process.argv.slice(2) : [], CORES);
if ('help' in parsed) {
  console.log(HELP);
  process.exit(0);
}
if ('error' in parsed) {
  console.error(`bench: ${parsed.error}; node bench/run.mjs --help lists the options`);
  process.exit(2);
}
const {
  scale: SCALE, only: ONLY, budget: BUDGET_OVERRIDE, parallel: PARALLEL, planNodes: PLAN_NODES, out: OUT, repeat: REPEAT,
  prefect: WITH_PREFECT, fixed: WITH_FIXED, plan: WITH_PLAN, variants: VARIANTS,
} = parsed.options;
const FIXED_REPS = 3;
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
/** Predicted ÷ actual makespan outside 1 ± this is flagged. */
const PREDICTION_TOLERANCE = 0.25;

/**
 * A connection budget B and how one dbt and the action spend it (dbt-postgres holds up to threads + 1 connections
 * per process: one per worker thread plus the main thread's, used for schema creation, the relation cache and hooks).
 * @param {number} budget
 */
const spending = (budget) => ({ budget, singleThreads: budget - 1, actionThreads: Math.max(1, Math.floor(budget / PARALLEL) - 1) });

/**
 * @typedef {'cpu' | 'latency' | 'remote' | 'slimci' | 'example'} ShapeKind
 * @typedef {object} Shape
 * @property {string} key
 * @property {string} title
 * @property {ShapeKind} kind
 * @property {string} describe
 * @property {number} [budget]     connection budget (generated shapes); the example runs with the profile's threads
 * @property {import('./generate.mjs').ProjectOptions} [gen]
 * @property {string} [vars]       --vars for the example project
 * @property {string[]} variants   variants that make sense for this shape
 * @property {number} [changeRoots] slimci: how many root models (layer 0) the PR changes, the first of each tag in turn
 */

/**
 * The shapes; --scale multiplies model and test counts (and sleeps, not below 25 %).
 * @param {number} scale
 * @returns {Record<string, Shape>}
 */
function shapes(scale) {
  /** @param {number} x */
  const n = (x) => Math.max(4, Math.round(x * scale));
  /** @param {number} x */
  const s = (x) => Math.round(x * Math.min(1, Math.max(0.25, scale)) * 100) / 100;
  const all = ['single', 'seed-style', 'prefect', 'action', 'action-timings'];
  /** @type {import('./generate.mjs').ProjectOptions} */
  const remoteGen = { name: 'bench_remote', models: Math.max(4, Math.round(20 * Math.min(1, scale * 2))), testsPerModel: 0, tags: 4, skew: 0, crossTagRefProb: 0.1, layers: 3, tableShare: 0.3, seedRows: 10, seed: 23,
    singularTests: { count: n(1500), minSeconds: 0.1, maxSeconds: 0.3 } };
  return {
    cpu: {
      key: 'cpu', title: 'CPU-bound', kind: 'cpu', budget: 8, variants: all,
      describe: 'no sleeps, views and small tables, 4 generic tests per model',
      gen: { name: 'bench_cpu', models: n(400), testsPerModel: 4, tags: 4, skew: 0.5, crossTagRefProb: 0.15, layers: 8, tableShare: 0.2, seedRows: 10, seed: 11 },
    },
    latency: {
      key: 'latency', title: 'Latency-bound', kind: 'latency', budget: 8, variants: all,
      describe: `80 % of models wait ${s(1.5)} s ± 50 % (pg_sleep), a chain of 5 heavy models waits ${s(5)} s each, skewed tags`,
      gen: { name: 'bench_latency', models: n(100), testsPerModel: 1.5, tags: 4, skew: 1.2, crossTagRefProb: 0.2, layers: 6, tableShare: 0.1, seedRows: 10, seed: 7,
        sleepSeconds: { base: s(1.5), share: 0.8, jitter: 0.5, heavyCount: 5, heavySeconds: s(5) } },
    },
    remote: {
      key: 'remote', title: 'Remote-warehouse tests', kind: 'remote', budget: 32, variants: all,
      describe: 'singular tests (tests/*.sql) that each wait 0.1–0.3 s in PostgreSQL (pg_sleep, uniform, deterministic PRNG) and return no row, spread round-robin over a few small models: no local CPU beyond dbt\'s own, as a large test suite on Snowflake or BigQuery',
      gen: remoteGen,
    },
    // Slim CI: the remote project (the shape where processes win; a PR's test suite on a remote warehouse) run as a
    // pull request's build with defer. See runSlimProd and slimRelations.
    slimci: {
      key: 'slimci', title: 'Slim CI (remote, defer)', kind: 'slimci', budget: 32, variants: ['single', 'action', 'action-timings'], changeRoots: 4,
      describe: 'the remote project as a pull request\'s run: built whole once as prod with plain dbt (schema prod; its target/ is the state), then 4 root models changed (the first root model of each tag gets `where p0.id <> 1`: one row fewer, so a child that read the prod relation instead of the PR\'s has one row more), and every variant runs `build --select state:modified+ --defer --state <prod target>` into a fresh schema of the same database; after the runs, the statuses and the row count of every relation are compared with plain dbt\'s',
      gen: remoteGen,
    },
    example: {
      key: 'example', title: 'Example project', kind: 'example', variants: ['single', 'action'],
      vars: `{demo_sleep_seconds: ${s(3)}}`,
      describe: `the repository's example/ project (as scripts/demo.mjs runs it: its profile, PARALLEL_DBT_PG_* env, vars demo_sleep_seconds=${s(3)}); plain \`dbt build\` with the profile's threads vs the action with its default inputs (no parallel, threads, max-connections or chunks)`,
    },
  };
}

/** @param {Shape} shape */
const budgetOf = (shape) => (shape.kind === 'example' ? undefined : BUDGET_OVERRIDE ?? shape.budget ?? 8);
/** The example's profile threads (what plain `dbt build` uses there). */
function exampleProfileThreads() {
  const m = /threads:\s*(\d+)/.exec(readFileSync(join(ROOT, 'example', 'profiles.yml'), 'utf8'));
  return m ? Number(m[1]) : 4;
}

// ---------------------------------------------------------------------------------------------------------------
// Processes, CPU accounting, cleanup
/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
/** @type {import('../scripts/lib/postgres.mjs').StartedPostgres | undefined} */
let pgServer;
async function cleanup() {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch { /* gone */ }
  }
  if (pgServer) {
    const p = pgServer;
    pgServer = undefined;
    await p.stop().catch(() => {});
  }
}
for (const sig of IS_MAIN ? ['SIGINT', 'SIGTERM'] : []) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping dbt processes and PostgreSQL`);
    cleanup().finally(() => process.exit(130));
  });
}

/**
 * CPU seconds of a process from /proc: [own, reaped children].
 * @param {number | string} pid
 */
function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [(Number(f[11]) + Number(f[12])) / CLK_TCK, (Number(f[13]) + Number(f[14])) / CLK_TCK];
  } catch {
    return [0, 0];
  }
}
/** CPU seconds used so far by every process this script started and waited for (dbt, the action, Python). */
const childrenCpu = () => procCpu('self')[1];
/** CPU seconds of the PostgreSQL server: the postmaster and every backend it has reaped. */
function postgresCpu() {
  if (!pgServer) return 0;
  try {
    const pid = readFileSync(join(pgServer.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0].trim();
    const [own, kids] = procCpu(pid);
    return own + kids;
  } catch {
    return 0;
  }
}

/**
 * Runs a command with stdout+stderr to a file; resolves with exit code and wall seconds.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env: NodeJS.ProcessEnv, cwd: string, log: string, timeoutMs?: number }} o
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, error?: string, seconds: number, startedAt: number }>}
 */
function run(cmd, args, { env, cwd, log, timeoutMs = 20 * 60 * 1000 }) {
  return new Promise((res) => {
    mkdirSync(dirname(log), { recursive: true });
    const fd = openSync(log, 'w');
    const started = Date.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd] });
    live.add(child);
    /** @type {NodeJS.Timeout | undefined} */
    let killer;
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    }, timeoutMs);
    /** @param {number | null} code @param {NodeJS.Signals | null} signal @param {string} [error] */
    const done = (code, signal, error) => {
      clearTimeout(timer);
      clearTimeout(killer);
      live.delete(child);
      try {
        closeSync(fd);
      } catch { /* closed */ }
      res({ code, signal, error, seconds: (Date.now() - started) / 1000, startedAt: started });
    };
    child.on('error', (e) => done(null, null, e.message));
    child.on('close', (code, signal) => done(code, signal));
  });
}

/**
 * Wall, CPU (client side and PostgreSQL) and load around one measured step.
 * @template {{ wall?: number }} T
 * @param {() => Promise<T>} fn
 */
async function measured(fn) {
  const load = loadavg()[0];
  const c0 = childrenCpu();
  const p0 = postgresCpu();
  const t0 = Date.now();
  const out = await fn();
  return { ...out, wall: out.wall ?? (Date.now() - t0) / 1000, cpuClient: round(childrenCpu() - c0), cpuPostgres: round(postgresCpu() - p0), load1: round(load, 2) };
}

/**
 * @template {number | undefined} T
 * @param {T} x
 * @param {number} [d]
 * @returns {T}
 */
const round = (x, d = 1) => /** @type {T} */ (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** d) / 10 ** d);
/** @param {string} msg */
const log = (msg) => console.error(`bench: ${msg}`);

// ---------------------------------------------------------------------------------------------------------------
// dbt artifacts
/** @param {string} path @returns {any} */
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * unique_id -> list of statuses (a node run by two processes appears twice).
 * @param {string[]} runResultsFiles
 * @returns {Map<string, { status: string, message?: string }[]>}
 */
function statusesOf(runResultsFiles) {
  const out = new Map();
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? []) (out.get(r.unique_id) ?? out.set(r.unique_id, []).get(r.unique_id)).push({ status: String(r.status), message: r.message });
  }
  return out;
}

const OK = new Set(['success', 'pass']);
/**
 * Compares a variant's statuses with the single process's: is it the same build?
 * @param {Map<string, { status: string, message?: string }[]>} reference
 * @param {Map<string, { status: string, message?: string }[]>} got
 */
function compare(reference, got) {
  /** @type {{ missing: number, notOk: number, duplicates: number, extra: number, byStatus: Record<string, number>, example?: string, correct?: boolean, text?: string }} */
  const diff = { missing: 0, notOk: 0, duplicates: 0, extra: 0, byStatus: {}, example: undefined };
  for (const [uid, ref] of reference) {
    const g = got.get(uid);
    if (!g) {
      diff.missing++;
      continue;
    }
    if (g.length > 1) diff.duplicates += g.length - 1;
    const bad = g.find((x) => !OK.has(x.status));
    if (bad && OK.has(ref[0].status)) {
      diff.notOk++;
      diff.byStatus[bad.status] = (diff.byStatus[bad.status] ?? 0) + 1;
      if (!diff.example && bad.message) diff.example = `${uid}: ${String(bad.message).split('\n').find((l) => l.trim()) ?? ''}`.slice(0, 220);
    }
  }
  for (const uid of got.keys()) if (!reference.has(uid)) diff.extra++;
  diff.correct = diff.missing === 0 && diff.notOk === 0 && diff.duplicates === 0 && diff.extra === 0;
  const parts = [];
  if (diff.notOk) parts.push(Object.entries(diff.byStatus).map(([s, k]) => `${k} ${s}`).join(', '));
  if (diff.missing) parts.push(`${diff.missing} not run`);
  if (diff.duplicates) parts.push(`${diff.duplicates} run twice`);
  if (diff.extra) parts.push(`${diff.extra} extra`);
  diff.text = diff.correct ? 'same as one dbt' : `wrong: ${parts.join('; ')}`;
  return diff;
}

// ---------------------------------------------------------------------------------------------------------------
// The project's own planner code (src/plan), bundled with ncc once per bench run into bench/work/plan-lib/: the
// build test edges (buildPlanGraph), the critical path (criticalOrder), the lower bound and the plan text
// (describe.ts) come from there, never from a copy here.
/**
 * @typedef {object} PlanLib
 * @property {typeof import('../src/plan/graph.js').buildPlanGraph} buildPlanGraph
 * @property {typeof import('../src/plan/chunks.js').criticalOrder} criticalOrder
 * @property {typeof import('../src/plan/chunks.js').planChunks} planChunks
 * @property {typeof import('../src/flow/timings-input.js').readTimings} readTimings
 * @property {typeof import('../src/plan/timings.js').weigher} weigher
 * @property {typeof import('../src/plan/describe.js').renderPlan} renderPlan
 * @property {typeof import('../src/plan/describe.js').lowerBound} lowerBound
 * @property {typeof import('../src/plan/nodes.js').runnableSelected} runnableSelected
 */
const PLAN_LIB_DIR = join(WORK, 'plan-lib');
/** @type {Promise<{ lib?: PlanLib, bundle?: string, error?: string }> | undefined} */
let planLibPromise;
/** Bundles src/plan with ncc (once) and imports it. */
function planLib() {
  planLibPromise ??= (async () => {
    mkdirSync(PLAN_LIB_DIR, { recursive: true });
    const entry = join(PLAN_LIB_DIR, 'plan-entry.ts');
    /** @param {string} p */
    const rel = (p) => relative(PLAN_LIB_DIR, join(ROOT, p)).replace(/\\/g, '/');
    writeFileSync(entry, [
      `export { buildPlanGraph } from '${rel('src/plan/graph.js')}';`,
      `export { criticalOrder, planChunks } from '${rel('src/plan/chunks.js')}';`,
      `export { weigher } from '${rel('src/plan/timings.js')}';`,
      `export { readTimings } from '${rel('src/flow/timings-input.js')}';`,
      `export { renderPlan, lowerBound } from '${rel('src/plan/describe.js')}';`,
      `export { runnableSelected } from '${rel('src/plan/nodes.js')}';`,
    ].join('\n') + '\n');
    const bundleDir = join(PLAN_LIB_DIR, 'bundle');
    rmSync(bundleDir, { recursive: true, force: true });
    const b = await run(join(ROOT, 'node_modules', '.bin', 'ncc'), ['build', entry, '-o', bundleDir, '--quiet'], { env: process.env, cwd: ROOT, log: join(PLAN_LIB_DIR, 'ncc.log'), timeoutMs: 180000 });
    if (b.code !== 0) return { error: `ncc could not bundle src/plan: ${readFileSync(join(PLAN_LIB_DIR, 'ncc.log'), 'utf8').trim().split('\n').slice(-3).join(' ')}` };
    const bundle = join(bundleDir, 'index.js');
    try {
      return { lib: /** @type {PlanLib} */ (await import(pathToFileURL(bundle).href)), bundle };
    } catch (e) {
      return { error: `the src/plan bundle does not load: ${e instanceof Error ? e.message : String(e)}` };
    }
  })();
  return planLibPromise;
}

/**
 * @typedef {object} LowerBound
 * @property {number} criticalPath
 * @property {number} work
 * @property {number} slots
 * @property {number} workOverSlots
 * @property {number} cpuSeconds
 * @property {number} cpuOverCores
 * @property {number} [sleepSeconds]
 * @property {number} bound
 * @property {number} startup
 * @property {number} boundWithStartup
 * @property {string} formula
 */

/**
 * Lower bound of any schedule of the reference (one dbt) run's nodes, with node times from that run. CP: the longest
 * chain of execution_time over src/plan's buildPlanGraph (depends_on plus every build test edge dbt adds: single-
 * and multi-parent) and criticalOrder; W = Σ execution_time; S = B − 1 worker threads (the most threads any split of
 * B connections can hold); the project's describe.ts lowerBound gives max(CP, work / S).
 * - latency, example: max(CP, W / S).
 * - cpu: the threads of one process wait for each other (the GIL), so execution_time is inflated and W / S is no
 *   bound; the CPU term replaces it: (CPU seconds of dbt + PostgreSQL in the reference run) / cores.
 * - remote: the waits are known (Σ pg_sleep of the tests), execution_time is inflated by the GIL as in cpu:
 *   max(CP, Σ sleep / S, CPU / cores). slimci the same, with Σ pg_sleep of the nodes its PR run ran.
 * @param {PlanLib} lib
 * @param {{ runResults: string, manifest: string, kind: ShapeKind, slots: number, cpuSeconds: number, startup: number, sleepSeconds?: number }} o
 * @returns {LowerBound | undefined}
 */
function lowerBound(lib, { runResults, manifest, kind, slots, cpuSeconds, startup, sleepSeconds }) {
  const rr = readJson(runResults);
  const m = readJson(manifest);
  if (!rr || !m) return undefined;
  /** @type {Map<string, number>} */
  const t = new Map(rr.results.filter((/** @type {any} */ r) => r.status !== 'skipped').map((/** @type {any} */ r) => [r.unique_id, Number(r.execution_time) || 0]));
  const graph = lib.buildPlanGraph(m, [...t.keys()].filter((u) => u in m.nodes), 'build');
  const { bottom } = lib.criticalOrder(graph, (u) => t.get(u) ?? 0);
  const cp = Math.max(0, ...bottom.values());
  const work = [...t.values()].reduce((a, b) => a + b, 0);
  const cpuTerm = cpuSeconds / CORES;
  /** @param {number} totalWork */
  const bound = (totalWork) => lib.lowerBound({ chunks: [], makespan: 0, criticalPath: cp, totalWork }, slots, 1);
  let dag;
  let formula;
  if (kind === 'cpu') {
    dag = Math.max(bound(0), cpuTerm);
    formula = 'max(CP, CPU / cores)';
  } else if (kind === 'remote' || kind === 'slimci') {
    dag = Math.max(bound(sleepSeconds ?? 0), cpuTerm);
    formula = `max(CP, Σ sleep / ${slots}, CPU / cores)`;
  } else {
    dag = bound(work);
    formula = `max(CP, W / ${slots})`;
  }
  return {
    criticalPath: round(cp), work: round(work), slots, workOverSlots: round(work / slots), cpuSeconds: round(cpuSeconds), cpuOverCores: round(cpuTerm),
    ...(sleepSeconds !== undefined ? { sleepSeconds: round(sleepSeconds) } : {}),
    bound: round(dag), startup: round(startup), boundWithStartup: round(dag + startup), formula,
  };
}

/**
 * Epoch ms of a dbt process's first node START, from its JSON log lines (`--log-format json`: the LogStartLine
 * event, "N of M START …", with a µs timestamp); falls back to the first node's timing in run_results.json.
 * @param {string} logFile
 * @param {string[]} runResultsFiles
 * @returns {{ at: number, source: string } | undefined}
 */
function firstNodeStartAt(logFile, runResultsFiles) {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes(' START ')) continue;
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      if (ev?.info?.name === 'LogStartLine' || /^\d+ of \d+ START /.test(ev?.info?.msg ?? '')) {
        const at = parseDbtTs(ev.info.ts);
        if (at !== undefined) return { at, source: 'dbt JSON log (LogStartLine)' };
      }
    }
  } catch { /* no log */ }
  let first = Infinity;
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? []) {
      for (const tm of r.timing ?? []) if (tm.started_at) first = Math.min(first, parseDbtTs(tm.started_at) ?? Infinity);
    }
  }
  return Number.isFinite(first) ? { at: first, source: 'run_results.json timing' } : undefined;
}

/**
 * dbt's timestamps: ISO 8601 with µs, with or without the Z.
 * @param {string | undefined} ts
 */
function parseDbtTs(ts) {
  if (!ts) return undefined;
  const norm = ts.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(/Z$|[+-]\d\d:\d\d$/.test(norm) ? norm : `${norm}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** @param {number[]} xs */
function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// The variants
/** @param {string} src @param {string} dest */
function copyProject(src, dest) {
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !/[/\\](target|logs)([/\\]|$)/.test(p.slice(src.length)) });
  return dest;
}

/**
 * The environment of a dbt run (or the action) against one database; `schema` sets the generated profile's target
 * schema (PARALLEL_DBT_PG_SCHEMA; default 'bench'), as slimci's prod and PR runs need in one database.
 * @param {string} db
 * @param {string} [schema]
 */
function dbEnv(db, schema) {
  if (!pgServer) throw new Error('PostgreSQL is not running');
  return {
    ...process.env, PATH: `${DBT_BIN}:${process.env.PATH}`, DO_NOT_TRACK: '1', DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    PARALLEL_DBT_PG_HOST: pgServer.host, PARALLEL_DBT_PG_PORT: String(pgServer.port), PARALLEL_DBT_PG_USER: pgServer.user,
    PARALLEL_DBT_PG_PASSWORD: pgServer.password, PARALLEL_DBT_PG_DATABASE: db, ...(schema ? { PARALLEL_DBT_PG_SCHEMA: schema } : {}),
  };
}

/** @param {string} name */
async function freshDb(name) {
  if (!pgServer) throw new Error('PostgreSQL is not running');
  return pgServer.createDatabase(name.toLowerCase().replace(/[^a-z0-9_]/g, '_'));
}

/**
 * What every variant gets: the shape, its project, its connection budget and how it is spent, and the repetition.
 * @typedef {object} Ctx
 * @property {string} key
 * @property {string} dir          bench/work/<shape>
 * @property {string} project      the generated (or example) project, never run in place
 * @property {any} info            what generateProject returned (the example: its node count only)
 * @property {string} title
 * @property {Shape} shape
 * @property {number | undefined} budget   B; undefined for the example (default inputs)
 * @property {number} singleThreads        one dbt's --threads (B − 1, or the profile's threads)
 * @property {string} [vars]
 * @property {number} rep                  0-based repetition (--repeat)
 * @property {SlimState} [slim]            slimci: the prod state to defer to; every variant gets a fresh schema of its database
 */

/** @param {Ctx} ctx @param {string} id */
const runDir = (ctx, id) => join(ctx.dir, ctx.rep ? `${id}-r${ctx.rep + 1}` : id);
/** @param {Ctx} ctx @param {string} id */
const dbName = (ctx, id) => `${ctx.key}_${id}${ctx.rep ? `_r${ctx.rep + 1}` : ''}`;
/** slimci: the fresh target schema of one variant's PR run (its models go to <it>_<tag>). @param {Ctx} ctx @param {string} id */
const slimSchema = (ctx, id) => `pr_${id.replace(/-/g, '_')}${ctx.rep ? `_r${ctx.rep + 1}` : ''}`;
/**
 * A variant's database environment: a fresh database, or (slimci) a fresh schema in the database that holds prod.
 * @param {Ctx} ctx
 * @param {string} id
 * @returns {Promise<{ env: ReturnType<typeof dbEnv>, schema?: string }>}
 */
async function variantDb(ctx, id) {
  if (!ctx.slim) return { env: dbEnv(await freshDb(dbName(ctx, id.replace(/-/g, '_')))) };
  const schema = slimSchema(ctx, id);
  return { env: dbEnv(ctx.slim.db, schema), schema };
}

/**
 * (1) One `dbt build --threads B-1` (the example: no --threads, the profile's): what users run today. JSON log lines
 * on stdout (info level, as cheap as the text ones) give its first node START to the millisecond.
 * @param {Ctx} ctx
 */
async function variantSingle(ctx) {
  const dir = runDir(ctx, 'single');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const { env, schema } = await variantDb(ctx, 'single');
  const logFile = join(dir, 'dbt.log');
  const args = ['--log-format', 'json', 'build', '--project-dir', proj, '--profiles-dir', proj];
  if (ctx.budget !== undefined) args.push('--threads', String(ctx.singleThreads));
  if (ctx.vars) args.push('--vars', ctx.vars);
  if (ctx.slim) args.push('--select', 'state:modified+', '--defer', '--state', ctx.slim.state);
  const r = await measured(async () => {
    const p = await run(DBT, args, { env, cwd: proj, log: logFile });
    return { ...p, wall: p.seconds };
  });
  const results = join(proj, 'target', 'run_results.json');
  const first = firstNodeStartAt(logFile, [results]);
  const threads = ctx.budget !== undefined ? `${ctx.singleThreads}` : `${ctx.singleThreads} (profile)`;
  return {
    name: ctx.slim ? 'one dbt process, --defer' : ctx.budget !== undefined ? 'one dbt process' : 'plain dbt build', id: 'single', budget: `1 × (${threads} + 1) = ${ctx.singleThreads + 1}`, ...r,
    exit: r.code, resultsFiles: [results], manifest: join(proj, 'target', 'manifest.json'), schema,
    firstNodeStart: first ? round((first.at - r.startedAt) / 1000, 2) : undefined, firstNodeSource: first?.source,
    startup: first ? (first.at - r.startedAt) / 1000 : undefined,
  };
}

/**
 * (2) Seed-style: one `dbt build --select tag:X` per tag, all at once, no ordering between them.
 * @param {Ctx} ctx
 */
async function variantSeedStyle(ctx) {
  const dir = runDir(ctx, 'seed-style');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb(dbName(ctx, 'seedstyle')));
  const tags = ctx.info.tags.map((/** @type {{name: string}} */ t) => t.name);
  const threads = Math.max(1, Math.floor((ctx.budget ?? 8) / tags.length) - 1);
  const r = await measured(async () => {
    const procs = await Promise.all(tags.map((/** @type {string} */ tag) => run(DBT, ['build', '--project-dir', proj, '--profiles-dir', proj, '--threads', String(threads), '--select', `tag:${tag}`,
      '--target-path', `target-${tag}`, '--log-path', join(dir, `logs-${tag}`)], { env, cwd: proj, log: join(dir, `dbt-${tag}.log`) })));
    return { procs, wall: Math.max(...procs.map((p) => p.seconds)) };
  });
  return {
    name: 'seed-style: one process per tag', id: 'seed-style', budget: `${tags.length} × (${threads} + 1) = ${tags.length * (threads + 1)}`, ...r,
    exit: Math.max(...r.procs.map((p) => p.code ?? 99)),
    perTag: Object.fromEntries(tags.map((/** @type {string} */ t, /** @type {number} */ i) => [t, round(r.procs[i].seconds)])),
    resultsFiles: tags.map((/** @type {string} */ t) => join(proj, `target-${t}`, 'run_results.json')),
  };
}

// (3) prefect-dbt's orchestrator, PER_WAVE: one in-process `dbt build` per topological wave, waves in sequence.
const PREFECT_SCRIPT = String.raw`
import json, os, sys, time
from collections import Counter
from pathlib import Path
t0 = time.time()
from prefect_dbt.core._orchestrator import PrefectDbtOrchestrator, ExecutionMode, TestStrategy
from prefect_dbt.core.settings import PrefectDbtSettings
import importlib.metadata as md
proj = Path(sys.argv[1]).resolve()
threads = int(sys.argv[2])
strategy = sys.argv[3]
t1 = time.time()
orch = PrefectDbtOrchestrator(settings=PrefectDbtSettings(project_dir=proj, profiles_dir=proj), threads=threads,
    execution_mode=ExecutionMode.PER_WAVE, test_strategy=TestStrategy[strategy], create_summary_artifact=False,
    write_run_results=True, raise_on_failure=False, disable_assets=True)
out = {'version': md.version('prefect-dbt'), 'prefect': md.version('prefect'), 'import_s': t1 - t0}
try:
    res = orch.run_build()
    out['statuses'] = dict(Counter(r['status'] for r in res.values()))
    out['waves'] = len({r.get('timing', {}).get('started_at') for r in res.values() if r.get('timing')})
except Exception as e:
    out['error'] = type(e).__name__ + ': ' + str(e)
out['build_s'] = time.time() - t1
print('BENCH_RESULT ' + json.dumps(out), flush=True)
`;

const PREFECT_VENV = join(WORK, 'prefect-venv');
/** @type {{ ok: true, py: string } | { ok: false, reason: string } | undefined} */
let prefectState; // { ok: true } or { ok: false, reason }
async function ensurePrefect() {
  if (prefectState) return prefectState;
  const py = join(PREFECT_VENV, 'bin', 'python');
  const stamp = join(PREFECT_VENV, '.bench-ok');
  if (!existsSync(stamp)) {
    log('installing prefect-dbt into bench/work/prefect-venv (separate from .dbt-venv; dbt pinned to the same versions)');
    rmSync(PREFECT_VENV, { recursive: true, force: true });
    const mk = await run('python3', ['-m', 'venv', PREFECT_VENV], { env: process.env, cwd: WORK, log: join(WORK, 'prefect-install.log'), timeoutMs: 120000 });
    const pins = readFileSync(join(ROOT, 'scripts', 'dbt-requirements.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const inst = mk.code === 0
      ? await run(join(PREFECT_VENV, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', 'prefect-dbt', ...pins], { env: process.env, cwd: WORK, log: join(WORK, 'prefect-install.log'), timeoutMs: 8 * 60 * 1000 })
      : mk;
    if (inst.code !== 0) {
      const tail = readFileSync(join(WORK, 'prefect-install.log'), 'utf8').trim().split('\n').slice(-2).join(' ');
      prefectState = { ok: false, reason: `pip install prefect-dbt failed (exit ${inst.code ?? inst.signal}): ${tail.slice(0, 200)}` };
      return prefectState;
    }
    writeFileSync(stamp, new Date().toISOString());
  }
  prefectState = existsSync(py) ? { ok: true, py } : { ok: false, reason: 'no python in the prefect venv' };
  return prefectState;
}

/** @param {Ctx} ctx */
async function variantPrefect(ctx) {
  const name = 'prefect-dbt orchestrator, PER_WAVE';
  const SINGLE_THREADS = ctx.singleThreads;
  const budget = `1 × (${SINGLE_THREADS} + 1) = ${SINGLE_THREADS + 1}`;
  const st = await ensurePrefect();
  if (!st.ok) return { name, id: 'prefect', budget, unavailable: st.reason };
  const dir = runDir(ctx, 'prefect');
  writeFileSync(join(WORK, 'prefect_per_wave.py'), PREFECT_SCRIPT);
  const attempts = [];
  // IMMEDIATE (tests gate their children, as dbt build) is the default; if it refuses the project, DEFERRED
  // (every test after every model) is measured instead and the table says so.
  for (const strategy of ['IMMEDIATE', 'DEFERRED']) {
    const proj = copyProject(ctx.project, join(dir, `project-${strategy.toLowerCase()}`));
    /** @type {Record<string, string | undefined>} */
    const env = { ...dbEnv(await freshDb(dbName(ctx, `prefect_${strategy}`))), PREFECT_HOME: join(WORK, 'prefect-home'), PREFECT_SERVER_ANALYTICS_ENABLED: 'false' };
    delete env.PREFECT_API_URL;
    const logFile = join(dir, `prefect-${strategy.toLowerCase()}.log`);
    const r = await measured(async () => {
      const p = await run(st.py, [join(WORK, 'prefect_per_wave.py'), proj, String(SINGLE_THREADS), strategy], { env, cwd: proj, log: logFile, timeoutMs: 15 * 60 * 1000 });
      return { ...p, wall: p.seconds };
    });
    const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    const res = line ? JSON.parse(line.slice('BENCH_RESULT '.length)) : { error: `no result (exit ${r.code ?? r.signal}); see ${relative(ROOT, logFile)}` };
    attempts.push({ strategy, ...r, ...res, resultsFiles: [join(proj, 'target', 'run_results.json')] });
    if (!res.error) break;
  }
  const ok = attempts.find((a) => !a.error);
  const first = attempts[0];
  const notes = [];
  if (first.error) notes.push(`TestStrategy.IMMEDIATE (dbt build's order) failed: ${first.error.slice(0, 160)} (after ${round(first.wall)} s)`);
  if (ok) notes.push(`prefect-dbt ${ok.version} (prefect ${ok.prefect}), test strategy ${ok.strategy}, ${ok.waves} waves; in-process build ${round(ok.build_s)} s after ${round(ok.import_s)} s of imports; starts a temporary local Prefect server`);
  if (!ok) return { name, id: 'prefect', budget, unavailable: `ran but failed: ${attempts.map((a) => `${a.strategy}: ${a.error}`).join(' / ').slice(0, 300)}`, attempts };
  return { name: ok.strategy === 'IMMEDIATE' ? name : `${name} (tests deferred)`, id: 'prefect', budget, ...ok, exit: ok.code, notes, attempts: attempts.map(({ strategy, wall, error }) => ({ strategy, wall: round(wall), error })) };
}

/**
 * @typedef {{ t: number, text: string }} LogLine   one stdout line of the action, t = seconds after its spawn
 */

/**
 * Splits the action's stdout (with arrival times) into its phases and, per chunk, the steps of its dbt log.
 * @param {LogLine[]} lines
 * @param {number} exitAt  seconds from spawn to exit
 */
function actionPhases(lines, exitAt) {
  /** @param {RegExp} re */
  const at = (re) => lines.find((l) => re.test(l.text))?.t;
  /** @type {Record<string, number | undefined>} */
  const phases = {};
  phases.parsed = at(/parsed and selected in/);
  phases.planned = at(/^Plan: /);
  const starts = lines.filter((l) => /^▶ /.test(l.text));
  const ends = lines.filter((l) => /^■ /.test(l.text));
  phases.firstChunkStart = starts[0]?.t;
  phases.lastChunkEnd = ends.length ? ends[ends.length - 1].t : undefined;
  phases.exit = exitAt;
  const planLine = lines.find((l) => /^Plan: /.test(l.text))?.text;
  /** @type {string[]} */
  const chunkLines = [];
  if (planLine) {
    const i = lines.findIndex((l) => l.text === planLine);
    for (let j = i + 1; j < lines.length && /^\s+\d+\. /.test(lines[j].text); j++) chunkLines.push(lines[j].text.trim());
  }
  /** @param {number | undefined} a @param {number | undefined} b */
  const gap = (a, b) => (a !== undefined && b !== undefined ? round(b - a, 2) : undefined);
  const chunks = starts.map((s) => {
    const name = /^▶ ([^:]+):/.exec(s.text)?.[1] ?? '?';
    /** @param {RegExp} re */
    const mine = (re) => lines.find((l) => l.t >= s.t && l.text.startsWith(`[${name}]`) && re.test(l.text.slice(name.length + 2).trimStart()))?.t;
    const running = mine(/^Running with dbt=/);
    const found = mine(/^Found \d+/);
    const concurrency = mine(/^Concurrency: /);
    const firstNode = mine(/^\d+ of \d+ START /);
    const finished = mine(/^Finished running /);
    const end = ends.find((e) => e.text.startsWith(`■ ${name}:`))?.t;
    const nodes = /: (\d+) node/.exec(s.text)?.[1];
    return {
      name, nodes: Number(nodes), start: round(s.t, 2), end: round(end, 2), firstNode: round(firstNode, 2), startupToFirstNode: gap(s.t, firstNode),
      // spawn → banner (Python imports), banner → "Found" (reading the shared parse, writing manifest.json),
      // "Found" → "Concurrency" (resolving the --select list, linking the graph), → first node (relation cache),
      // "Finished running" → exit (manifest.json and run_results.json writes)
      steps: { imports: gap(s.t, running), loadParse: gap(running, found), selection: gap(found, concurrency), cache: gap(concurrency, firstNode), nodes: gap(firstNode, finished), exit: gap(finished, end) },
    };
  });
  const busy = chunks.reduce((a, c) => a + ((c.end ?? 0) - (c.start ?? 0)), 0);
  const span = phases.lastChunkEnd !== undefined && phases.firstChunkStart !== undefined ? phases.lastChunkEnd - phases.firstChunkStart : undefined;
  // "Plan: 2 chunk(s), 254 node(s) on 2 process(es) × 3 thread(s); predicted makespan 20.5 s, lower bound 19.1 s
  // (critical path 8.2 s, work 134.0 s)" (src/plan/describe.ts renderPlan)
  const pm = planLine ? /on (\d+) process\(es\) × (\d+) thread\(s\); predicted makespan ([\d.]+) s, lower bound ([\d.]+|NaN) s \(critical path ([\d.]+) s, work ([\d.]+) s/.exec(planLine) : null;
  const pre = phases.firstChunkStart;
  const post = phases.lastChunkEnd !== undefined ? exitAt - phases.lastChunkEnd : undefined;
  return {
    plan: planLine, chunkPlan: chunkLines,
    predicted: pm ? { makespan: Number(pm[3]), lowerBound: Number(pm[4]), criticalPath: Number(pm[5]), work: Number(pm[6]), processes: Number(pm[1]), threads: Number(pm[2]) } : undefined,
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v, 2)])),
    breakdown: {
      startToParsed: round(phases.parsed, 2),
      parsedToPlan: gap(phases.parsed, phases.planned),
      planToFirstChunk: gap(phases.planned, phases.firstChunkStart),
      chunksRunning: gap(phases.firstChunkStart, phases.lastChunkEnd),
      mergeAndReport: round(post, 2),
    },
    fixedCost: pre !== undefined && post !== undefined ? round(pre + post, 2) : undefined,
    chunks,
    /** Σ chunk durations / (last chunk end − first chunk start): how many chunks ran at once, on average. */
    concurrency: span ? round(busy / span, 2) : undefined,
    timingsLine: lines.find((l) => /^Timings: /.test(l.text))?.text,
    warnings: lines.filter((l) => /^::warning/.test(l.text)).map((l) => l.text.slice(0, 300)),
  };
}

/**
 * What the action's run record says, with the log as the fallback for every field; each value says where it came
 * from. parallel-dbt.json (written by src/flow beside the merged results, <work-dir>/parallel-dbt.json) fields read:
 * top level predictedMakespan, parseSeconds, wallSeconds, parallel, threads, runPath, runPathReason; per chunk name,
 * nodes, startedAt, endedAt, firstNodeAt (epoch ms), predicted, predictedStart.
 * @param {any} rec                     parsed parallel-dbt.json, or undefined
 * @param {ReturnType<typeof actionPhases>} ph
 * @param {number} spawnAt              epoch ms of the action process's spawn
 */
function actionRecord(rec, ph, spawnAt) {
  /** @param {number | undefined} t seconds after spawn */
  const abs = (t) => (t === undefined ? undefined : spawnAt + t * 1000);
  const logByName = new Map(ph.chunks.map((c) => [c.name, c]));
  /** @type {{ name: string, nodes?: number, startedAt?: number, endedAt?: number, firstNodeAt?: number, predicted?: number, predictedStart?: number, src: Record<string, string> }[]} */
  const chunks = (rec?.chunks?.length ? rec.chunks : ph.chunks).map((/** @type {any} */ c) => {
    const l = logByName.get(c.name);
    /** @type {Record<string, string>} */
    const src = {};
    /** @param {string} k @param {any} fromRec @param {any} fromLog */
    const pick = (k, fromRec, fromLog) => {
      if (rec?.chunks && fromRec !== undefined && fromRec !== null) {
        src[k] = 'json';
        return fromRec;
      }
      if (fromLog !== undefined) src[k] = 'log';
      return fromLog;
    };
    return {
      name: c.name, nodes: typeof c.nodes === 'number' ? c.nodes : l?.nodes,
      startedAt: pick('startedAt', c.startedAt, abs(l?.start)), endedAt: pick('endedAt', c.endedAt, abs(l?.end)),
      firstNodeAt: pick('firstNodeAt', c.firstNodeAt, abs(l?.firstNode)),
      predicted: rec?.chunks ? c.predicted : undefined, predictedStart: rec?.chunks ? c.predictedStart : undefined, src,
    };
  });
  const starts = chunks.map((c) => c.startedAt).filter((x) => x !== undefined);
  const ends = chunks.map((c) => c.endedAt).filter((x) => x !== undefined);
  const firsts = chunks.map((c) => c.firstNodeAt).filter((x) => x !== undefined);
  const actual = starts.length && ends.length ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
  const predicted = typeof rec?.predictedMakespan === 'number' ? rec.predictedMakespan : ph.predicted?.makespan;
  const startups = chunks.filter((c) => c.firstNodeAt !== undefined && c.startedAt !== undefined).map((c) => ((c.firstNodeAt ?? 0) - (c.startedAt ?? 0)) / 1000);
  /** @param {string} k */
  const srcOf = (k) => [...new Set(chunks.map((c) => c.src[k]).filter(Boolean))].join('+') || undefined;
  const ratio = predicted !== undefined && actual ? predicted / actual : undefined;
  return {
    source: rec ? 'parallel-dbt.json' : 'log',
    runPath: rec?.runPath, runPathReason: rec?.runPathReason,
    parallel: rec?.parallel ?? ph.predicted?.processes, threads: rec?.threads ?? ph.predicted?.threads,
    parseSeconds: rec?.parseSeconds ?? ph.breakdown.startToParsed, wallSeconds: rec?.wallSeconds,
    predictedMakespan: round(predicted, 2), predictedSource: typeof rec?.predictedMakespan === 'number' ? 'json' : predicted !== undefined ? 'log' : undefined,
    actualMakespan: round(actual, 2), actualSource: srcOf('startedAt'),
    predictedOverActual: round(ratio, 2), predictionOk: ratio === undefined ? undefined : Math.abs(ratio - 1) <= PREDICTION_TOLERANCE,
    chunkStartup: round(median(startups), 2), chunkStartups: startups.map((x) => round(x, 2)), chunkStartupSource: srcOf('firstNodeAt'),
    firstNodeStart: firsts.length ? round((Math.min(...firsts) - spawnAt) / 1000, 2) : undefined,
    chunks: chunks.map(({ src, ...c }) => ({ ...c, startup: c.firstNodeAt !== undefined && c.startedAt !== undefined ? round((c.firstNodeAt - c.startedAt) / 1000, 2) : undefined, src })),
  };
}

/**
 * (4) The action: the committed bundle, as the runner runs it. Generated shapes: parallel P, max-connections B, no
 * threads input (the action picks k × (⌊B/k⌋ − 1) for k ≤ P). The example: default inputs (no parallel, threads,
 * max-connections or chunks; work-dir only so that the run record is found).
 * @param {Ctx} ctx
 * @param {{ timings: string | undefined }} o
 */
async function variantAction(ctx, { timings }) {
  const id = timings ? 'action-timings' : 'action';
  const dir = runDir(ctx, id);
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const { env, schema } = await variantDb(ctx, id);
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  /** @type {Record<string, string>} */
  const inputs = { command: 'build', 'project-dir': proj, 'profiles-dir': proj };
  // The example keeps even work-dir at its default ($RUNNER_TEMP/parallel-dbt).
  if (ctx.budget !== undefined) Object.assign(inputs, { parallel: String(PARALLEL), 'max-connections': String(ctx.budget), 'work-dir': join(dir, 'work') });
  if (ctx.vars) inputs.vars = ctx.vars;
  if (timings) inputs.timings = timings;
  if (ctx.slim) Object.assign(inputs, { select: 'state:modified+', state: ctx.slim.state, defer: 'true' });
  /** @type {LogLine[]} */
  const lines = [];
  let buf = '';
  let t0 = 0;
  let spawnAt = 0;
  const r = await measured(async () => {
    t0 = Date.now();
    const res = await runAction(inputs, {
      env, cwd: proj, runnerTemp,
      onSpawn: () => { spawnAt = Date.now(); },
      onStdout: (s) => {
        const t = (Date.now() - (spawnAt || t0)) / 1000;
        buf += s;
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const text of parts) lines.push({ t, text });
      },
    });
    if (buf) lines.push({ t: (Date.now() - (spawnAt || t0)) / 1000, text: buf });
    return { res, wall: res.seconds };
  });
  writeFileSync(join(dir, 'action.log'), lines.map((l) => `${l.t.toFixed(2).padStart(8)}  ${l.text}`).join('\n') + '\n');
  if (r.res.stderr) writeFileSync(join(dir, 'action.stderr.log'), r.res.stderr);
  if (r.res.runnerTemp && !r.res.runnerTemp.startsWith(WORK)) rmSync(r.res.runnerTemp, { recursive: true, force: true });
  const results = r.res.outputs.results;
  const exitAt = spawnAt ? (t0 + r.res.seconds * 1000 - spawnAt) / 1000 : r.res.seconds;
  const phases = actionPhases(lines, exitAt);
  // The action writes its run record beside the merged results, wherever work-dir put them.
  const recordFile = results ? join(dirname(results), 'parallel-dbt.json') : undefined;
  const rec = recordFile ? readJson(recordFile) : undefined;
  const record = actionRecord(rec, phases, spawnAt || t0);
  const { res, ...rest } = r;
  // The shape the action ran: the run record's parallel × threads, else the plan line's ("… on P process(es) × T
  // thread(s); …"), else the shape choice's ("Shapes (processes × threads): 1×7 → ~8.5 s, …; using P × T").
  const chosen = lines.map((l) => /on (\d+) process\(es\) × (\d+) thread/.exec(l.text) ?? /^Shapes \(processes × threads\):.*; using (\d+) × (\d+)\b/.exec(l.text)).filter(Boolean).pop();
  const P = record.parallel ?? (chosen ? Number(chosen[1]) : undefined);
  const T = record.threads ?? (chosen ? Number(chosen[2]) : undefined);
  const base = ctx.budget === undefined ? 'parallel-dbt, default inputs' : timings ? 'parallel-dbt, auto chunks, with timings' : 'parallel-dbt, auto chunks, no timings';
  return {
    name: base, id,
    budget: P !== undefined && T !== undefined ? `${P} × (${T} + 1) = ${P * (T + 1)}` : '?', ...rest, exit: res.code,
    resultsFiles: results ? [results] : [], timings, action: phases, record, recordFile: rec && recordFile ? relative(ROOT, recordFile) : undefined, schema,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Slim CI (slimci): a pull request's run with defer. One database holds prod (schema prod, built whole by plain dbt
// before anything is measured) and one fresh schema per variant run; the PR's project has a few root models
// changed, and every variant builds state:modified+ with --defer --state <prod target>. Afterwards every variant's
// relations are counted (count(*)) and compared with plain dbt's, table by table.
/**
 * @typedef {object} SlimState
 * @property {string} db            the database of prod and of every PR schema (defer reads across schemas)
 * @property {string} prodSchema
 * @property {string} state         the prod build's target/ (its manifest.json is the state)
 * @property {string} project       the PR's copy of the project, the changed models in it
 * @property {string[]} changed     the changed models
 * @property {{ wall: number, exit: number | null, nodes: number, passed: number, cpuClient: number, cpuPostgres: number, load1: number }} prod
 */

/**
 * Slim CI, before anything is measured: (1) plain dbt builds the whole project as prod into schema prod of a fresh
 * database (timed, shown apart); its target/ is the state; (2) the PR's copy of the project gets `changeRoots`
 * root models changed: the first root model (layer 0) of each tag in turn. The change adds `where p0.id <> 1`: one
 * row fewer, so a child that read the prod relation instead of the PR's would have one row more than plain dbt's.
 * @param {{ dir: string, info: any, shape: Shape, singleThreads: number }} o
 * @returns {Promise<SlimState>}
 */
async function prepareSlim({ dir, info, shape, singleThreads }) {
  const db = await freshDb(shape.key);
  const prodSchema = 'prod';
  const prodProject = copyProject(info.dir, join(dir, 'prod', 'project'));
  const r = await measured(async () => {
    const p = await run(DBT, ['--log-format', 'json', 'build', '--project-dir', prodProject, '--profiles-dir', prodProject, '--threads', String(singleThreads)],
      { env: dbEnv(db, prodSchema), cwd: prodProject, log: join(dir, 'prod', 'dbt.log') });
    return { ...p, wall: p.seconds };
  });
  const state = join(prodProject, 'target');
  const statuses = statusesOf([join(state, 'run_results.json')]);
  const passed = [...statuses.values()].filter((x) => OK.has(x[0].status)).length;
  if (r.code !== 0 || !existsSync(join(state, 'manifest.json'))) {
    throw new Error(`the prod build (plain dbt build into schema ${prodSchema}) exited ${r.code ?? r.signal} after ${round(r.wall)} s, ${passed} of ${statuses.size} nodes passed; see ${relative(ROOT, join(dir, 'prod', 'dbt.log'))}`);
  }
  const project = copyProject(info.dir, join(dir, 'pr-project'));
  /** @type {string[][]} */
  const roots = info.tags.map((/** @type {{ name: string }} */ t) => readdirSync(join(project, 'models', t.name)).filter((f) => f.startsWith(`${t.name}_l0_`) && f.endsWith('.sql')).sort());
  /** @type {string[]} */
  const changed = [];
  for (let i = 0; changed.length < (shape.changeRoots ?? 4) && i < Math.max(...roots.map((x) => x.length)) * roots.length; i++) {
    const t = i % roots.length;
    const file = roots[t][Math.floor(i / roots.length)];
    if (!file) continue;
    const path = join(project, 'models', info.tags[t].name, file);
    writeFileSync(path, `${readFileSync(path, 'utf8').replace(/\n*$/, '\n')}where p0.id <> 1 -- the pull request's change\n`);
    changed.push(file.replace(/\.sql$/, ''));
  }
  return {
    db, prodSchema, state, project, changed,
    prod: { wall: round(r.wall, 2), exit: r.code, nodes: statuses.size, passed, cpuClient: r.cpuClient, cpuPostgres: r.cpuPostgres, load1: r.load1 },
  };
}

/**
 * What a run ran (run_results.json), by resource type, and the Σ of the pg_sleep waits in those nodes' SQL (the
 * manifest's raw_code): the known waits of slimci's lower bound.
 * @param {string} runResults
 * @param {string} manifest
 */
function ranNodes(runResults, manifest) {
  const rr = readJson(runResults);
  const m = readJson(manifest);
  /** @type {Record<string, number>} */
  const byType = {};
  let sleep = 0;
  for (const r of rr?.results ?? []) {
    const type = String(r.unique_id).split('.')[0];
    byType[type] = (byType[type] ?? 0) + 1;
    if (r.status === 'skipped') continue;
    for (const x of String(m?.nodes?.[r.unique_id]?.raw_code ?? '').matchAll(/pg_sleep\(([\d.]+)\)/g)) sleep += Number(x[1]);
  }
  return { nodes: rr?.results?.length ?? 0, byType, sleepSeconds: round(sleep, 3) };
}

/**
 * Row count of every relation (table, view, materialized view) a PR run left in its schemas: the target schema and
 * <schema>_<tag> for every tag (the projects' +schema folders). Keys: "<tag>.<relation>" ("." alone: the target
 * schema itself), so that two runs' schemas compare by key.
 * @param {string} db
 * @param {string} schema
 * @param {string[]} tags
 * @returns {Promise<Map<string, number>>}
 */
async function relationCounts(db, schema, tags) {
  if (!pgServer) throw new Error('PostgreSQL is not running');
  const c = await pgServer.client(db);
  try {
    const schemas = [schema, ...tags.map((t) => `${schema}_${t}`)];
    const rels = await c.query(`select n.nspname as s, c.relname as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1::text[]) and c.relkind in ('r', 'v', 'm', 'p') order by 1, 2`, [schemas]);
    /** @type {Map<string, number>} */
    const out = new Map();
    /** @param {string} x */
    const q = (x) => `"${x.replace(/"/g, '""')}"`;
    for (const { s, r } of rels.rows) {
      const n = await c.query(`select count(*)::bigint as n from ${q(s)}.${q(r)}`);
      out.set(`${s === schema ? '' : s.slice(schema.length + 1)}.${r}`, Number(n.rows[0].n));
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * Relations of two runs compared by key: row counts, and relations only one of them has.
 * @param {Map<string, number>} reference   plain dbt's
 * @param {Map<string, number>} got         the variant's
 * @returns {{ relations: number, referenceRelations: number, referenceRows: number, rows: number, differing: number, examples: string[] }}
 */
function diffRelationCounts(reference, got) {
  /** @type {string[]} */
  const examples = [];
  let differing = 0;
  for (const k of [...new Set([...reference.keys(), ...got.keys()])].sort()) {
    const a = reference.get(k);
    const b = got.get(k);
    if (a === b) continue;
    differing++;
    examples.push(a === undefined ? `${k}: only in the variant's schema (${b} rows)` : b === undefined ? `${k}: missing (plain dbt's has ${a} rows)` : `${k}: ${b} rows, plain dbt's ${a}`);
  }
  /** @param {Map<string, number>} m */
  const sum = (m) => [...m.values()].reduce((x, y) => x + y, 0);
  return { relations: got.size, referenceRelations: reference.size, referenceRows: sum(reference), rows: sum(got), differing, examples: examples.slice(0, 5) };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed costs: a cold parse, and a chunk's start-up with and without the shared parse (one trivial node).
/** @param {{ project: string, info: any, title: string, threads: number }} ctx */
async function fixedCosts(ctx) {
  const dir = join(WORK, 'fixed');
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb('fixed_costs'));
  const seedName = `raw_${ctx.info.tags[0].name}`;
  const chunkFlags = ['--no-use-colors', '--no-send-anonymous-usage-stats', '--log-format', 'json', '--log-format-file', 'debug', '--log-level-file', 'debug'];
  /** @param {string} target @param {string[]} [extra] */
  const build = (target, extra = []) => [...chunkFlags, ...extra, 'build', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target, '--log-path', join(dir, 'logs', relative(dir, target)),
    '--threads', String(ctx.threads), '--indirect-selection', 'empty', '--select', seedName];
  /** @type {{ project: string, parse: number[], coldChunk: number[], warmChunk: number[], parseMin?: number, coldChunkMin?: number, warmChunkMin?: number, ratio?: number, warning?: string }} */
  const out = { project: `${ctx.info.nodes} nodes (${ctx.title} project)`, parse: [], coldChunk: [], warmChunk: [] };
  for (let i = 0; i < FIXED_REPS; i++) {
    const parseTarget = join(dir, `parse-${i}`);
    const p = await run(DBT, [...chunkFlags, 'parse', '--project-dir', proj, '--profiles-dir', proj, '--target-path', parseTarget, '--log-path', join(dir, 'logs', `parse-${i}`)], { env, cwd: proj, log: join(dir, `parse-${i}.log`) });
    out.parse.push(round(p.seconds, 2));
    const c = await run(DBT, build(join(dir, `cold-${i}`)), { env, cwd: proj, log: join(dir, `cold-${i}.log`) });
    out.coldChunk.push(round(c.seconds, 2));
    const msgpack = join(parseTarget, 'partial_parse.msgpack');
    const w = await run(DBT, build(join(dir, `warm-${i}`), ['--partial-parse-file-path', msgpack]), { env, cwd: proj, log: join(dir, `warm-${i}.log`) });
    out.warmChunk.push(round(w.seconds, 2));
    const reparsed = readFileSync(join(dir, `warm-${i}.log`), 'utf8').includes('"UnableToPartialParse"');
    if (reparsed) out.warning = 'the warm start-up did not reuse the shared parse (UnableToPartialParse)';
  }
  out.parseMin = Math.min(...out.parse);
  out.coldChunkMin = Math.min(...out.coldChunk);
  out.warmChunkMin = Math.min(...out.warmChunk);
  out.ratio = round(out.warmChunkMin / out.parseMin, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Planning a 50,000-node manifest: the planner from src/plan, bundled with ncc, in a child process.
/** @param {number} nodes @param {number} seed */
function synthManifest(nodes, seed) {
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
  const manifest = { metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', dbt_version: '1.11.16' }, nodes: {}, sources: {}, unit_tests: {} };
  /** @param {string} uid @param {string} type @param {string} name @param {string[]} deps @param {string} tag */
  const node = (uid, type, name, deps, tag) => ({
    database: 'bench', schema: `bench_${tag}`, name, resource_type: type, package_name: 'big', path: `${tag}/${name}.sql`, original_file_path: `models/${tag}/${name}.sql`,
    unique_id: uid, fqn: ['big', tag, name], alias: name, checksum: { name: 'sha256', checksum: 'f'.repeat(64) },
    config: { enabled: true, alias: null, schema: tag, database: null, tags: [tag], meta: {}, materialized: type === 'test' ? 'test' : 'view', incremental_strategy: null, persist_docs: {}, quoting: {}, column_types: {}, full_refresh: null, on_schema_change: 'ignore', grants: {}, packages: [], docs: { show: true }, contract: { enforced: false } },
    tags: [tag], description: '', columns: {}, meta: {}, docs: { show: true }, patch_path: null, build_path: null, unrendered_config: {}, created_at: 1700000000,
    relation_name: `"bench"."bench_${tag}"."${name}"`, raw_code: `select * from {{ ref('${deps[0]?.split('.').pop() ?? 'x'}') }}`, language: 'sql',
    refs: deps.map((d) => ({ name: d.split('.').pop(), package: null, version: null })), sources: [], metrics: [],
    depends_on: { macros: type === 'test' ? ['macro.dbt.test_unique'] : [], nodes: deps }, compiled_path: null, contract: { enforced: false, alias_types: true, checksum: null },
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
    const deps = kind === 2 && manifest.nodes[uid].depends_on.nodes.length ? [uid, manifest.nodes[uid].depends_on.nodes.at(-1)] : [uid];
    manifest.nodes[`test.big.${name}`] = node(`test.big.${name}`, 'test', name, deps, tag);
  }
  const results = Object.keys(manifest.nodes).map((u) => ({ unique_id: u, status: u.startsWith('test.') ? 'pass' : 'success', execution_time: u.startsWith('test.') ? 0.05 + rng() * 0.1 : 0.1 + rng() * 2, timing: [], thread_id: 'Thread-1', adapter_response: {}, message: null, failures: null }));
  return { manifest, runResults: { metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json' }, results, elapsed_time: 0, args: {} } };
}


/** @param {number} threads the action's threads under the cpu shape's budget */
async function plan50k(threads) {
  const dir = join(WORK, 'plan50k');
  mkdirSync(dir, { recursive: true });
  const pl = await planLib();
  if (!pl.bundle) return { error: pl.error ?? 'no src/plan bundle' };
  const { manifest, runResults } = synthManifest(PLAN_NODES, 5);
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  writeFileSync(join(dir, 'run_results.json'), JSON.stringify(runResults));
  const childPath = join(BENCH, 'plan-child.mjs');
  const manifestMB = round(readFileSync(manifestPath).length / 1048576);
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const p = await run(process.execPath, [childPath, pathToFileURL(pl.bundle).href, manifestPath, join(dir, 'run_results.json'), String(Math.max(PARALLEL, 4)), String(threads)],
      { env: process.env, cwd: dir, log: join(dir, `child-${i}.log`), timeoutMs: 180000 });
    const line = readFileSync(join(dir, `child-${i}.log`), 'utf8').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (!line) return { error: `planner child exited ${p.code ?? p.signal} after ${round(p.seconds)} s without a result (see bench/work/plan50k/child-${i}.log)`, manifestMB };
    runs.push(JSON.parse(line.slice('BENCH_RESULT '.length)));
  }
  const best = runs.reduce((a, b) => (b.planning < a.planning ? b : a));
  rmSync(manifestPath, { force: true });
  return { ...best, manifestMB, runs: runs.map((r) => ({ planning: r.planning, total: r.total, maxRssMB: r.maxRssMB })), maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)), chunksAsked: Math.max(PARALLEL, 4), threads };
}

// ---------------------------------------------------------------------------------------------------------------
// One shape: generate (or copy example/), then every variant on a fresh database, --repeat times each.
/**
 * @param {Shape} shape
 */
async function runShape(shape) {
  const key = shape.key;
  const t0 = Date.now();
  const dir = join(WORK, key);
  rmSync(dir, { recursive: true, force: true });
  /** @type {any} */
  let info;
  if (shape.kind === 'example') {
    const proj = copyProject(join(ROOT, 'example'), join(dir, 'example'));
    info = { dir: proj, name: 'parallel_dbt_example' };
    log(`${shape.title}: example/ copied`);
  } else {
    info = generateProject(join(dir, 'generated'), shape.gen ?? {});
    log(`${shape.title}: ${info.models} models, ${info.tests} tests${info.singularTests ? ` (${info.singularTests} singular, Σ ${info.singularSleepSeconds} s of waits)` : ''}, ${info.seeds} seeds = ${info.nodes} nodes; tags ${info.tags.map((/** @type {any} */ t) => `${t.name} ${t.models}`).join(', ')}`);
  }
  const budget = budgetOf(shape);
  const sp = budget !== undefined ? spending(budget) : { budget: undefined, singleThreads: exampleProfileThreads() };
  /** @type {Ctx} */
  const base = { key, dir, project: info.dir, info, title: shape.title, shape, budget: sp.budget, singleThreads: sp.singleThreads, vars: shape.vars, rep: 0 };
  /** @type {any[]} */
  const variants = [];
  if (shape.kind === 'slimci') {
    log(`${shape.title}: prod build (plain dbt build, --threads ${sp.singleThreads}, schema prod; not in the table) …`);
    try {
      base.slim = await prepareSlim({ dir, info, shape, singleThreads: sp.singleThreads });
      base.project = base.slim.project;
      log(`${shape.title}: prod build: ${base.slim.prod.wall} s, exit ${base.slim.prod.exit}, ${base.slim.prod.passed} of ${base.slim.prod.nodes} nodes passed; the PR changes ${base.slim.changed.join(', ')}`);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log(`${shape.title}: ${error}`);
      const v = { name: 'one dbt process, --defer', id: 'single', error };
      const out = await finishShape(shape, info, [v], v, sp);
      out.seconds = Math.round((Date.now() - t0) / 1000);
      return out;
    }
  }
  const wanted = (/** @type {string} */ id) => shape.variants.includes(id) && (id === 'single' || VARIANTS.includes(id === 'action-timings' ? 'action' : id));
  /**
   * Runs one variant REPEAT times; the row is the run with the median wall (the lower middle one for even N), with
   * the median wall and every wall beside it.
   * @param {string} label
   * @param {(ctx: Ctx) => Promise<any>} fn
   */
  const step = async (label, fn) => {
    const runs = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      log(`${shape.title}: ${label}${REPEAT > 1 ? ` (run ${rep + 1} of ${REPEAT})` : ''} …`);
      try {
        const v = await fn({ ...base, rep });
        runs.push(v);
        log(`${shape.title}: ${label}: ${v.unavailable ? `not available (${v.unavailable})` : `${round(v.wall)} s, exit ${v.exit}`}`);
        if (v.unavailable) break;
      } catch (e) {
        const v = { name: label, id: label, error: e instanceof Error ? e.message : String(e) };
        runs.push(v);
        log(`${shape.title}: ${label} failed: ${v.error}`);
        break;
      }
    }
    const ok = runs.filter((v) => !v.unavailable && !v.error && typeof v.wall === 'number');
    if (ok.length < runs.length || ok.length === 0) {
      const v = runs.find((x) => x.unavailable || x.error) ?? runs[0];
      variants.push(v);
      return v;
    }
    const sorted = [...ok].sort((x, y) => x.wall - y.wall);
    const v = { ...sorted[Math.floor((sorted.length - 1) / 2)] };
    if (ok.length > 1) {
      v.walls = ok.map((x) => round(x.wall, 2));
      v.wall = median(ok.map((x) => x.wall));
      // slimci compares every run's schema, not only the median run's (not kept in latest.json)
      v.repeats = ok.map((x) => ({ schema: x.schema, resultsFiles: x.resultsFiles }));
    }
    variants.push(v);
    return v;
  };
  const single = await step(budget !== undefined ? 'one dbt process' : 'plain dbt build', variantSingle);
  if (shape.kind === 'example' && single.resultsFiles) {
    const rr = readJson(single.resultsFiles[0]);
    info.nodes = rr?.results?.length;
    info.byType = {};
    for (const r of rr?.results ?? []) info.byType[r.unique_id.split('.')[0]] = (info.byType[r.unique_id.split('.')[0]] ?? 0) + 1;
  }
  if (wanted('seed-style')) await step('seed-style', variantSeedStyle);
  if (wanted('action')) {
    const first = await step(budget !== undefined ? 'action without timings' : 'action, default inputs', (ctx) => variantAction(ctx, { timings: undefined }));
    if (wanted('action-timings')) {
      /** @type {string | undefined} */
      let timingsFile;
      if (first.resultsFiles?.[0] && existsSync(first.resultsFiles[0])) {
        timingsFile = join(dir, 'previous-run_results.json');
        cpSync(first.resultsFiles[0], timingsFile);
      }
      await step('action with timings', (ctx) => variantAction(ctx, { timings: timingsFile ?? join(dir, 'missing-run_results.json') }));
    }
  }
  // prefect-dbt last: its temporary Prefect server's aftermath slowed whatever ran right after it (seen twice:
  // the action's 1-process run took 72 s after it, 65–67 s elsewhere in the same session).
  if (WITH_PREFECT && wanted('prefect')) await step('prefect-dbt PER_WAVE', variantPrefect);
  const out = await finishShape(shape, info, variants, single, sp, base.slim);
  out.seconds = Math.round((Date.now() - t0) / 1000);
  log(`${shape.title}: done in ${out.seconds} s`);
  return out;
}

/**
 * Correctness against the reference run, and the lower bound from its timings.
 * @param {Shape} shape
 * @param {any} info
 * @param {any[]} variants
 * @param {any} single
 * @param {{ budget: number | undefined, singleThreads: number }} sp
 * @param {SlimState} [slimState]   slimci: prod, the state and the changed models
 */
async function finishShape(shape, info, variants, single, sp, slimState) {
  const reference = single.resultsFiles ? statusesOf(single.resultsFiles) : new Map();
  for (const v of variants) {
    if (v.unavailable || v.error || v.id === 'single') continue;
    v.check = compare(reference, statusesOf(v.resultsFiles ?? []));
  }
  if (single.resultsFiles) {
    const okCount = [...reference.values()].filter((s) => OK.has(s[0].status)).length;
    single.check = { correct: okCount === reference.size, text: okCount === reference.size ? `all ${okCount} nodes passed` : `${reference.size - okCount} of ${reference.size} not passed` };
  }
  /** @type {any} */
  let slim;
  if (shape.kind === 'slimci') {
    slim = slimState ? { db: slimState.db, prodSchema: slimState.prodSchema, state: relative(ROOT, slimState.state), changed: slimState.changed, prod: slimState.prod } : {};
    if (slimState && single.resultsFiles && single.schema && !single.error) {
      const ran = ranNodes(single.resultsFiles[0], single.manifest);
      slim.selected = { ...ran, share: info.nodes ? round(ran.nodes / info.nodes, 3) : undefined };
      const tags = info.tags.map((/** @type {{ name: string }} */ t) => t.name);
      try {
        const ref = await relationCounts(slimState.db, single.schema, tags);
        single.relations = { relations: ref.size, rows: [...ref.values()].reduce((a, b) => a + b, 0), schema: single.schema };
        const models = ran.byType.model ?? 0;
        if (ref.size !== models) single.relations.note = `${ref.size} relations for ${models} models run`;
        for (const v of variants) {
          if (v.unavailable || v.error || v.id === 'single' || !v.schema) continue;
          // With --repeat: every run's schema against plain dbt's (the median run's); the row shows the worst run.
          /** @type {{ schema: string, resultsFiles?: string[] }[]} */
          const runs = v.repeats ?? [{ schema: v.schema }];
          /** @type {any[]} */
          const diffs = [];
          for (const x of runs) {
            /** @type {any} */
            const d = { ...diffRelationCounts(ref, await relationCounts(slimState.db, x.schema, tags)), schema: x.schema };
            if (x.resultsFiles && x.schema !== v.schema && !compare(reference, statusesOf(x.resultsFiles)).correct) d.statusesDiffer = true;
            diffs.push(d);
          }
          v.relations = diffs.reduce((a, b) => (b.differing > a.differing ? b : a));
          if (runs.length > 1) v.relations.runs = diffs.map((d) => ({ schema: d.schema, differing: d.differing, ...(d.statusesDiffer ? { statusesDiffer: true } : {}) }));
          if (v.check && diffs.some((d) => d.statusesDiffer)) {
            v.check.correct = false;
            v.check.text = `${v.check.text}; WRONG: another run's statuses differ (${diffs.filter((d) => d.statusesDiffer).map((d) => d.schema).join(', ')})`;
          }
          if (v.check) {
            v.check.correct = v.check.correct && v.relations.differing === 0;
            v.check.text = `${v.check.text}; ${v.relations.differing === 0 ? `all ${v.relations.relations} relations have plain dbt's row counts` : `WRONG: ${v.relations.differing} of ${v.relations.referenceRelations} relations differ`}`;
          }
        }
      } catch (e) {
        slim.relationsError = `row counts: ${e instanceof Error ? e.message : String(e)}`;
        for (const v of variants) {
          if (!v.check || v.id === 'single') continue;
          v.check.correct = false;
          v.check.text = `${v.check.text}; WRONG: row counts not compared (${slim.relationsError})`;
        }
      }
    }
  }
  /** @type {LowerBound | undefined} */
  let lb;
  let lbError;
  if (single.resultsFiles) {
    const pl = await planLib();
    if (pl.lib) {
      try {
        lb = lowerBound(pl.lib, {
          runResults: single.resultsFiles[0], manifest: single.manifest, kind: shape.kind, slots: sp.budget !== undefined ? sp.budget - 1 : sp.singleThreads,
          cpuSeconds: (single.cpuClient ?? 0) + (single.cpuPostgres ?? 0), startup: single.startup ?? 0,
          sleepSeconds: shape.kind === 'remote' ? info.singularSleepSeconds : shape.kind === 'slimci' ? slim?.selected?.sleepSeconds : undefined,
        });
      } catch (e) {
        lbError = `lower bound: ${e instanceof Error ? e.message : String(e)}`;
      }
    } else lbError = pl.error;
  }
  return { key: shape.key, title: shape.title, kind: shape.kind, describe: shape.describe, budget: sp.budget, singleThreads: sp.singleThreads, project: info, variants, lowerBound: lb, lowerBoundError: lbError, single, slim, seconds: 0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Report
/** @typedef {{ target: string, measured: string, result: string }} Target */

/**
 * @param {any} res
 * @returns {Target[]}
 */
function targetsOf(res) {
  /** @type {Target[]} */
  const t = [];
  /** @param {boolean | undefined} ok */
  const pass = (ok) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');
  /** @param {any} shape @param {string} id */
  const byId = (shape, id) => shape?.variants.find((/** @type {any} */ v) => v.id === id && !v.unavailable && !v.error);
  /** @param {any} a */
  const label = (a) => (a.id === 'action-timings' ? 'action + timings' : a.name.includes('default') ? 'action (default inputs)' : 'action');
  const actions = (/** @type {any} */ s) => ['action', 'action-timings'].map((id) => byId(s, id)).filter(Boolean);

  // Issue 11: never slower, on every shape (the example with default inputs against plain dbt build).
  for (const s of res.shapes) {
    const single = byId(s, 'single');
    if (!single) continue;
    for (const a of actions(s)) {
      const what = s.budget !== undefined ? `one dbt with the same budget ${s.budget} (${s.singleThreads} threads)` : `plain dbt build (profile's ${s.singleThreads} threads)`;
      t.push({ target: `Never slower — ${s.title}: ${label(a)} ≤ 1.05 × ${what}`, measured: `${round(a.wall)} s vs ${round(single.wall)} s (${round(a.wall / single.wall, 2)}×)`, result: pass(a.wall <= 1.05 * single.wall) });
    }
  }
  // Issue 11: speed-ups where processes can win.
  for (const [kind, need] of /** @type {[string, number][]} */ ([['remote', 1.6], ['cpu', 1.25]])) {
    const s = res.shapes.find((/** @type {any} */ x) => x.kind === kind);
    const single = byId(s, 'single');
    if (!s || !single) continue;
    for (const a of actions(s)) {
      const ratio = single.wall / a.wall;
      t.push({ target: `${s.title}, budget ${s.budget}: ${label(a)} ≥ ${need}× faster than one dbt with ${s.singleThreads} threads`, measured: `${round(single.wall)} / ${round(a.wall)} = ${round(ratio, 2)}×`, result: pass(ratio >= need) });
    }
  }
  // Slim CI: the PR run with defer gives plain dbt's statuses and, relation by relation, its row counts.
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    for (const a of actions(s)) {
      const r = a.relations;
      t.push({ target: `${s.title}: ${label(a)} leaves the same relations as plain dbt --defer (count(*) per relation: 0 differ) and the same node statuses`,
        measured: `${r ? `${r.differing} of ${r.referenceRelations} relations differ (plain dbt: ${r.referenceRelations} relations, ${r.referenceRows} rows; ${label(a)}: ${r.relations}, ${r.rows})` : `row counts not compared${s.slim?.relationsError ? ` (${s.slim.relationsError})` : ''}`}; statuses: ${a.check?.text?.split(';')[0] ?? '–'}`,
        result: pass(Boolean(r) && a.check?.correct === true) });
    }
  }
  // Issue 11: start-up and an honest plan, on every action row.
  for (const s of res.shapes) {
    const single = byId(s, 'single');
    for (const a of actions(s)) {
      const r = a.record;
      const where = `${s.title}, ${label(a)}`;
      t.push({ target: `Chunk start-up (spawn → first node START, median over chunks) ≤ 1.0 s — ${where}`,
        measured: r?.chunkStartup !== undefined ? `${r.chunkStartup} s (${r.chunkStartups.length} chunk(s): ${r.chunkStartups.join(', ')}; from ${r.chunkStartupSource})` : '–', result: pass(r?.chunkStartup === undefined ? undefined : r.chunkStartup <= 1.0) });
      if (single?.firstNodeStart !== undefined) {
        t.push({ target: `The action's first node START ≤ plain dbt's + 1.0 s — ${where}`,
          measured: r?.firstNodeStart !== undefined ? `${r.firstNodeStart} s vs ${single.firstNodeStart} + 1.0 = ${round(single.firstNodeStart + 1, 2)} s` : '–', result: pass(r?.firstNodeStart === undefined ? undefined : r.firstNodeStart <= single.firstNodeStart + 1.0) });
      }
      t.push({ target: `Predicted makespan within ±${Math.round(PREDICTION_TOLERANCE * 100)} % of the actual — ${where}`,
        measured: r?.predictedOverActual !== undefined ? `${r.predictedMakespan} s predicted vs ${r.actualMakespan} s actual (÷ ${r.predictedOverActual})` : '–', result: pass(r?.predictionOk) });
    }
  }
  // Informative (earlier targets, superseded by the ones above): the latency lower bound, fixed cost, warm start-up.
  const lat = res.shapes.find((/** @type {any} */ s) => s.kind === 'latency');
  if (lat?.lowerBound) {
    for (const a of actions(lat)) {
      const b = lat.lowerBound;
      t.push({ target: `(info) ${lat.title}: ${label(a)} vs 1.10 × lower bound ${b.formula}; vs 1.10 × (bound + one cold dbt start-up)`, measured: `${round(a.wall)} s vs ${round(1.1 * b.bound)} s (${round(a.wall / b.bound, 2)}× the bound); vs ${round(1.1 * b.boundWithStartup)} s (${round(a.wall / b.boundWithStartup, 2)}×)`, result: 'info' });
    }
  }
  const fc = res.fixedCosts;
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'cpu')) {
    for (const a of actions(s)) {
      if (!a.action?.fixedCost || !fc?.parseMin) continue;
      t.push({ target: `(info) Fixed cost of the action (${s.title}, ${label(a)}): start → first chunk + last chunk → exit, vs one cold dbt parse + 1 s`, measured: `${a.action.fixedCost} s vs ${fc.parseMin} + 1 = ${round(fc.parseMin + 1, 2)} s`, result: 'info' });
    }
  }
  if (fc?.warmChunkMin) t.push({ target: `(info) A dbt subprocess's start-up with the shared parse vs a cold full parse (${fc.project}; one-node chunk)`, measured: `${fc.warmChunkMin} s vs ${fc.parseMin} s (${Math.round(fc.ratio * 100)} %)`, result: 'info' });
  const p = res.plan50k;
  if (p && !p.error) {
    t.push({ target: `Planning a ${PLAN_NODES.toLocaleString('en')}-node manifest < 2 s`, measured: `${p.planning} s (graph ${p.graph} + timings ${p.timings} + chunks ${p.planChunks}); reading the ${p.manifestMB} MB manifest ${p.readManifest} s more`, result: pass(p.planning < 2) });
    t.push({ target: `Planning a ${PLAN_NODES.toLocaleString('en')}-node manifest < 300 MB RSS`, measured: `peak ${p.maxRssMB} MB: Node alone ${p.rssStartMB} MB, + the parsed ${p.manifestMB} MB manifest → ${p.rssAfterManifestMB} MB, + buildPlanGraph → ${p.rssAfterGraphMB} MB, + planChunks → peak (the planner's own share: ${p.maxRssMB - p.rssAfterManifestMB} MB)`, result: pass(p.maxRssMB < 300) });
  } else if (p?.error) t.push({ target: `Planning a ${PLAN_NODES}-node manifest`, measured: p.error, result: 'MISS' });
  return t;
}

/** @param {any} x @param {number} [d] */
const cell = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '–' : String(typeof x === 'number' ? round(x, d) : x).replace(/\|/g, '/'));

/** @param {any} res */
function markdown(res) {
  /** @type {string[]} */
  const L = [];
  const m = res.machine;
  L.push(`# parallel-dbt benchmark — ${res.date}`, '');
  L.push(`Machine: ${m.cores} cores (nproc), ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; dbt-core ${m.dbt}, dbt-postgres ${m.dbtPostgres}; ${m.postgres}; the action: dist/ of commit ${m.commit || '?'}; load average at start ${m.loadAtStart}. Scale ${res.options.scale}; ${REPEAT > 1 ? `every variant run ${REPEAT} times (the median wall counts); ` : ''}run took ${res.durationSeconds} s (${res.shapes.map((/** @type {any} */ s) => `${s.title} ${s.seconds} s`).join(', ')}${res.fixedCosts ? `, fixed costs ${res.fixedCosts.seconds ?? '?'} s` : ''}${res.plan50k ? `, planning ${res.plan50k.seconds ?? '?'} s` : ''}).`);
  const loads = res.shapes.flatMap((/** @type {any} */ s) => s.variants.map((/** @type {any} */ v) => v.load1)).filter((/** @type {any} */ x) => typeof x === 'number');
  const maxLoad = loads.length ? Math.max(...loads) : 0;
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    const wrong = s.variants.filter((/** @type {any} */ v) => v.id !== 'single' && v.check && !v.check.correct);
    const differing = wrong.reduce((/** @type {number} */ n, /** @type {any} */ v) => n + (v.relations?.differing ?? 0), 0);
    if (wrong.length || s.slim?.relationsError) {
      L.push('', `**WRONG RESULT — ${s.title}: ${wrong.map((/** @type {any} */ v) => `${v.name}: ${v.check.text}`).join(' / ') || s.slim.relationsError}.** ${differing} relation(s) differ from plain dbt's in all; see "Slim CI" below.`);
    }
  }
  if (maxLoad > CORES) L.push('', `**Warning: the machine was busy** — the 1-minute load average at the start of a variant reached ${maxLoad} on ${CORES} cores (per variant in the notes below). Walls and ratios are noisy; compare rows measured under similar load, or use --repeat.`, '');
  L.push(`Connection budget B per shape (dbt-postgres holds ≤ threads + 1 per process): one dbt = 1 × (B − 1 + 1); the action = parallel ${PARALLEL} (= cores unless --parallel), max-connections B, no threads input, so it picks its processes × threads within B (the chosen shape is in each row); seed-style = tags × (⌊B / tags⌋ − 1 + 1). The example project has no budget: plain \`dbt build\` with the profile's threads vs the action with no inputs but the project. Every variant starts from a fresh copy of the project (no target/, so a cold parse) and a fresh database${res.shapes.some((/** @type {any} */ s) => s.kind === 'slimci') ? ' (Slim CI: a fresh schema in the database that holds prod)' : ''}.`, '');
  L.push('| Shape | Variant | Processes × (threads + 1) | Wall (s) | One dbt ÷ variant | Variant ÷ lower bound | First node START (s after spawn) | Makespan predicted / actual (s) | Predicted ÷ actual | Chunk start-up (s, median) | Run path | CPU s (dbt + PostgreSQL) | Same result as one dbt? |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const s of res.shapes) {
    const single = s.variants.find((/** @type {any} */ v) => v.id === 'single' && v.wall);
    for (const v of s.variants) {
      if (v.unavailable || v.error) {
        L.push(`| ${s.title} | ${v.name} | ${v.budget ?? ''} | – | – | – | – | – | – | – | – | – | not available: ${cell(v.unavailable ?? v.error)} |`);
        continue;
      }
      const ratio = single ? cell(single.wall / v.wall, 2) : '–';
      const lbr = s.lowerBound ? cell(v.wall / s.lowerBound.bound, 2) : '–';
      const r = v.record;
      const na = 'n/a';
      const first = v.id === 'single' ? cell(v.firstNodeStart, 2) : r ? cell(r.firstNodeStart, 2) : na;
      const pred = r ? `${cell(r.predictedMakespan)} / ${cell(r.actualMakespan)}` : na;
      const pa = r ? (r.predictedOverActual === undefined ? '–' : `${r.predictedOverActual}${r.predictionOk ? '' : ' ⚠'}`) : na;
      const cs = r ? cell(r.chunkStartup, 2) : na;
      const path = r ? cell(r.runPath ?? (r.source === 'parallel-dbt.json' ? 'subprocess (not recorded)' : undefined)) : na;
      const wall = v.walls ? `${round(v.wall)} (${v.walls.join(', ')})` : `${round(v.wall)}`;
      L.push(`| ${s.title} | ${v.name} | ${v.budget} | ${wall} | ${ratio} | ${lbr} | ${first} | ${pred} | ${pa} | ${cs} | ${path} | ${round(v.cpuClient)} + ${round(v.cpuPostgres)} | ${cell(v.check?.text ?? '')} |`);
    }
    if (s.lowerBound) {
      const b = s.lowerBound;
      L.push(`| ${s.title} | lower bound ${b.formula} | – | ${b.bound} | ${single ? cell(single.wall / b.bound, 2) : '–'} | 1 | – | – | – | – | – | – | CP ${b.criticalPath} s, W ${b.work} s, W/${b.slots} ${b.workOverSlots} s${b.sleepSeconds !== undefined ? `, Σ sleep/${b.slots} ${round(b.sleepSeconds / b.slots)} s` : ''}, CPU/${CORES} ${b.cpuOverCores} s |`);
    } else if (s.lowerBoundError) L.push(`| ${s.title} | lower bound | – | – | – | – | – | – | – | – | – | – | ${cell(s.lowerBoundError)} |`);
  }
  L.push('', `Columns: **Wall** spawn → exit of the variant (with --repeat: the median, every run in brackets). **One dbt ÷ variant** > 1 means the variant is faster. **First node START**: seconds from the process's spawn to its first "N of M START" (one dbt: its JSON log's LogStartLine; the action: the earliest chunk firstNodeAt in parallel-dbt.json, else the first chunk START line of its log). **Makespan predicted / actual**: the plan's predictedMakespan vs max(chunk endedAt) − min(chunk startedAt); ⚠ when predicted ÷ actual is outside 1 ± ${PREDICTION_TOLERANCE}. **Chunk start-up**: median over chunks of firstNodeAt − startedAt (the chunk's spawn → its first node START). **Run path**: parallel-dbt.json runPath (fork / subprocess); "subprocess (not recorded)" when the record has no runPath (the action before the worker host). n/a: not an action row.`);
  L.push('', `Lower bound: from the one-dbt run's run_results.json and manifest.json, with the project's own src/plan code (bundled with ncc): CP = longest chain of execution_time over buildPlanGraph (depends_on plus every test edge dbt build adds) via criticalOrder; W = Σ execution_time; S = B − 1 worker threads (no split of B connections holds more); describe.ts lowerBound = max(CP, work / S). Latency-bound and example: max(CP, W / S). CPU-bound: threads of one process wait for each other (GIL), so execution_time is inflated and W / S is no bound; the bound is max(CP, CPU seconds of dbt + PostgreSQL in the one-dbt run / ${CORES} cores). Remote: max(CP, Σ pg_sleep of the tests / S, CPU / cores); Slim CI the same with Σ pg_sleep of the nodes its PR run ran. "+ one cold dbt start-up" adds the one-dbt run's spawn-to-first-node time.`, '');
  for (const s of res.shapes) {
    const p = s.project;
    if (s.kind === 'example') {
      L.push(`**${s.title}** (${s.seconds} s): ${p.nodes ?? '?'} nodes (${Object.entries(p.byType ?? {}).map(([k, n]) => `${n} ${k}`).join(', ')}); ${s.describe}.`);
    } else {
      L.push(`**${s.title}** project (${s.seconds} s, budget ${s.budget}): ${p.models} models (${p.tables} tables, ${p.sleepingModels} sleeping, ${p.sleepSecondsTotal} s of sleep${p.heavyModels.length ? `, heavy chain ${p.heavyModels.map((/** @type {any} */ h) => `${h.seconds} s`).join(' → ')}` : ''}), ${p.tests} tests${p.singularTests ? ` (${p.singularTests} singular, Σ ${p.singularSleepSeconds} s of waits)` : ''}, ${p.seeds} seeds = ${p.nodes} nodes; tags ${p.tags.map((/** @type {any} */ t) => `${t.name} ${t.models}`).join(' / ')}; ${p.crossTagRefs} cross-tag refs, ${p.crossTagTests} cross-tag relationships tests. ${s.describe}.`);
    }
    if (s.kind === 'slimci' && s.slim?.prod) {
      const z = s.slim;
      const sel = z.selected;
      L.push('', `Slim CI: the prod build (plain \`dbt build --threads ${s.singleThreads}\` of the whole project into schema ${z.prodSchema} of database ${z.db}; not in the table) took ${z.prod.wall} s, exit ${z.prod.exit}, ${z.prod.passed} of ${z.prod.nodes} nodes passed (CPU ${round(z.prod.cpuClient)} + ${round(z.prod.cpuPostgres)} s; load ${z.prod.load1} at start); state: ${z.state}. The PR changes ${z.changed.length} root models (${z.changed.join(', ')}); \`state:modified+\` ${sel ? `ran ${sel.nodes} of ${p.nodes} nodes (${Math.round((sel.share ?? 0) * 100)} %: ${Object.entries(sel.byType).map(([k, n]) => `${n} ${k}`).join(', ')}; Σ ${sel.sleepSeconds} s of pg_sleep)` : 'was not run'} in plain dbt's run.`, '');
    }
    for (const v of s.variants) {
      const notes = [...(v.notes ?? [])];
      if (v.perTag) notes.push(`per tag: ${Object.entries(v.perTag).map(([k, x]) => `${k} ${x} s`).join(', ')}`);
      if (v.check?.example) notes.push(`e.g. ${v.check.example}`);
      if (v.relations?.examples?.length) notes.push(`differing relations (${v.relations.schema}), e.g. ${v.relations.examples.join(' / ')}`);
      if (v.relations?.runs) notes.push(`relations differing per run: ${v.relations.runs.map((/** @type {any} */ x) => `${x.schema} ${x.differing}${x.statusesDiffer ? ' (statuses differ)' : ''}`).join(', ')}`);
      if (v.schema) notes.push(`schema ${v.schema}`);
      if (v.record?.runPathReason) notes.push(`run path ${v.record.runPath ?? '?'}: ${v.record.runPathReason}`);
      if (v.record) notes.push(`run record: ${v.recordFile ?? 'none (figures from the log)'}`);
      if (v.action?.warnings?.length) notes.push(`warnings: ${v.action.warnings.map((/** @type {string} */ w) => w.replace(/^::warning[^:]*::/, '')).join(' / ')}`);
      if (v.load1 !== undefined) notes.push(`load ${v.load1} at start`);
      if (notes.length) L.push(`- ${v.name}: ${notes.join('; ').replace(/\n/g, ' ')}`);
    }
    L.push('');
  }
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    L.push(`## ${s.title}: plain dbt --defer vs the action, relation by relation`, '');
    L.push(`After the runs, every relation in each run's schemas (its target schema and <schema>_<tag>) is counted (\`count(*)\`) and compared by name with plain dbt's; node statuses are compared with plain dbt's run_results.json. ${s.slim?.relationsError ? `**${s.slim.relationsError}**` : ''}`, '');
    L.push('| Run | Schema | Wall (s) | One dbt ÷ run | Node statuses | Relations | Rows | Relations differing from plain dbt\'s |', '|---|---|---:|---:|---|---:|---:|---:|');
    const single = s.variants.find((/** @type {any} */ v) => v.id === 'single' && v.wall);
    for (const v of s.variants) {
      if (v.error || v.unavailable) {
        L.push(`| ${v.name} | – | – | – | not available: ${cell(v.error ?? v.unavailable)} | – | – | – |`);
        continue;
      }
      const r = v.id === 'single' ? v.relations : v.relations && { relations: v.relations.relations, rows: v.relations.rows };
      const differing = v.id === 'single' ? 'reference' : v.relations ? (v.relations.differing === 0 ? '0' : `**${v.relations.differing} — WRONG**`) : '**not compared — WRONG**';
      L.push(`| ${v.name} | ${cell(v.schema)} | ${round(v.wall)} | ${single ? cell(single.wall / v.wall, 2) : '–'} | ${cell(v.check?.text?.split(';')[0])} | ${cell(r?.relations)} | ${cell(r?.rows)} | ${differing} |`);
    }
    L.push('');
  }
  L.push('## Targets', '', 'Issue 11\'s targets first; "(info)" rows are earlier targets kept as information.', '', '| Target | Measured | Result |', '|---|---|---|');
  for (const t of res.targets) L.push(`| ${t.target} | ${t.measured.replace(/\|/g, '/')} | ${t.result} |`);
  L.push('');
  L.push('## Where the action spends its time (from its log, seconds after its spawn)', '');
  L.push('| Shape | Run | dbt ls (cold parse + select) | manifest → plan | plan → first chunk spawn | chunks running | chunks at once (avg) | merge + report | fixed cost | plan\'s predicted makespan |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const runName = (/** @type {any} */ v) => (v.id === 'action-timings' ? 'timings' : v.name.includes('default') ? 'default inputs' : 'no timings');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action)) {
      const a = v.action;
      const b = a.breakdown;
      L.push(`| ${s.title} | ${runName(v)} | ${cell(b.startToParsed, 2)} | ${cell(b.parsedToPlan, 2)} | ${cell(b.planToFirstChunk, 2)} | ${cell(b.chunksRunning, 2)} | ${cell(a.concurrency, 2)} | ${cell(b.mergeAndReport, 2)} | ${cell(a.fixedCost, 2)} | ${cell(v.record?.predictedMakespan ?? a.predicted?.makespan)} |`);
    }
  }
  L.push('', 'Each chunk (seconds after the action\'s spawn; steps from the chunk\'s own dbt log lines): Python imports (spawn → banner), loading the shared parse (→ "Found …"), resolving the chunk\'s --select list and linking the graph (→ "Concurrency"), relation cache (→ first node START), running nodes, writing artifacts and exiting. "Start-up" is firstNodeAt − startedAt from parallel-dbt.json when it has firstNodeAt, else from the log; "predicted" the planner\'s predictedStart + predicted (seconds after the first chunk\'s start).', '');
  L.push('| Shape | Run | Chunk | Nodes | Start | End | Imports | Load parse | Selection | Cache | Nodes | Exit | Start-up to first node | Predicted start → end | Actual start → end |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action)) {
      const recChunks = new Map((v.record?.chunks ?? []).map((/** @type {any} */ c) => [c.name, c]));
      const firstStart = Math.min(...(v.record?.chunks ?? []).map((/** @type {any} */ c) => c.startedAt ?? Infinity));
      for (const c of v.action.chunks) {
        const st = c.steps;
        const rc = recChunks.get(c.name);
        const predicted = rc?.predicted !== undefined ? `${cell((rc.predictedStart ?? 0))} → ${cell((rc.predictedStart ?? 0) + rc.predicted)}` : '–';
        const actual = rc?.startedAt !== undefined && rc?.endedAt !== undefined && Number.isFinite(firstStart) ? `${cell((rc.startedAt - firstStart) / 1000)} → ${cell((rc.endedAt - firstStart) / 1000)}` : '–';
        L.push(`| ${s.title} | ${runName(v)} | ${c.name} | ${c.nodes} | ${cell(c.start, 2)} | ${cell(c.end, 2)} | ${cell(st.imports, 2)} | ${cell(st.loadParse, 2)} | ${cell(st.selection, 2)} | ${cell(st.cache, 2)} | ${cell(st.nodes, 2)} | ${cell(st.exit, 2)} | ${cell(rc?.startup ?? c.startupToFirstNode, 2)} | ${predicted} | ${actual} |`);
      }
    }
  }
  L.push('');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action?.plan)) L.push(`- ${s.title}, ${runName(v)}: \`${v.action.plan}\`${v.action.chunkPlan.length ? ` — ${v.action.chunkPlan.join('; ')}` : ''}${v.action.timingsLine ? ` — ${v.action.timingsLine}` : ''}`);
  }
  const fc = res.fixedCosts;
  if (fc && !fc.error) {
    L.push('', '## Fixed costs', '');
    L.push(`On the ${fc.project}, one trivial node (a seed) built with the action's chunk flags as a dbt subprocess; ${FIXED_REPS} repetitions, the minimum counts (the machine is shared).`, '');
    L.push('| Measure | Runs (s) | Min (s) |', '|---|---|---:|');
    L.push(`| \`dbt parse\`, cold (no target/) | ${fc.parse.join(', ')} | ${fc.parseMin} |`);
    L.push(`| chunk start-up, cold: \`dbt build --select <seed>\` without a saved parse | ${fc.coldChunk.join(', ')} | ${fc.coldChunkMin} |`);
    L.push(`| chunk start-up with the shared parse: \`dbt --partial-parse-file-path … build --select <seed>\` | ${fc.warmChunk.join(', ')} | ${fc.warmChunkMin} |`);
    if (fc.warning) L.push('', `Warning: ${fc.warning}.`);
  } else if (fc?.error) L.push('', '## Fixed costs', '', fc.error);
  const p = res.plan50k;
  if (p) {
    L.push('', `## Planning ${PLAN_NODES.toLocaleString('en')} nodes`, '');
    if (p.error) L.push(p.error);
    else L.push(`src/plan bundled with ncc, run in a child Node process on a synthetic manifest (${p.nodes} runnable nodes: 1 model : 3 tests, 20 tags × 10 layers, 1 in 3 tests with two parents; ${p.manifestMB} MB of JSON) with a timings file for every node, ${p.chunksAsked} chunks allowed, ${p.threads} thread(s) each. Best of 2: read+parse manifest ${p.readManifest} s; buildPlanGraph ${p.graph} s; timings ${p.timings} s; planChunks ${p.planChunks} s → ${p.chunks} chunk(s). Peak RSS ${p.maxRssMB} MB. \`${p.planLine}\``);
  }
  L.push('');
  return L.join('\n');
}

async function machineInfo() {
  /** @param {string} cmd @param {string[]} args */
  const ver = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { env: { ...process.env, DO_NOT_TRACK: '1' } }).toString();
    } catch (e) {
      return String(/** @type {any} */ (e).stdout ?? '');
    }
  };
  const dbtv = ver(DBT, ['--version']);
  let postgres = 'PostgreSQL';
  try {
    if (!pgServer) throw new Error('no PostgreSQL');
    const c = await pgServer.client();
    postgres = (await c.query('show server_version')).rows[0].server_version;
    postgres = `PostgreSQL ${postgres}`;
    await c.end();
  } catch { /* keep default */ }
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    if (execFileSync('git', ['status', '--porcelain', '--', 'dist'], { cwd: ROOT }).toString().trim()) commit += ' + uncommitted changes to dist/';
  } catch { /* not a checkout */ }
  return {
    cores: CORES, memoryGiB: Math.round(totalmem() / 1073741824), cpuModel: cpus()[0]?.model ?? '?', node: process.version,
    dbt: /installed:\s*([\d.]+)/.exec(dbtv)?.[1] ?? '?', dbtPostgres: /postgres:\s*([\d.]+)/.exec(dbtv)?.[1] ?? '?', postgres, commit, loadAtStart: loadavg().map((x) => round(x, 2)).join(' '),
  };
}

// ---------------------------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  mkdirSync(WORK, { recursive: true });
  if (!existsSync(DBT)) throw new Error(`${DBT} not found: run "npm run setup:dbt" first`);
  if (!existsSync(DIST_BUNDLE)) throw new Error('dist/index.js not found: run "npm run build" first');
  const all = shapes(SCALE);
  const chosen = ONLY.map((k) => all[k]);
  const budgets = chosen.map(budgetOf).filter((b) => b !== undefined);
  log(`scale ${SCALE}, shapes ${chosen.map((s) => `${s.key}${budgetOf(s) !== undefined ? ` (budget ${budgetOf(s)})` : ''}`).join(', ')}, parallel ${PARALLEL}, ${CORES} cores${REPEAT > 1 ? `, ${REPEAT} runs per variant` : ''}`);
  // The bundle of src/plan (lower bounds, planning): built while nothing is measured.
  const pl = await planLib();
  if (pl.error) log(`warning: ${pl.error}`);
  pgServer = await startPostgres({ maxConnections: Math.max(200, 4 * Math.max(8, ...budgets)) });
  /** @type {any} */
  const res = {
    date: new Date().toISOString(),
    options: { scale: SCALE, only: ONLY, budget: BUDGET_OVERRIDE ?? Object.fromEntries(chosen.map((s) => [s.key, budgetOf(s) ?? 'profile threads'])), parallel: PARALLEL, repeat: REPEAT, planNodes: PLAN_NODES, prefect: WITH_PREFECT, fixed: WITH_FIXED, plan: WITH_PLAN },
    shapes: [],
  };
  try {
    res.machine = await machineInfo();
    for (const shape of chosen) res.shapes.push(await runShape(shape));
    if (WITH_FIXED && res.shapes.some((/** @type {any} */ x) => x.kind !== 'example')) {
      const s = res.shapes.find((/** @type {any} */ x) => x.kind === 'cpu') ?? res.shapes.find((/** @type {any} */ x) => x.kind !== 'example');
      log(`fixed costs on the ${s.title} project (${s.project.nodes} nodes) …`);
      const t0 = Date.now();
      try {
        res.fixedCosts = await fixedCosts({ project: s.project.dir, info: s.project, title: s.title, threads: spending(s.budget ?? 8).actionThreads });
      } catch (e) {
        res.fixedCosts = { error: String(e) };
      }
      res.fixedCosts.seconds = Math.round((Date.now() - t0) / 1000);
    }
  } finally {
    await cleanup();
  }
  if (WITH_PLAN) {
    log(`planning ${PLAN_NODES} nodes …`);
    const t0 = Date.now();
    res.plan50k = await plan50k(spending(BUDGET_OVERRIDE ?? 8).actionThreads);
    res.plan50k.seconds = Math.round((Date.now() - t0) / 1000);
  }
  res.durationSeconds = Math.round((Date.now() - started) / 1000);
  res.targets = targetsOf(res);
  // JSON without bulky per-process details.
  const lean = JSON.parse(JSON.stringify(res, (k, v) => (k === 'procs' || k === 'resultsFiles' || k === 'single' || k === 'repeats' || (k === 'manifest' && typeof v === 'string') ? undefined : v)));
  const md = markdown(res);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'latest.md'), md);
  writeFileSync(join(OUT, 'latest.json'), `${JSON.stringify(lean, null, 2)}\n`);
  console.log(md);
  log(`wrote ${relative(ROOT, join(OUT, 'latest.md'))} and latest.json in ${res.durationSeconds} s`);
}

// The pure parts, for a check without dbt (see bench/README.md, "Checking the report code").
export { actionPhases, actionRecord, diffRelationCounts, firstNodeStartAt, parseDbtTs, median, targetsOf, markdown, parseArgs, HELP };

if (IS_MAIN) {
  main().catch(async (e) => {
    console.error(`bench: failed: ${e instanceof Error ? e.stack : e}`);
    await cleanup();
    process.exit(1);
  });
}
