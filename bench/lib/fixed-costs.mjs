// Fixed costs: a cold parse, and a chunk's start-up with and without the shared parse (one trivial node).
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DBT, WORK } from './paths.mjs';
import { run } from './processes.mjs';
import { copyProject, round } from './util.mjs';

/** Repetitions of each measurement. */
export const FIXED_REPS = 3;

/**
 * On one project: `dbt parse` cold, then one trivial node (its first seed) built with the action's chunk flags,
 * cold and with the parse's partial_parse.msgpack, FIXED_REPS times each; the minimum counts (a shared machine).
 * @param {{ project: string, info: any, title: string, threads: number, pg: import('./postgres.mjs').BenchPostgres }} ctx
 */
export async function fixedCosts(ctx) {
  const dir = join(WORK, 'fixed');
  rmSync(dir, { recursive: true, force: true });
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const env = ctx.pg.env(await ctx.pg.freshDb('fixed_costs'));
  const seedName = `raw_${ctx.info.tags[0].name}`;
  const chunkFlags = [
    '--no-use-colors',
    '--no-send-anonymous-usage-stats',
    '--log-format',
    'json',
    '--log-format-file',
    'debug',
    '--log-level-file',
    'debug',
  ];
  /** @param {string} target @param {string[]} [extra] */
  const build = (target, extra = []) => [
    ...chunkFlags,
    ...extra,
    'build',
    '--project-dir',
    proj,
    '--profiles-dir',
    proj,
    '--target-path',
    target,
    '--log-path',
    join(dir, 'logs', relative(dir, target)),
    '--threads',
    String(ctx.threads),
    '--indirect-selection',
    'empty',
    '--select',
    seedName,
  ];
  /** @type {{ project: string, parse: number[], coldChunk: number[], warmChunk: number[], parseMin?: number, coldChunkMin?: number, warmChunkMin?: number, ratio?: number, warning?: string }} */
  const out = { project: `${ctx.info.nodes} nodes (${ctx.title} project)`, parse: [], coldChunk: [], warmChunk: [] };
  for (let i = 0; i < FIXED_REPS; i++) {
    const parseTarget = join(dir, `parse-${i}`);
    const p = await run(
      DBT,
      [
        ...chunkFlags,
        'parse',
        '--project-dir',
        proj,
        '--profiles-dir',
        proj,
        '--target-path',
        parseTarget,
        '--log-path',
        join(dir, 'logs', `parse-${i}`),
      ],
      { env, cwd: proj, log: join(dir, `parse-${i}.log`) },
    );
    out.parse.push(round(p.seconds, 2));
    const c = await run(DBT, build(join(dir, `cold-${i}`)), { env, cwd: proj, log: join(dir, `cold-${i}.log`) });
    out.coldChunk.push(round(c.seconds, 2));
    const msgpack = join(parseTarget, 'partial_parse.msgpack');
    const w = await run(DBT, build(join(dir, `warm-${i}`), ['--partial-parse-file-path', msgpack]), {
      env,
      cwd: proj,
      log: join(dir, `warm-${i}.log`),
    });
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
