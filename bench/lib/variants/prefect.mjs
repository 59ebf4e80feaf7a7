// (3) prefect-dbt's orchestrator, PER_WAVE (prefect_per_wave.py): one in-process `dbt build` per topological wave,
// waves in sequence. Installed from PyPI into bench/work/prefect-venv on first use, with the same pinned dbt.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measured } from '../accounting.mjs';
import { ROOT, WORK } from '../paths.mjs';
import { run } from '../processes.mjs';
import { copyProject, log, round } from '../util.mjs';
import { dbName, runDir } from './context.mjs';

/** @typedef {import('./context.mjs').Ctx} Ctx */

const PREFECT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'prefect_per_wave.py');
const PREFECT_VENV = join(WORK, 'prefect-venv');
/** @type {{ ok: true, py: string } | { ok: false, reason: string } | undefined} */
let prefectState; // { ok: true } or { ok: false, reason }
async function ensurePrefect() {
  if (prefectState) return prefectState;
  const py = join(PREFECT_VENV, 'bin', 'python');
  const stamp = join(PREFECT_VENV, '.bench-ok');
  if (!existsSync(stamp)) {
    log(
      'installing prefect-dbt into bench/work/prefect-venv (separate from .dbt-venv; dbt pinned to the same versions)',
    );
    rmSync(PREFECT_VENV, { recursive: true, force: true });
    const mk = await run('python3', ['-m', 'venv', PREFECT_VENV], {
      env: process.env,
      cwd: WORK,
      log: join(WORK, 'prefect-install.log'),
      timeoutMs: 120000,
    });
    const pins = readFileSync(join(ROOT, 'scripts', 'dbt-requirements.txt'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const inst =
      mk.code === 0
        ? await run(
            join(PREFECT_VENV, 'bin', 'pip'),
            ['install', '--disable-pip-version-check', '--quiet', 'prefect-dbt', ...pins],
            { env: process.env, cwd: WORK, log: join(WORK, 'prefect-install.log'), timeoutMs: 8 * 60 * 1000 },
          )
        : mk;
    if (inst.code !== 0) {
      const tail = readFileSync(join(WORK, 'prefect-install.log'), 'utf8').trim().split('\n').slice(-2).join(' ');
      prefectState = {
        ok: false,
        reason: `pip install prefect-dbt failed (exit ${inst.code ?? inst.signal}): ${tail.slice(0, 200)}`,
      };
      return prefectState;
    }
    writeFileSync(stamp, new Date().toISOString());
  }
  prefectState = existsSync(py) ? { ok: true, py } : { ok: false, reason: 'no python in the prefect venv' };
  return prefectState;
}

/** @param {Ctx} ctx */
export async function variantPrefect(ctx) {
  const name = 'prefect-dbt orchestrator, PER_WAVE';
  const SINGLE_THREADS = ctx.singleThreads;
  const budget = `1 × (${SINGLE_THREADS} + 1) = ${SINGLE_THREADS + 1}`;
  const st = await ensurePrefect();
  if (!st.ok) return { name, id: 'prefect', budget, unavailable: st.reason };
  const dir = runDir(ctx, 'prefect');
  const attempts = [];
  // IMMEDIATE (tests gate their children, as dbt build) is the default; if it refuses the project, DEFERRED
  // (every test after every model) is measured instead and the table says so.
  for (const strategy of ['IMMEDIATE', 'DEFERRED']) {
    const proj = copyProject(ctx.project, join(dir, `project-${strategy.toLowerCase()}`));
    /** @type {Record<string, string | undefined>} */
    const env = {
      ...ctx.pg.env(await ctx.pg.freshDb(dbName(ctx, `prefect_${strategy}`))),
      PREFECT_HOME: join(WORK, 'prefect-home'),
      PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    };
    delete env.PREFECT_API_URL;
    const logFile = join(dir, `prefect-${strategy.toLowerCase()}.log`);
    const r = await measured(async () => {
      const p = await run(st.py, [PREFECT_SCRIPT, proj, String(SINGLE_THREADS), strategy], {
        env,
        cwd: proj,
        log: logFile,
        timeoutMs: 15 * 60 * 1000,
      });
      return { ...p, wall: p.seconds };
    }, ctx.pg.cpuSeconds);
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('BENCH_RESULT '));
    const res = line
      ? JSON.parse(line.slice('BENCH_RESULT '.length))
      : { error: `no result (exit ${r.code ?? r.signal}); see ${relative(ROOT, logFile)}` };
    attempts.push({ strategy, ...r, ...res, resultsFiles: [join(proj, 'target', 'run_results.json')] });
    if (!res.error) break;
  }
  const ok = attempts.find((a) => !a.error);
  const first = attempts[0];
  const notes = [];
  if (first.error)
    notes.push(
      `TestStrategy.IMMEDIATE (dbt build's order) failed: ${first.error.slice(0, 160)} (after ${round(first.wall)} s)`,
    );
  if (ok)
    notes.push(
      `prefect-dbt ${ok.version} (prefect ${ok.prefect}), test strategy ${ok.strategy}, ${ok.waves} waves; in-process build ${round(ok.build_s)} s after ${round(ok.import_s)} s of imports; starts a temporary local Prefect server`,
    );
  if (!ok)
    return {
      name,
      id: 'prefect',
      budget,
      unavailable: `ran but failed: ${attempts
        .map((a) => `${a.strategy}: ${a.error}`)
        .join(' / ')
        .slice(0, 300)}`,
      attempts,
    };
  return {
    name: ok.strategy === 'IMMEDIATE' ? name : `${name} (tests deferred)`,
    id: 'prefect',
    budget,
    ...ok,
    exit: ok.code,
    notes,
    attempts: attempts.map(({ strategy, wall, error }) => ({ strategy, wall: round(wall), error })),
  };
}
