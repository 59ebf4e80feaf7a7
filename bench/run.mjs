// The benchmark (`npm run bench`): generates dbt projects (bench/generate.mjs), runs each one on an embedded
// PostgreSQL with real dbt in several ways, side by side in one run, and writes one table of wall times and ratios
// to bench/results/latest.md and latest.json. See bench/README.md for the variants and the formulas.
//
//   node bench/run.mjs [--scale 1] [--only cpu,latency] [--budget 8] [--parallel 2] [--no-prefect] [--no-fixed]
//                      [--no-plan] [--plan-nodes 50000] [--out bench/results]
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProject, prng } from './generate.mjs';
import { startPostgres } from '../scripts/lib/postgres.mjs';
import { runAction, ROOT, DBT_BIN } from '../scripts/lib/action-run.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const WORK = join(BENCH, 'work');
const DBT = join(DBT_BIN, 'dbt');

// ---------------------------------------------------------------------------------------------------------------
// Options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
if (flag('--help')) {
  console.log('usage: node bench/run.mjs [--scale X] [--only cpu,latency] [--variants single,seed-style,prefect,action] [--budget B] [--parallel P] [--no-prefect] [--no-fixed] [--no-plan] [--plan-nodes N] [--out DIR]');
  process.exit(0);
}
const SCALE = Number(opt('--scale', '1'));
const ONLY = opt('--only', 'cpu,latency').split(',').map((s) => s.trim()).filter(Boolean);
const CORES = Number(execFileSync('nproc').toString().trim());
const BUDGET = Number(opt('--budget', '8'));
const PARALLEL = Number(opt('--parallel', String(CORES)));
const PLAN_NODES = Number(opt('--plan-nodes', '50000'));
const OUT = resolve(opt('--out', join(BENCH, 'results')));
const WITH_PREFECT = !flag('--no-prefect');
const WITH_FIXED = !flag('--no-fixed');
const WITH_PLAN = !flag('--no-plan');
const FIXED_REPS = 3;
const VARIANTS = opt('--variants', 'single,seed-style,prefect,action').split(',').map((x) => x.trim());
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

// The connection budget B, and how each variant spends it (dbt-postgres holds up to threads + 1 connections per
// process: one per worker thread plus the main thread's, used for schema creation, the relation cache and hooks).
const SINGLE_THREADS = BUDGET - 1;
const ACTION_THREADS = Math.max(1, Math.floor(BUDGET / PARALLEL) - 1);

