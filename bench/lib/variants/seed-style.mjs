// (2) Seed-style: one `dbt build --select tag:X` per tag, all at once, no ordering between them.
import { join } from 'node:path';
import { measured } from '../accounting.mjs';
import { DBT } from '../paths.mjs';
import { run } from '../processes.mjs';
import { copyProject, round } from '../util.mjs';
import { dbName, runDir } from './context.mjs';

/** @typedef {import('./context.mjs').Ctx} Ctx */

/**
 * (2) Seed-style: one `dbt build --select tag:X` per tag, all at once, no ordering between them.
 * @param {Ctx} ctx
 */
export async function variantSeedStyle(ctx) {
  const dir = runDir(ctx, 'seed-style');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = ctx.pg.env(await ctx.pg.freshDb(dbName(ctx, 'seedstyle')));
  const tags = ctx.info.tags.map((/** @type {{name: string}} */ t) => t.name);
  const threads = Math.max(1, Math.floor((ctx.budget ?? 8) / tags.length) - 1);
  const r = await measured(async () => {
    const procs = await Promise.all(
      tags.map((/** @type {string} */ tag) =>
        run(
          DBT,
          [
            'build',
            '--project-dir',
            proj,
            '--profiles-dir',
            proj,
            '--threads',
            String(threads),
            '--select',
            `tag:${tag}`,
            '--target-path',
            `target-${tag}`,
            '--log-path',
            join(dir, `logs-${tag}`),
          ],
          { env, cwd: proj, log: join(dir, `dbt-${tag}.log`) },
        ),
      ),
    );
    return { procs, wall: Math.max(...procs.map((p) => p.seconds)) };
  }, ctx.pg.cpuSeconds);
  return {
    name: 'seed-style: one process per tag',
    id: 'seed-style',
    budget: `${tags.length} × (${threads} + 1) = ${tags.length * (threads + 1)}`,
    ...r,
    exit: Math.max(...r.procs.map((p) => p.code ?? 99)),
    perTag: Object.fromEntries(
      tags.map((/** @type {string} */ t, /** @type {number} */ i) => [t, round(r.procs[i].seconds)]),
    ),
    resultsFiles: tags.map((/** @type {string} */ t) => join(proj, `target-${t}`, 'run_results.json')),
  };
}
