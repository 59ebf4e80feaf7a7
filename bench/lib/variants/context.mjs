// What every variant gets (Ctx) and where its run goes: its folder under bench/work/<shape>/, and a fresh database
// (slimci: a fresh schema in the database that holds prod).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DBT } from '../paths.mjs';
import { run } from '../processes.mjs';

/**
 * What every variant gets: the shape, its project, its connection budget and how it is spent, and the repetition.
 * @typedef {object} Ctx
 * @property {string} key
 * @property {string} dir          bench/work/<shape>
 * @property {string} project      the generated (or example) project, never run in place
 * @property {any} info            what generateProject returned (the example: its node count only)
 * @property {string} title
 * @property {import('../shapes.mjs').Shape} shape
 * @property {number | undefined} budget   B; undefined for the example (default inputs)
 * @property {number} singleThreads        one dbt's --threads (B − 1, or the profile's threads)
 * @property {number} parallel             the action's parallel input on generated shapes (--parallel)
 * @property {string} [vars]
 * @property {number} rep                  0-based repetition (--repeat)
 * @property {import('../slimci.mjs').SlimState} [slim]   slimci: the prod state to defer to; every variant gets a fresh schema of its database
 * @property {import('../postgres.mjs').BenchPostgres} pg
 */

/** @param {Ctx} ctx @param {string} id */
export const runDir = (ctx, id) => join(ctx.dir, ctx.rep ? `${id}-r${ctx.rep + 1}` : id);
/** @param {Ctx} ctx @param {string} id */
export const dbName = (ctx, id) => `${ctx.key}_${id}${ctx.rep ? `_r${ctx.rep + 1}` : ''}`;
/** slimci: the fresh target schema of one variant's PR run (its models go to <it>_<tag>). @param {Ctx} ctx @param {string} id */
const slimSchema = (ctx, id) => `pr_${id.replace(/-/g, '_')}${ctx.rep ? `_r${ctx.rep + 1}` : ''}`;

/**
 * A variant's database environment: a fresh database, or (slimci) a fresh schema in the database that holds prod.
 * @param {Ctx} ctx
 * @param {string} id
 * @returns {Promise<{ env: NodeJS.ProcessEnv, schema?: string }>}
 */
export async function variantDb(ctx, id) {
  if (!ctx.slim) return { env: ctx.pg.env(await ctx.pg.freshDb(dbName(ctx, id.replace(/-/g, '_')))) };
  const schema = slimSchema(ctx, id);
  return { env: ctx.pg.env(ctx.slim.db, schema), schema };
}

/**
 * slimci: the base branch's saved parse, as a PR run restores it from CI's cache: `dbt parse` of the unchanged
 * project (prod's copy) with this variant's profile (the same target schema: dbt's partial parse is only valid for
 * the same connection info), not timed, its partial_parse.msgpack put in the PR copy's target/, where plain dbt and
 * the action (its partial-parse default) both read it. Other shapes: nothing (a cold parse).
 * @param {Ctx} ctx
 * @param {string} proj   the variant's copy of the PR project
 * @param {NodeJS.ProcessEnv} env   the variant's database environment
 * @param {string} dir   the variant's folder
 */
export async function restoreBaseParse(ctx, proj, env, dir) {
  if (!ctx.slim) return;
  const base = dirname(ctx.slim.state);
  const target = join(dir, 'base-parse');
  const args = ['parse', '--project-dir', base, '--profiles-dir', base, '--target-path', target];
  if (ctx.vars) args.push('--vars', ctx.vars);
  const p = await run(DBT, args, { env, cwd: base, log: join(dir, 'base-parse.log') });
  if (p.code !== 0)
    throw new Error(`dbt parse of the base project exited ${p.code ?? p.signal}; see ${join(dir, 'base-parse.log')}`);
  mkdirSync(join(proj, 'target'), { recursive: true });
  copyFileSync(join(target, 'partial_parse.msgpack'), join(proj, 'target', 'partial_parse.msgpack'));
}
