// (4) The action: the committed bundle (dist/index.js), run as the GitHub runner runs it (scripts/lib/action-run.mjs).
// Its phases and chunk times come from its run record, parallel-dbt.json (action-record.mjs); its stdout is kept in
// action.log for people, and only its ::warning workflow commands are read from it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { runAction } from '../../../scripts/lib/action-run.mjs';
import { measured } from '../accounting.mjs';
import { actionPhases, readActionRecord, recordFigures } from '../action-record.mjs';
import { ROOT, WORK } from '../paths.mjs';
import { planLib } from '../plan-lib.mjs';
import { copyProject } from '../util.mjs';
import { restoreBaseParse, runDir, variantDb } from './context.mjs';

/** @typedef {import('./context.mjs').Ctx} Ctx */

/**
 * The action's warnings: its ::warning workflow commands (GitHub's format, not the action's prose), 300 characters each.
 * @param {string} stdout
 */
export const warningsOf = (stdout) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning'))
    .map((l) => l.slice(0, 300));

/**
 * Generated shapes: parallel P, max-connections B, no threads input (the action picks k × (⌊B/k⌋ − 1) for k ≤ P).
 * The example: default inputs (no parallel, threads, max-connections or chunks; not even work-dir: the record is
 * found beside the merged results, in $RUNNER_TEMP/parallel-dbt).
 * @param {Ctx} ctx
 * @param {{ timings: string | undefined }} o
 */
export async function variantAction(ctx, { timings }) {
  const id = timings ? 'action-timings' : 'action';
  const dir = runDir(ctx, id);
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const { env, schema } = await variantDb(ctx, id);
  await restoreBaseParse(ctx, proj, env, dir);
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  /** @type {Record<string, string>} */
  const inputs = { command: 'build', 'project-dir': proj, 'profiles-dir': proj };
  if (ctx.budget !== undefined)
    Object.assign(inputs, {
      parallel: String(ctx.parallel),
      'max-connections': String(ctx.budget),
      'work-dir': join(dir, 'work'),
    });
  if (ctx.vars) inputs.vars = ctx.vars;
  if (timings) inputs.timings = timings;
  if (ctx.slim) Object.assign(inputs, { select: 'state:modified+', state: ctx.slim.state, defer: 'true' });
  /** @type {{ t: number, text: string }[]} stdout lines, t = seconds after the spawn (for action.log only) */
  const lines = [];
  let buf = '';
  let t0 = 0;
  let spawnAt = 0;
  const r = await measured(async () => {
    t0 = Date.now();
    const res = await runAction(inputs, {
      env: /** @type {Record<string, string>} */ (env),
      cwd: proj,
      runnerTemp,
      onSpawn: () => {
        spawnAt = Date.now();
      },
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
  }, ctx.pg.cpuSeconds);
  writeFileSync(
    join(dir, 'action.log'),
    lines.map((l) => `${l.t.toFixed(2).padStart(8)}  ${l.text}`).join('\n') + '\n',
  );
  if (r.res.stderr) writeFileSync(join(dir, 'action.stderr.log'), r.res.stderr);
  if (r.res.runnerTemp && !r.res.runnerTemp.startsWith(WORK))
    rmSync(r.res.runnerTemp, { recursive: true, force: true });
  const results = r.res.outputs.results;
  const started = spawnAt || t0;
  const exitAt = spawnAt ? (t0 + r.res.seconds * 1000 - spawnAt) / 1000 : r.res.seconds;
  // The action writes its run record beside the merged results, wherever work-dir put them.
  const recordFile = results ? join(dirname(results), 'parallel-dbt.json') : undefined;
  const rec = recordFile ? await readActionRecord(recordFile) : undefined;
  const pl = await planLib();
  const action = {
    ...actionPhases(rec, { spawnAt: started, exitAt, describe: pl.lib }),
    warnings: warningsOf(r.res.stdout),
  };
  const record = recordFigures(rec, started, { timings: timings !== undefined });
  const { res, ...rest } = r;
  const P = record.parallel;
  const T = record.threads;
  const base =
    ctx.budget === undefined
      ? 'parallel-dbt, default inputs'
      : timings
        ? 'parallel-dbt, auto chunks, with timings'
        : 'parallel-dbt, auto chunks, no timings';
  return {
    name: base,
    id,
    budget: P !== undefined && T !== undefined ? `${P} × (${T} + 1) = ${P * (T + 1)}` : '?',
    ...rest,
    exit: res.code,
    resultsFiles: results ? [results] : [],
    timings,
    action,
    record,
    recordFile: rec && recordFile ? relative(ROOT, recordFile) : undefined,
    schema,
  };
}
