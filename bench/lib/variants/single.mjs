// (1) One dbt process: what users run today, and the reference for results and timings.
import { join } from 'node:path';
import { measured } from '../accounting.mjs';
import { firstNodeStartAt } from '../dbt-results.mjs';
import { DBT } from '../paths.mjs';
import { run } from '../processes.mjs';
import { copyProject, round } from '../util.mjs';
import { restoreBaseParse, runDir, variantDb } from './context.mjs';

/** @typedef {import('./context.mjs').Ctx} Ctx */

/**
 * (1) One `dbt build --threads B-1` (the example: no --threads, the profile's): what users run today. JSON log lines
 * on stdout (info level, as cheap as the text ones) give its first node START to the millisecond.
 * @param {Ctx} ctx
 */
export async function variantSingle(ctx) {
  const dir = runDir(ctx, 'single');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const { env, schema } = await variantDb(ctx, 'single');
  await restoreBaseParse(ctx, proj, env, dir);
  const logFile = join(dir, 'dbt.log');
  const args = ['--log-format', 'json', 'build', '--project-dir', proj, '--profiles-dir', proj];
  if (ctx.budget !== undefined) args.push('--threads', String(ctx.singleThreads));
  if (ctx.vars) args.push('--vars', ctx.vars);
  if (ctx.slim) args.push('--select', 'state:modified+', '--defer', '--state', ctx.slim.state);
  const r = await measured(async () => {
    const p = await run(DBT, args, { env, cwd: proj, log: logFile });
    return { ...p, wall: p.seconds };
  }, ctx.pg.cpuSeconds);
  const results = join(proj, 'target', 'run_results.json');
  const first = firstNodeStartAt(logFile, [results]);
  const threads = ctx.budget !== undefined ? `${ctx.singleThreads}` : `${ctx.singleThreads} (profile)`;
  return {
    name: ctx.slim ? 'one dbt process, --defer' : ctx.budget !== undefined ? 'one dbt process' : 'plain dbt build',
    id: 'single',
    budget: `1 × (${threads} + 1) = ${ctx.singleThreads + 1}`,
    ...r,
    exit: r.code,
    resultsFiles: [results],
    manifest: join(proj, 'target', 'manifest.json'),
    schema,
    firstNodeStart: first ? round((first.at - r.startedAt) / 1000, 2) : undefined,
    firstNodeSource: first?.source,
    startup: first ? (first.at - r.startedAt) / 1000 : undefined,
  };
}