/** The two shapes; --scale multiplies model and test counts (and sleeps, not below 25 %). */
function shapes(scale) {
  const n = (x) => Math.max(4, Math.round(x * scale));
  const s = (x) => Math.round(x * Math.min(1, Math.max(0.25, scale)) * 100) / 100;
  return {
    cpu: {
      title: 'CPU-bound', kind: 'cpu',
      describe: 'no sleeps, views and small tables, 4 generic tests per model',
      gen: { name: 'bench_cpu', models: n(400), testsPerModel: 4, tags: 4, skew: 0.5, crossTagRefProb: 0.15, layers: 8, tableShare: 0.2, seedRows: 10, seed: 11 },
    },
    latency: {
      title: 'Latency-bound', kind: 'latency',
      describe: `80 % of models wait ${s(1.5)} s ± 50 % (pg_sleep), a chain of 5 heavy models waits ${s(5)} s each, skewed tags`,
      gen: { name: 'bench_latency', models: n(100), testsPerModel: 1.5, tags: 4, skew: 1.2, crossTagRefProb: 0.2, layers: 6, tableShare: 0.1, seedRows: 10, seed: 7,
        sleepSeconds: { base: s(1.5), share: 0.8, jitter: 0.5, heavyCount: 5, heavySeconds: s(5) } },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Processes, CPU accounting, cleanup
const live = new Set();
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
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping dbt processes and PostgreSQL`);
    cleanup().finally(() => process.exit(130));
  });
}

/** CPU seconds of a process from /proc: [own, reaped children]. */
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

/** Runs a command with stdout+stderr to a file; resolves with exit code and wall seconds. */
function run(cmd, args, { env, cwd, log, timeoutMs = 20 * 60 * 1000 }) {
  return new Promise((res) => {
    mkdirSync(dirname(log), { recursive: true });
    const fd = openSync(log, 'w');
    const started = Date.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd] });
    live.add(child);
    let killer;
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    }, timeoutMs);
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

/** Wall, CPU (client side and PostgreSQL) and load around one measured step. */
async function measured(fn) {
  const load = loadavg()[0];
  const c0 = childrenCpu();
  const p0 = postgresCpu();
  const t0 = Date.now();
  const out = await fn();
  return { ...out, wall: out.wall ?? (Date.now() - t0) / 1000, cpuClient: round(childrenCpu() - c0), cpuPostgres: round(postgresCpu() - p0), load1: round(load, 2) };
}

const round = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** d) / 10 ** d);
const log = (msg) => console.error(`bench: ${msg}`);

// ---------------------------------------------------------------------------------------------------------------
// dbt artifacts
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** unique_id -> list of statuses (a node run by two processes appears twice). */
function statusesOf(runResultsFiles) {
  const out = new Map();
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? []) (out.get(r.unique_id) ?? out.set(r.unique_id, []).get(r.unique_id)).push({ status: String(r.status), message: r.message });
  }
  return out;
}

const OK = new Set(['success', 'pass']);
/** Compares a variant's statuses with the single process's: is it the same build? */
function compare(reference, got) {
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

/**
 * Lower bound of any schedule of the single run's nodes: max(CP, W / S) with node times from that run, where CP is
 * the longest chain (dbt's depends_on plus build's gate from a single-parent test to its model's children), W the
 * sum of execution times and S = B − 1 worker threads (the most threads any split of B connections can hold).
 * In the CPU-bound shape the threads of one process wait for each other (the GIL), so W / S is not a bound
 * there; the CPU term replaces it: (CPU seconds of dbt + PostgreSQL in the single run) / cores.
 */
function lowerBound({ runResults, manifest, kind, slots, cpuSeconds, startup }) {
  const rr = readJson(runResults);
  const m = readJson(manifest);
  if (!rr || !m) return undefined;
  const t = new Map(rr.results.filter((r) => r.status !== 'skipped').map((r) => [r.unique_id, Number(r.execution_time) || 0]));
  const nodeOf = (u) => m.nodes[u];
  const parents = new Map([...t.keys()].map((u) => [u, new Set((nodeOf(u)?.depends_on?.nodes ?? []).filter((p) => t.has(p)))]));
  const children = new Map();
  for (const [u, ps] of parents) for (const p of ps) (children.get(p) ?? children.set(p, []).get(p)).push(u);
  for (const u of t.keys()) {
    const n = nodeOf(u);
    if (n?.resource_type !== 'test') continue;
    const deps = [...new Set(n.depends_on?.nodes ?? [])];
    if (deps.length !== 1) continue;
    for (const c of children.get(deps[0]) ?? []) if (nodeOf(c)?.resource_type !== 'test' && c !== u) parents.get(c).add(u);
  }
  const finish = new Map();
  const visit = (u) => {
    if (finish.has(u)) return finish.get(u);
    finish.set(u, 0); // cycle guard (none expected)
    let start = 0;
    for (const p of parents.get(u)) start = Math.max(start, visit(p));
    finish.set(u, start + t.get(u));
    return finish.get(u);
  };
  let cp = 0;
  for (const u of t.keys()) cp = Math.max(cp, visit(u));
  const work = [...t.values()].reduce((a, b) => a + b, 0);
  const cpuTerm = cpuSeconds / CORES;
  const dag = kind === 'cpu' ? Math.max(cp, cpuTerm) : Math.max(cp, work / slots);
  return {
    criticalPath: round(cp), work: round(work), slots, workOverSlots: round(work / slots), cpuSeconds: round(cpuSeconds), cpuOverCores: round(cpuTerm),
    bound: round(dag), startup: round(startup), boundWithStartup: round(dag + startup),
    formula: kind === 'cpu' ? 'max(CP, CPU / cores)' : `max(CP, W / ${slots})`,
  };
}

/** Seconds from a process's spawn to its first node's start, from run_results timing. */
function firstNodeStart(runResultsFiles, spawnedAt) {
  let first = Infinity;
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? []) {
      for (const tm of r.timing ?? []) if (tm.started_at) first = Math.min(first, Date.parse(tm.started_at.endsWith('Z') ? tm.started_at : `${tm.started_at}Z`));
    }
  }
  return Number.isFinite(first) ? (first - spawnedAt) / 1000 : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The variants
function copyProject(src, dest) {
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !/[/\\](target|logs)([/\\]|$)/.test(p.slice(src.length)) });
  return dest;
}

function dbEnv(db) {
  return {
    ...process.env, PATH: `${DBT_BIN}:${process.env.PATH}`, DO_NOT_TRACK: '1', DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    PARALLEL_DBT_PG_HOST: pgServer.host, PARALLEL_DBT_PG_PORT: String(pgServer.port), PARALLEL_DBT_PG_USER: pgServer.user,
    PARALLEL_DBT_PG_PASSWORD: pgServer.password, PARALLEL_DBT_PG_DATABASE: db,
  };
}

async function freshDb(name) {
  return pgServer.createDatabase(name.toLowerCase().replace(/[^a-z0-9_]/g, '_'));
}

/** (1) One `dbt build --threads B-1`: what users run today. */
async function variantSingle(ctx) {
  const dir = join(ctx.dir, 'single');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb(`${ctx.key}_single`));
  const r = await measured(async () => {
    const p = await run(DBT, ['build', '--project-dir', proj, '--profiles-dir', proj, '--threads', String(SINGLE_THREADS)], { env, cwd: proj, log: join(dir, 'dbt.log') });
    return { ...p, wall: p.seconds };
  });
  const results = join(proj, 'target', 'run_results.json');
  return {
    name: 'one dbt process', id: 'single', budget: `1 × (${SINGLE_THREADS} + 1) = ${SINGLE_THREADS + 1}`, ...r,
    exit: r.code, resultsFiles: [results], manifest: join(proj, 'target', 'manifest.json'), startup: firstNodeStart([results], r.startedAt),
  };
}

/** (2) Seed-style: one `dbt build --select tag:X` per tag, all at once, no ordering between them. */
async function variantSeedStyle(ctx) {
  const dir = join(ctx.dir, 'seed-style');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb(`${ctx.key}_seedstyle`));
  const tags = ctx.info.tags.map((t) => t.name);
  const threads = Math.max(1, Math.floor(BUDGET / tags.length) - 1);
  const r = await measured(async () => {
    const procs = await Promise.all(tags.map((tag) => run(DBT, ['build', '--project-dir', proj, '--profiles-dir', proj, '--threads', String(threads), '--select', `tag:${tag}`,
      '--target-path', `target-${tag}`, '--log-path', join(dir, `logs-${tag}`)], { env, cwd: proj, log: join(dir, `dbt-${tag}.log`) })));
    return { procs, wall: Math.max(...procs.map((p) => p.seconds)) };
  });
  return {
    name: 'seed-style: one process per tag', id: 'seed-style', budget: `${tags.length} × (${threads} + 1) = ${tags.length * (threads + 1)}`, ...r,
    exit: Math.max(...r.procs.map((p) => p.code ?? 99)),
    perTag: Object.fromEntries(tags.map((t, i) => [t, round(r.procs[i].seconds)])),
    resultsFiles: tags.map((t) => join(proj, `target-${t}`, 'run_results.json')),
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

async function variantPrefect(ctx) {
  const name = 'prefect-dbt orchestrator, PER_WAVE';
  const budget = `1 × (${SINGLE_THREADS} + 1) = ${SINGLE_THREADS + 1}`;
  const st = await ensurePrefect();
  if (!st.ok) return { name, id: 'prefect', budget, unavailable: st.reason };
  const dir = join(ctx.dir, 'prefect');
  writeFileSync(join(WORK, 'prefect_per_wave.py'), PREFECT_SCRIPT);
  const attempts = [];
  // IMMEDIATE (tests gate their children, as dbt build) is the default; if it refuses the project, DEFERRED
  // (every test after every model) is measured instead and the table says so.
  for (const strategy of ['IMMEDIATE', 'DEFERRED']) {
    const proj = copyProject(ctx.project, join(dir, `project-${strategy.toLowerCase()}`));
    const env = { ...dbEnv(await freshDb(`${ctx.key}_prefect_${strategy}`)), PREFECT_HOME: join(WORK, 'prefect-home'), PREFECT_SERVER_ANALYTICS_ENABLED: 'false' };
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

/** Splits the action's stdout (with arrival times) into the phases the lead cares about. */
function actionPhases(lines, exitAt) {
  const at = (re) => lines.find((l) => re.test(l.text))?.t;
  const phases = {};
  phases.parsed = at(/parsed and selected in/);
  phases.planned = at(/^Plan: /);
  phases.schemasStart = at(/^Creating \d+ schema/);
  const starts = lines.filter((l) => /^▶ /.test(l.text));
  const ends = lines.filter((l) => /^■ /.test(l.text));
  phases.firstChunkStart = starts[0]?.t;
  phases.lastChunkEnd = ends.length ? ends[ends.length - 1].t : undefined;
  phases.exit = exitAt;
  const planLine = lines.find((l) => /^Plan: /.test(l.text))?.text;
  const chunkLines = [];
  if (planLine) {
    const i = lines.findIndex((l) => l.text === planLine);
    for (let j = i + 1; j < lines.length && /^\s+\d+\. /.test(lines[j].text); j++) chunkLines.push(lines[j].text.trim());
  }
  const chunks = starts.map((s) => {
    const name = /^▶ ([^:]+):/.exec(s.text)?.[1];
    const mine = (re) => lines.find((l) => l.t >= s.t && l.text.startsWith(`[${name}] `) && re.test(l.text.slice(name.length + 3)))?.t;
    const running = mine(/^Running with dbt=/);
    const found = mine(/^Found \d+/);
    const concurrency = mine(/^Concurrency: /);
    const firstNode = mine(/^\d+ of \d+ START /);
    const finished = mine(/^Finished running /);
    const end = ends.find((e) => e.text.startsWith(`■ ${name}:`))?.t;
    const nodes = /: (\d+) node/.exec(s.text)?.[1];
    const gap = (a, b) => (a !== undefined && b !== undefined ? round(b - a, 2) : undefined);
    return {
      name, nodes: Number(nodes), start: round(s.t, 2), end: round(end, 2), startupToFirstNode: gap(s.t, firstNode),
      // spawn → banner (Python imports), banner → "Found" (reading the shared parse, writing manifest.json),
      // "Found" → "Concurrency" (resolving the --select list, linking the graph), → first node (relation cache),
      // "Finished running" → exit (manifest.json and run_results.json writes)
      steps: { imports: gap(s.t, running), loadParse: gap(running, found), selection: gap(found, concurrency), cache: gap(concurrency, firstNode), nodes: gap(firstNode, finished), exit: gap(finished, end) },
    };
  });
  const busy = chunks.reduce((a, c) => a + ((c.end ?? 0) - (c.start ?? 0)), 0);
  const span = phases.lastChunkEnd !== undefined && phases.firstChunkStart !== undefined ? phases.lastChunkEnd - phases.firstChunkStart : undefined;
  const m = planLine ? /predicted makespan ([\d.]+) s, lower bound ([\d.]+) s \(critical path ([\d.]+) s, work ([\d.]+) s over (\d+) slot/.exec(planLine) : null;
  const pre = phases.firstChunkStart;
  const post = phases.lastChunkEnd !== undefined ? exitAt - phases.lastChunkEnd : undefined;
  return {
    plan: planLine, chunkPlan: chunkLines,
    predicted: m ? { makespan: Number(m[1]), lowerBound: Number(m[2]), criticalPath: Number(m[3]), work: Number(m[4]), slots: Number(m[5]) } : undefined,
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v, 2)])),
    breakdown: {
      startToParsed: round(phases.parsed, 2),
      parsedToPlan: round(phases.planned - phases.parsed, 2),
      schemaCreation: phases.schemasStart !== undefined ? round(phases.firstChunkStart - phases.schemasStart, 2) : undefined,
      planToFirstChunk: round(phases.firstChunkStart - phases.planned, 2),
      chunksRunning: round(phases.lastChunkEnd - phases.firstChunkStart, 2),
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

/** (4) The action: the committed bundle, as the runner runs it. */
async function variantAction(ctx, { timings }) {
  const id = timings ? 'action-timings' : 'action';
  const dir = join(ctx.dir, id);
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb(`${ctx.key}_${id.replace('-', '_')}`));
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  // No threads input: under max-connections the action compares k processes × (⌊B/k⌋ − 1) threads for k ≤ parallel.
  const inputs = { command: 'build', 'project-dir': proj, 'profiles-dir': proj, parallel: String(PARALLEL), 'max-connections': String(BUDGET), 'work-dir': join(dir, 'work') };
  if (timings) inputs.timings = timings;
  const lines = [];
  let buf = '';
  let t0;
  const r = await measured(async () => {
    t0 = Date.now();
    const res = await runAction(inputs, {
      env, cwd: proj, runnerTemp,
      onStdout: (s) => {
        const t = (Date.now() - t0) / 1000;
        buf += s;
        const parts = buf.split('\n');
        buf = parts.pop();
        for (const text of parts) lines.push({ t, text });
      },
    });
    if (buf) lines.push({ t: (Date.now() - t0) / 1000, text: buf });
    return { res, wall: res.seconds };
  });
  writeFileSync(join(dir, 'action.log'), lines.map((l) => `${l.t.toFixed(2).padStart(8)}  ${l.text}`).join('\n') + '\n');
  if (r.res.stderr) writeFileSync(join(dir, 'action.stderr.log'), r.res.stderr);
  if (r.res.runnerTemp && !r.res.runnerTemp.startsWith(WORK)) rmSync(r.res.runnerTemp, { recursive: true, force: true });
  const results = r.res.outputs.results;
  const phases = actionPhases(lines, r.res.seconds);
  const { res, ...rest } = r;
  // The shape the action chose: "using P process(es) × T thread(s)", else "Processes at once: P; threads per process: T".
  const chosen = lines.map((l) => /using (\d+) process\(es\) × (\d+) thread/.exec(l.text) ?? /Processes at once: (\d+); threads per process: (\d+)/.exec(l.text)).filter(Boolean).pop();
  const [P, T] = chosen ? [Number(chosen[1]), Number(chosen[2])] : [PARALLEL, ACTION_THREADS];
  return {
    name: timings ? 'parallel-dbt, auto chunks, with timings' : 'parallel-dbt, auto chunks, no timings', id,
    budget: `${P} × (${T} + 1) = ${P * (T + 1)}`, ...rest, exit: res.code,
    resultsFiles: results ? [results] : [], timings, action: phases,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed costs: a cold parse, and a chunk's start-up with and without the shared parse (one trivial node).
async function fixedCosts(ctx) {
  const dir = join(WORK, 'fixed');
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = dbEnv(await freshDb('fixed_costs'));
  const seedName = `raw_${ctx.info.tags[0].name}`;
  const chunkFlags = ['--no-use-colors', '--no-send-anonymous-usage-stats', '--log-format', 'json', '--log-format-file', 'debug', '--log-level-file', 'debug'];
  const build = (target, extra = []) => [...chunkFlags, ...extra, 'build', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target, '--log-path', join(dir, 'logs', relative(dir, target)),
    '--threads', String(ACTION_THREADS), '--indirect-selection', 'empty', '--select', seedName];
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
function synthManifest(nodes, seed) {
  const rng = prng(seed);
  const models = Math.round(nodes / 4);
  const tests = nodes - models;
  const tags = 20;
  const layers = 10;
  const ids = [];
  const byLayerTag = new Map(); // `${layer}/${tag}` -> model ids
  const cands = (l, t) => byLayerTag.get(`${l}/${t}`) ?? [];
  const manifest = { metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', dbt_version: '1.11.16' }, nodes: {}, sources: {}, unit_tests: {} };
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

const PLAN_CHILD = String.raw`
import { readFileSync } from 'node:fs';
const [bundle, manifestPath, timingsPath, parallel, threads] = process.argv.slice(2);
const mem = () => Math.round(process.memoryUsage().rss / 1048576);
const out = { rssStartMB: mem() };
const t = [performance.now()];
const lib = await import(bundle);
t.push(performance.now());
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
t.push(performance.now());
out.rssAfterManifestMB = mem();
const ids = Object.keys(manifest.nodes);
const selected = lib.runnableSelected(manifest, ids);
const graph = lib.buildPlanGraph(manifest, selected, 'build');
t.push(performance.now());
out.rssAfterGraphMB = mem();
const timings = lib.readTimings([timingsPath], '/');
const w = lib.weigher(timings, (u) => graph.nodes.get(u)?.resourceType ?? u.split('.')[0]);
for (const u of graph.nodes.keys()) w.weight(u);
t.push(performance.now());
const plan = lib.planChunks(graph, w.weight, { maxChunks: Number(parallel), threads: Number(threads), fixedCost: 10, perNodeCost: 0.05 });
const text = lib.renderPlan(plan, Number(parallel));
t.push(performance.now());
const s = (a, b) => Math.round(t[b] - t[a]) / 1000;
Object.assign(out, { nodes: graph.nodes.size, chunks: plan.chunks.length, readManifest: s(1, 2), graph: s(2, 3), timings: s(3, 4), planChunks: s(4, 5), planning: s(2, 5), total: s(1, 5),
  rssEndMB: mem(), heapUsedEndMB: Math.round(process.memoryUsage().heapUsed / 1048576), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), planLine: text.split('\n')[0] });
console.log('BENCH_RESULT ' + JSON.stringify(out));
`;

async function plan50k() {
  const dir = join(WORK, 'plan50k');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'plan-entry.ts');
  const rel = (p) => relative(dir, join(ROOT, p)).replace(/\\/g, '/');
  writeFileSync(entry, [
    `export { buildPlanGraph } from '${rel('src/plan/graph.js')}';`,
    `export { planChunks } from '${rel('src/plan/chunks.js')}';`,
    `export { readTimings, weigher } from '${rel('src/plan/timings.js')}';`,
    `export { renderPlan } from '${rel('src/plan/describe.js')}';`,
    `export { runnableSelected } from '${rel('src/plan/nodes.js')}';`,
  ].join('\n') + '\n');
  const bundleDir = join(dir, 'bundle');
  rmSync(bundleDir, { recursive: true, force: true });
  const b = await run(join(ROOT, 'node_modules', '.bin', 'ncc'), ['build', entry, '-o', bundleDir, '--quiet'], { env: process.env, cwd: ROOT, log: join(dir, 'ncc.log'), timeoutMs: 180000 });
  if (b.code !== 0) return { error: `ncc could not bundle src/plan: ${readFileSync(join(dir, 'ncc.log'), 'utf8').trim().split('\n').slice(-3).join(' ')}` };
  const { manifest, runResults } = synthManifest(PLAN_NODES, 5);
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  writeFileSync(join(dir, 'run_results.json'), JSON.stringify(runResults));
  const childPath = join(dir, 'child.mjs');
  writeFileSync(childPath, PLAN_CHILD);
  const manifestMB = round(readFileSync(manifestPath).length / 1048576);
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const p = await run(process.execPath, [childPath, join(bundleDir, 'index.js'), manifestPath, join(dir, 'run_results.json'), String(Math.max(PARALLEL, 4)), String(ACTION_THREADS)],
      { env: process.env, cwd: dir, log: join(dir, `child-${i}.log`), timeoutMs: 180000 });
    const line = readFileSync(join(dir, `child-${i}.log`), 'utf8').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (!line) return { error: `planner child exited ${p.code ?? p.signal} after ${round(p.seconds)} s without a result (see bench/work/plan50k/child-${i}.log)`, manifestMB };
    runs.push(JSON.parse(line.slice('BENCH_RESULT '.length)));
  }
  const best = runs.reduce((a, b) => (b.planning < a.planning ? b : a));
  rmSync(manifestPath, { force: true });
  return { ...best, manifestMB, runs: runs.map((r) => ({ planning: r.planning, total: r.total, maxRssMB: r.maxRssMB })), maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)), chunksAsked: Math.max(PARALLEL, 4) };
}

// ---------------------------------------------------------------------------------------------------------------
// One shape: generate, then every variant on a fresh database.
async function runShape(key, shape) {
  const dir = join(WORK, key);
  rmSync(dir, { recursive: true, force: true });
  const info = generateProject(join(dir, 'generated'), shape.gen);
  log(`${shape.title}: ${info.models} models, ${info.tests} tests, ${info.seeds} seeds = ${info.nodes} nodes; tags ${info.tags.map((t) => `${t.name} ${t.models}`).join(', ')}`);
  const ctx = { key, dir, project: info.dir, info, title: shape.title };
  const variants = [];
  const step = async (label, fn) => {
    log(`${shape.title}: ${label} …`);
    try {
      const v = await fn();
      variants.push(v);
      log(`${shape.title}: ${label}: ${v.unavailable ? `not available (${v.unavailable})` : `${round(v.wall)} s, exit ${v.exit}`}`);
      return v;
    } catch (e) {
      const v = { name: label, id: label, error: e instanceof Error ? e.message : String(e) };
      variants.push(v);
      log(`${shape.title}: ${label} failed: ${v.error}`);
      return v;
    }
  };
  const single = await step('one dbt process', () => variantSingle(ctx));
  if (VARIANTS.includes('seed-style')) await step('seed-style', () => variantSeedStyle(ctx));
  if (WITH_PREFECT && VARIANTS.includes('prefect')) await step('prefect-dbt PER_WAVE', () => variantPrefect(ctx));
  if (!VARIANTS.includes('action')) return finishShape(key, shape, info, variants, single);
  const first = await step('action without timings', () => variantAction(ctx, { timings: undefined }));
  let timingsFile;
  if (first.resultsFiles?.[0] && existsSync(first.resultsFiles[0])) {
    timingsFile = join(dir, 'previous-run_results.json');
    cpSync(first.resultsFiles[0], timingsFile);
  }
  await step('action with timings', () => variantAction(ctx, { timings: timingsFile ?? join(dir, 'missing-run_results.json') }));
  return finishShape(key, shape, info, variants, single);
}

function finishShape(key, shape, info, variants, single) {
  // Correctness against the single process, and the lower bound from its timings.
  const reference = single.resultsFiles ? statusesOf(single.resultsFiles) : new Map();
  for (const v of variants) {
    if (v.unavailable || v.error || v.id === 'single') continue;
    v.check = compare(reference, statusesOf(v.resultsFiles ?? []));
  }
  if (single.resultsFiles) {
    const okCount = [...reference.values()].filter((s) => OK.has(s[0].status)).length;
    single.check = { correct: okCount === reference.size, text: okCount === reference.size ? `all ${okCount} nodes passed` : `${reference.size - okCount} of ${reference.size} not passed` };
  }
  const lb = single.resultsFiles ? lowerBound({
    runResults: single.resultsFiles[0], manifest: single.manifest, kind: shape.kind, slots: BUDGET - 1,
    cpuSeconds: (single.cpuClient ?? 0) + (single.cpuPostgres ?? 0), startup: single.startup ?? 0,
  }) : undefined;
  return { key, title: shape.title, kind: shape.kind, describe: shape.describe, project: info, variants, lowerBound: lb, single };
}

// ---------------------------------------------------------------------------------------------------------------
// Report
function targetsOf(res) {
  const t = [];
  const pass = (ok) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');
  const byId = (shape, id) => shape?.variants.find((v) => v.id === id && !v.unavailable && !v.error);
  const cpu = res.shapes.find((s) => s.kind === 'cpu');
  if (cpu) {
    const single = byId(cpu, 'single');
    for (const id of ['action', 'action-timings']) {
      const a = byId(cpu, id);
      if (!single || !a) continue;
      const ratio = single.wall / a.wall;
      t.push({ target: `CPU-bound: wall(one dbt, ${SINGLE_THREADS} threads) / wall(action${id === 'action-timings' ? ' + timings' : ''}, same budget) ≥ 0.8 × ${CORES} cores = ${round(0.8 * CORES, 2)}`,
        measured: `${round(single.wall)} / ${round(a.wall)} = ${round(ratio, 2)}`, result: pass(ratio >= 0.8 * CORES) });
    }
  }
  const lat = res.shapes.find((s) => s.kind === 'latency');
  if (lat) {
    const single = byId(lat, 'single');
    for (const id of ['action', 'action-timings']) {
      const a = byId(lat, id);
      if (!a) continue;
      const name = `action${id === 'action-timings' ? ' + timings' : ''}`;
      if (lat.lowerBound) {
        t.push({ target: `Latency-bound: ${name} ≤ 1.10 × lower bound (${lat.lowerBound.formula})`, measured: `${round(a.wall)} s vs 1.10 × ${lat.lowerBound.bound} = ${round(1.1 * lat.lowerBound.bound)} s (${round(a.wall / lat.lowerBound.bound, 2)}×)`, result: pass(a.wall <= 1.1 * lat.lowerBound.bound) });
        t.push({ target: `Latency-bound: ${name} ≤ 1.10 × (lower bound + one cold dbt start-up)`, measured: `${round(a.wall)} s vs 1.10 × ${lat.lowerBound.boundWithStartup} = ${round(1.1 * lat.lowerBound.boundWithStartup)} s (${round(a.wall / lat.lowerBound.boundWithStartup, 2)}×)`, result: pass(a.wall <= 1.1 * lat.lowerBound.boundWithStartup) });
      }
      if (single) t.push({ target: `Latency-bound: ${name} ≤ 1.05 × one dbt (same budget ${BUDGET})`, measured: `${round(a.wall)} s vs ${round(single.wall)} s (${round(a.wall / single.wall, 2)}×)`, result: pass(a.wall <= 1.05 * single.wall) });
    }
  }
  const fc = res.fixedCosts;
  for (const s of res.shapes) {
    for (const id of ['action', 'action-timings']) {
      const a = byId(s, id);
      if (!a?.action?.fixedCost || !fc?.parseMin || s.kind !== 'cpu') continue;
      t.push({ target: `Fixed cost of the action (${s.title}, ${id === 'action' ? 'no timings' : 'timings'}) ≤ one cold dbt parse + 1 s`, measured: `${a.action.fixedCost} s vs ${fc.parseMin} + 1 = ${round(fc.parseMin + 1, 2)} s`, result: pass(a.action.fixedCost <= fc.parseMin + 1) });
    }
  }
  if (fc?.warmChunkMin) t.push({ target: `Chunk start-up with the shared parse ≤ 40 % of a cold full parse (${fc.project}; one-node chunk)`, measured: `${fc.warmChunkMin} s vs 0.4 × ${fc.parseMin} = ${round(0.4 * fc.parseMin, 2)} s (${Math.round(fc.ratio * 100)} %)`, result: pass(fc.ratio <= 0.4) });
  const cpuShape = res.shapes.find((x) => x.kind === 'cpu');
  const inAction = (cpuShape?.variants ?? []).flatMap((v) => v.action?.chunks ?? []).map((c) => c.startupToFirstNode).filter((x) => x !== undefined).sort((a, b) => a - b);
  if (fc?.parseMin && inAction.length) {
    const med = inAction[Math.floor((inAction.length - 1) / 2)];
    t.push({ target: `Chunk start-up inside the action's ${cpuShape.title} runs ≤ 40 % of a cold full parse (spawn → first node START, median of ${inAction.length} chunks, one selector per node)`, measured: `${med} s vs 0.4 × ${fc.parseMin} = ${round(0.4 * fc.parseMin, 2)} s (${Math.round((med / fc.parseMin) * 100)} %)`, result: pass(med <= 0.4 * fc.parseMin) });
  }
  const p = res.plan50k;
  if (p && !p.error) {
    t.push({ target: `Planning a ${PLAN_NODES.toLocaleString('en')}-node manifest < 2 s`, measured: `${p.planning} s (graph ${p.graph} + timings ${p.timings} + chunks ${p.planChunks}); reading the ${p.manifestMB} MB manifest ${p.readManifest} s more`, result: pass(p.planning < 2) });
    t.push({ target: `Planning a ${PLAN_NODES.toLocaleString('en')}-node manifest < 300 MB RSS`, measured: `peak ${p.maxRssMB} MB: Node alone ${p.rssStartMB} MB, + the parsed ${p.manifestMB} MB manifest → ${p.rssAfterManifestMB} MB, + buildPlanGraph → ${p.rssAfterGraphMB} MB, + planChunks → peak (the planner's own share: ${p.maxRssMB - p.rssAfterManifestMB} MB)`, result: pass(p.maxRssMB < 300) });
  } else if (p?.error) t.push({ target: `Planning a ${PLAN_NODES}-node manifest`, measured: p.error, result: 'MISS' });
  return t;
}

function markdown(res) {
  const L = [];
  const m = res.machine;
  L.push(`# parallel-dbt benchmark — ${res.date}`, '');
  L.push(`Machine: ${m.cores} cores (nproc), ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; dbt-core ${m.dbt}, dbt-postgres ${m.dbtPostgres}; ${m.postgres}; load average at start ${m.loadAtStart}. Scale ${res.options.scale}; run took ${res.durationSeconds} s.`);
  L.push(`Budget B = ${BUDGET} connections (dbt-postgres holds ≤ threads + 1 per process): one dbt = 1 × (${SINGLE_THREADS} + 1); the action = parallel ${PARALLEL} (= cores), max-connections ${BUDGET}, no threads input, so it picks k × (⌊${BUDGET}/k⌋ − 1) for k ≤ ${PARALLEL} by its predicted makespan (the chosen shape is in each row); seed-style = tags × (threads + 1). Every variant starts from a fresh copy of the project (no target/, so a cold parse) and a fresh database.`, '');
  L.push('| Shape | Variant | Processes × (threads + 1) | Wall (s) | One dbt ÷ variant | Variant ÷ lower bound | CPU s (dbt + PostgreSQL) | Same result as one dbt? |');
  L.push('|---|---|---|---:|---:|---:|---:|---|');
  for (const s of res.shapes) {
    const single = s.variants.find((v) => v.id === 'single' && v.wall);
    for (const v of s.variants) {
      if (v.unavailable || v.error) {
        L.push(`| ${s.title} | ${v.name} | ${v.budget ?? ''} | – | – | – | – | not available: ${(v.unavailable ?? v.error).replace(/\|/g, '/')} |`);
        continue;
      }
      const ratio = single ? round(single.wall / v.wall, 2) : '–';
      const lbr = s.lowerBound ? round(v.wall / s.lowerBound.bound, 2) : '–';
      L.push(`| ${s.title} | ${v.name} | ${v.budget} | ${round(v.wall)} | ${ratio} | ${lbr} | ${round(v.cpuClient)} + ${round(v.cpuPostgres)} | ${(v.check?.text ?? '').replace(/\|/g, '/')} |`);
    }
    if (s.lowerBound) {
      const b = s.lowerBound;
      L.push(`| ${s.title} | lower bound ${b.formula} | – | ${b.bound} | ${single ? round(single.wall / b.bound, 2) : '–'} | 1 | – | CP ${b.criticalPath} s, W ${b.work} s, W/${b.slots} ${b.workOverSlots} s, CPU/${CORES} ${b.cpuOverCores} s |`);
    }
  }
  L.push('', `Lower bound: from the one-dbt run's run_results.json and manifest.json. CP = longest chain of execution_time over depends_on plus dbt build's gate from a single-parent test to its model's children; W = Σ execution_time; S = B − 1 = ${BUDGET - 1} worker threads (no split of B connections holds more). Latency-bound: max(CP, W / S). CPU-bound: threads of one process wait for each other (GIL), so execution_time is inflated and W / S is no bound; the bound is max(CP, CPU seconds of dbt + PostgreSQL in the one-dbt run / ${CORES} cores). "+ one cold dbt start-up" adds the one-dbt run's spawn-to-first-node time (every variant parses cold once before its first node).`, '');
  for (const s of res.shapes) {
    const p = s.project;
    L.push(`**${s.title}** project: ${p.models} models (${p.tables} tables, ${p.sleepingModels} sleeping, ${p.sleepSecondsTotal} s of sleep${p.heavyModels.length ? `, heavy chain ${p.heavyModels.map((h) => `${h.seconds} s`).join(' → ')}` : ''}), ${p.tests} tests, ${p.seeds} seeds = ${p.nodes} nodes; tags ${p.tags.map((t) => `${t.name} ${t.models}`).join(' / ')}; ${p.crossTagRefs} cross-tag refs, ${p.crossTagTests} cross-tag relationships tests. ${s.describe}.`);
    for (const v of s.variants) {
      const notes = [...(v.notes ?? [])];
      if (v.perTag) notes.push(`per tag: ${Object.entries(v.perTag).map(([k, x]) => `${k} ${x} s`).join(', ')}`);
      if (v.check?.example) notes.push(`e.g. ${v.check.example}`);
      if (v.load1 !== undefined) notes.push(`load ${v.load1} at start`);
      if (notes.length) L.push(`- ${v.name}: ${notes.join('; ').replace(/\n/g, ' ')}`);
    }
    L.push('');
  }
  L.push('## Targets', '', '| Target | Measured | Result |', '|---|---|---|');
  for (const t of res.targets) L.push(`| ${t.target} | ${t.measured} | ${t.result} |`);
  L.push('');
  L.push('## Where the action spends its time (from its log, seconds after start)', '');
  L.push('| Shape | Run | dbt ls (cold parse + select) | manifest → plan | schema creation | chunks running | chunks at once (avg) | merge + report | fixed cost | plan\'s predicted makespan |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((x) => x.action)) {
      const a = v.action;
      const b = a.breakdown;
      L.push(`| ${s.title} | ${v.id === 'action' ? 'no timings' : 'timings'} | ${b.startToParsed ?? '–'} | ${b.parsedToPlan ?? '–'} | ${b.schemaCreation ?? '–'} | ${b.chunksRunning ?? '–'} | ${a.concurrency ?? '–'} | ${b.mergeAndReport ?? '–'} | ${a.fixedCost ?? '–'} | ${a.predicted?.makespan ?? '–'} |`);
    }
  }
  L.push('', 'Each chunk (seconds after the action started; steps from the chunk\'s own dbt log lines): Python imports (spawn → banner), loading the shared parse (→ "Found …"), resolving the chunk\'s --select list and linking the graph (→ "Concurrency"), relation cache (→ first node START), running nodes, writing artifacts and exiting.', '');
  L.push('| Shape | Run | Chunk | Nodes | Start | End | Imports | Load parse | Selection | Cache | Nodes | Exit | Start-up to first node |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((x) => x.action)) {
      for (const c of v.action.chunks) {
        const st = c.steps;
        L.push(`| ${s.title} | ${v.id === 'action' ? 'no timings' : 'timings'} | ${c.name} | ${c.nodes} | ${c.start} | ${c.end ?? '–'} | ${st.imports ?? '–'} | ${st.loadParse ?? '–'} | ${st.selection ?? '–'} | ${st.cache ?? '–'} | ${st.nodes ?? '–'} | ${st.exit ?? '–'} | ${c.startupToFirstNode ?? '–'} |`);
      }
    }
  }
  L.push('');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((x) => x.action?.plan)) L.push(`- ${s.title}, ${v.id === 'action' ? 'no timings' : 'timings'}: \`${v.action.plan}\`${v.action.chunkPlan.length ? ` — ${v.action.chunkPlan.join('; ')}` : ''}${v.action.timingsLine ? ` — ${v.action.timingsLine}` : ''}`);
  }
  const fc = res.fixedCosts;
  if (fc) {
    L.push('', '## Fixed costs', '');
    L.push(`On the ${fc.project}, one trivial node (a seed) built with the action's chunk flags; ${FIXED_REPS} repetitions, the minimum counts (the machine is shared).`, '');
    L.push('| Measure | Runs (s) | Min (s) |', '|---|---|---:|');
    L.push(`| \`dbt parse\`, cold (no target/) | ${fc.parse.join(', ')} | ${fc.parseMin} |`);
    L.push(`| chunk start-up, cold: \`dbt build --select <seed>\` without a saved parse | ${fc.coldChunk.join(', ')} | ${fc.coldChunkMin} |`);
    L.push(`| chunk start-up with the shared parse: \`dbt --partial-parse-file-path … build --select <seed>\` | ${fc.warmChunk.join(', ')} | ${fc.warmChunkMin} |`);
    if (fc.warning) L.push('', `Warning: ${fc.warning}.`);
  }
  const p = res.plan50k;
  if (p) {
    L.push('', `## Planning ${PLAN_NODES.toLocaleString('en')} nodes`, '');
    if (p.error) L.push(p.error);
    else L.push(`src/plan bundled with ncc, run in a child Node process on a synthetic manifest (${p.nodes} runnable nodes: 1 model : 3 tests, 20 tags × 10 layers, 1 in 3 tests with two parents; ${p.manifestMB} MB of JSON) with a timings file for every node, ${p.chunksAsked} chunks allowed. Best of 2: read+parse manifest ${p.readManifest} s; buildPlanGraph ${p.graph} s; timings ${p.timings} s; planChunks ${p.planChunks} s → ${p.chunks} chunk(s). Peak RSS ${p.maxRssMB} MB. \`${p.planLine}\``);
  }
  L.push('');
  return L.join('\n');
}

async function machineInfo() {
  const ver = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { env: { ...process.env, DO_NOT_TRACK: '1' } }).toString();
    } catch (e) {
      return String(e.stdout ?? '');
    }
  };
  const dbtv = ver(DBT, ['--version']);
  let postgres = 'PostgreSQL';
  try {
    const c = await pgServer.client();
    postgres = (await c.query('show server_version')).rows[0].server_version;
    postgres = `PostgreSQL ${postgres}`;
    await c.end();
  } catch { /* keep default */ }
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
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
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js not found: run "npm run build" first');
  log(`scale ${SCALE}, shapes ${ONLY.join(', ')}, budget ${BUDGET}, parallel ${PARALLEL}, ${CORES} cores`);
  pgServer = await startPostgres({ maxConnections: Math.max(200, BUDGET * 4) });
  const res = { date: new Date().toISOString(), options: { scale: SCALE, only: ONLY, budget: BUDGET, parallel: PARALLEL, singleThreads: SINGLE_THREADS, actionThreads: ACTION_THREADS, planNodes: PLAN_NODES }, shapes: [] };
  try {
    res.machine = await machineInfo();
    const all = shapes(SCALE);
    for (const key of ONLY) {
      if (!all[key]) throw new Error(`--only: unknown shape '${key}' (cpu, latency)`);
      res.shapes.push(await runShape(key, all[key]));
    }
    if (WITH_FIXED && res.shapes.length) {
      const s = res.shapes.find((x) => x.kind === 'cpu') ?? res.shapes[0];
      log(`fixed costs on the ${s.title} project (${s.project.nodes} nodes) …`);
      try {
        res.fixedCosts = await fixedCosts({ project: s.project.dir, info: s.project, title: s.title });
      } catch (e) {
        res.fixedCosts = { error: String(e) };
      }
    }
  } finally {
    await cleanup();
  }
  if (WITH_PLAN) {
    log(`planning ${PLAN_NODES} nodes …`);
    res.plan50k = await plan50k();
  }
  res.durationSeconds = Math.round((Date.now() - started) / 1000);
  res.targets = targetsOf(res);
  // JSON without bulky per-process details.
  const lean = JSON.parse(JSON.stringify(res, (k, v) => (k === 'procs' || k === 'resultsFiles' || k === 'manifest' && typeof v === 'string' ? undefined : v)));
  const md = markdown(res);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'latest.md'), md);
  writeFileSync(join(OUT, 'latest.json'), `${JSON.stringify(lean, null, 2)}\n`);
  console.log(md);
  log(`wrote ${relative(ROOT, join(OUT, 'latest.md'))} and latest.json in ${res.durationSeconds} s`);
}

main().catch(async (e) => {
  console.error(`bench: failed: ${e instanceof Error ? e.stack : e}`);
  await cleanup();
  process.exit(1);
});
