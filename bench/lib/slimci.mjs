// Slim CI (slimci): a pull request's run with defer. One database holds prod (schema prod, built whole by plain dbt
// before anything is measured) and one fresh schema per variant run; the PR's project has a few root models
// changed, and every variant builds state:modified+ with --defer --state <prod target>. Afterwards every variant's
// relations are counted (count(*)) and compared with plain dbt's, table by table.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { measured } from './accounting.mjs';
import { compare, OK, statusesOf } from './dbt-results.mjs';
import { DBT, ROOT } from './paths.mjs';
import { run } from './processes.mjs';
import { copyProject, errorText, readJson, round } from './util.mjs';
import { restoreBaseParse, runDir, variantDb } from './variants/context.mjs';

/**
 * @typedef {object} SlimState
 * @property {string} db            the database of prod and of every PR schema (defer reads across schemas)
 * @property {string} prodSchema
 * @property {string} state         the prod build's target/ (its manifest.json is the state)
 * @property {string} project       the PR's copy of the project, the changed models in it
 * @property {string[]} changed     the changed models
 * @property {{ wall: number, exit: number | null, nodes: number, passed: number, cpuClient: number, cpuPostgres: number, load1: number }} prod
 * @property {{ wall: number, exit: number | null, partial: boolean, reason?: string, walls: number[] }} [plainParse]
 *   plain `dbt parse` of the PR's project with the base branch's saved parse (timePlainParse), when measured
 */

/**
 * Slim CI, before anything is measured: (1) plain dbt builds the whole project as prod into schema prod of a fresh
 * database (timed, shown apart); its target/ is the state; (2) the PR's copy of the project gets `changeRoots`
 * root models changed: the first root model (layer 0) of each tag in turn. The change adds `where p0.id <> 1`: one
 * row fewer, so a child that read the prod relation instead of the PR's would have one row more than plain dbt's.
 * @param {{ dir: string, info: any, shape: import('./shapes.mjs').Shape, singleThreads: number, pg: import('./postgres.mjs').BenchPostgres }} o
 * @returns {Promise<SlimState>}
 */
export async function prepareSlim({ dir, info, shape, singleThreads, pg }) {
  const db = await pg.freshDb(shape.key);
  const prodSchema = 'prod';
  const prodProject = copyProject(info.dir, join(dir, 'prod', 'project'));
  const r = await measured(async () => {
    const p = await run(
      DBT,
      [
        '--log-format',
        'json',
        'build',
        '--project-dir',
        prodProject,
        '--profiles-dir',
        prodProject,
        '--threads',
        String(singleThreads),
      ],
      { env: pg.env(db, prodSchema), cwd: prodProject, log: join(dir, 'prod', 'dbt.log') },
    );
    return { ...p, wall: p.seconds };
  }, pg.cpuSeconds);
  const state = join(prodProject, 'target');
  const statuses = statusesOf([join(state, 'run_results.json')]);
  const passed = [...statuses.values()].filter((x) => OK.has(x[0].status)).length;
  if (r.code !== 0 || !existsSync(join(state, 'manifest.json'))) {
    throw new Error(
      `the prod build (plain dbt build into schema ${prodSchema}) exited ${r.code ?? r.signal} after ${round(r.wall)} s, ${passed} of ${statuses.size} nodes passed; see ${relative(ROOT, join(dir, 'prod', 'dbt.log'))}`,
    );
  }
  const project = copyProject(info.dir, join(dir, 'pr-project'));
  /** @type {string[][]} */
  const roots = info.tags.map((/** @type {{ name: string }} */ t) =>
    readdirSync(join(project, 'models', t.name))
      .filter((f) => f.startsWith(`${t.name}_l0_`) && f.endsWith('.sql'))
      .sort(),
  );
  /** @type {string[]} */
  const changed = [];
  for (
    let i = 0;
    changed.length < (shape.changeRoots ?? 4) && i < Math.max(...roots.map((x) => x.length)) * roots.length;
    i++
  ) {
    const t = i % roots.length;
    const file = roots[t][Math.floor(i / roots.length)];
    if (!file) continue;
    const path = join(project, 'models', info.tags[t].name, file);
    writeFileSync(
      path,
      `${readFileSync(path, 'utf8').replace(/\n*$/, '\n')}where p0.id <> 1 -- the pull request's change\n`,
    );
    changed.push(file.replace(/\.sql$/, ''));
  }
  return {
    db,
    prodSchema,
    state,
    project,
    changed,
    prod: {
      wall: round(r.wall, 2),
      exit: r.code,
      nodes: statuses.size,
      passed,
      cpuClient: r.cpuClient,
      cpuPostgres: r.cpuPostgres,
      load1: r.load1,
    },
  };
}

/**
 * What a run ran (run_results.json), by resource type, and the Σ of the pg_sleep waits in those nodes' SQL (the
 * manifest's raw_code): the known waits of slimci's lower bound.
 * @param {string} runResults
 * @param {string} manifest
 */
export function ranNodes(runResults, manifest) {
  const rr = readJson(runResults);
  const m = readJson(manifest);
  /** @type {Record<string, number>} */
  const byType = {};
  let sleep = 0;
  for (const r of rr?.results ?? []) {
    const type = String(r.unique_id).split('.')[0];
    byType[type] = (byType[type] ?? 0) + 1;
    if (r.status === 'skipped') continue;
    for (const x of String(m?.nodes?.[r.unique_id]?.raw_code ?? '').matchAll(/pg_sleep\(([\d.]+)\)/g))
      sleep += Number(x[1]);
  }
  return { nodes: rr?.results?.length ?? 0, byType, sleepSeconds: round(sleep, 3) };
}

/**
 * Row count of every relation (table, view, materialized view) a PR run left in its schemas: the target schema and
 * <schema>_<tag> for every tag (the projects' +schema folders). Keys: "<tag>.<relation>" ("." alone: the target
 * schema itself), so that two runs' schemas compare by key.
 * @param {import('./postgres.mjs').BenchPostgres} pg
 * @param {string} db
 * @param {string} schema
 * @param {string[]} tags
 * @returns {Promise<Map<string, number>>}
 */
export async function relationCounts(pg, db, schema, tags) {
  const c = await pg.client(db);
  try {
    const schemas = [schema, ...tags.map((t) => `${schema}_${t}`)];
    const rels = await c.query(
      `select n.nspname as s, c.relname as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1::text[]) and c.relkind in ('r', 'v', 'm', 'p') order by 1, 2`,
      [schemas],
    );
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
export function diffRelationCounts(reference, got) {
  /** @type {string[]} */
  const examples = [];
  let differing = 0;
  for (const k of [...new Set([...reference.keys(), ...got.keys()])].sort()) {
    const a = reference.get(k);
    const b = got.get(k);
    if (a === b) continue;
    differing++;
    examples.push(
      a === undefined
        ? `${k}: only in the variant's schema (${b} rows)`
        : b === undefined
          ? `${k}: missing (plain dbt's has ${a} rows)`
          : `${k}: ${b} rows, plain dbt's ${a}`,
    );
  }
  /** @param {Map<string, number>} m */
  const sum = (m) => [...m.values()].reduce((x, y) => x + y, 0);
  return {
    relations: got.size,
    referenceRelations: reference.size,
    referenceRows: sum(reference),
    rows: sum(got),
    differing,
    examples: examples.slice(0, 5),
  };
}

/**
 * Slim CI's correctness, after the runs: what plain dbt's PR run selected, and every variant's relations (every
 * run's, with --repeat) against plain dbt's, row count by row count. Marks a variant's check wrong when a relation
 * differs, another run's statuses differ, or the counts could not be taken.
 * @param {{ pg: import('./postgres.mjs').BenchPostgres, slimState: SlimState | undefined, single: any, variants: any[], reference: ReturnType<typeof statusesOf>, info: any }} o
 * @returns {Promise<any>}   the shape's `slim` (latest.json): prod, state, changed, selected, relationsError
 */
export async function compareSlimRuns({ pg, slimState, single, variants, reference, info }) {
  /** @type {any} */
  const slim = slimState
    ? {
        db: slimState.db,
        prodSchema: slimState.prodSchema,
        state: relative(ROOT, slimState.state),
        changed: slimState.changed,
        prod: slimState.prod,
        ...(slimState.plainParse ? { plainParse: slimState.plainParse } : {}),
      }
    : {};
  if (!slimState || !single.resultsFiles || !single.schema || single.error) return slim;
  const ran = ranNodes(single.resultsFiles[0], single.manifest);
  slim.selected = { ...ran, share: info.nodes ? round(ran.nodes / info.nodes, 3) : undefined };
  const tags = info.tags.map((/** @type {{ name: string }} */ t) => t.name);
  try {
    const ref = await relationCounts(pg, slimState.db, single.schema, tags);
    single.relations = {
      relations: ref.size,
      rows: [...ref.values()].reduce((a, b) => a + b, 0),
      schema: single.schema,
    };
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
        const d = {
          ...diffRelationCounts(ref, await relationCounts(pg, slimState.db, x.schema, tags)),
          schema: x.schema,
        };
        if (x.resultsFiles && x.schema !== v.schema && !compare(reference, statusesOf(x.resultsFiles)).correct)
          d.statusesDiffer = true;
        diffs.push(d);
      }
      v.relations = diffs.reduce((a, b) => (b.differing > a.differing ? b : a));
      if (runs.length > 1)
        v.relations.runs = diffs.map((d) => ({
          schema: d.schema,
          differing: d.differing,
          ...(d.statusesDiffer ? { statusesDiffer: true } : {}),
        }));
      if (v.check && diffs.some((d) => d.statusesDiffer)) {
        v.check.correct = false;
        v.check.text = `${v.check.text}; WRONG: another run's statuses differ (${diffs
          .filter((d) => d.statusesDiffer)
          .map((d) => d.schema)
          .join(', ')})`;
      }
      if (v.check) {
        v.check.correct = v.check.correct && v.relations.differing === 0;
        v.check.text = `${v.check.text}; ${v.relations.differing === 0 ? `all ${v.relations.relations} relations have plain dbt's row counts` : `WRONG: ${v.relations.differing} of ${v.relations.referenceRelations} relations differ`}`;
      }
    }
  } catch (e) {
    slim.relationsError = `row counts: ${errorText(e)}`;
    for (const v of variants) {
      if (!v.check || v.id === 'single') continue;
      v.check.correct = false;
      v.check.text = `${v.check.text}; WRONG: row counts not compared (${slim.relationsError})`;
    }
  }
  return slim;
}

/**
 * What the action's parse is held to on a PR run: plain `dbt parse` of the PR's project with the base branch's saved
 * partial parse in its target/ (restored as every variant gets it), spawn → exit, in a copy of its own. Whether dbt
 * used the saved file is read from its debug log (logs/dbt.log: "Partial parsing enabled: …"), why not from its
 * output ("Unable to do partial parsing because …").
 * @param {import('./variants/context.mjs').Ctx} ctx
 * @returns {Promise<{ wall: number, exit: number | null, partial: boolean, reason?: string }>}
 */
export async function timePlainParse(ctx) {
  const dir = runDir(ctx, 'plain-parse');
  const proj = copyProject(ctx.project, join(dir, 'project'));
  const { env } = await variantDb(ctx, 'plain-parse');
  await restoreBaseParse(ctx, proj, env, dir);
  const log = join(dir, 'dbt.log');
  const args = ['parse', '--project-dir', proj, '--profiles-dir', proj];
  if (ctx.vars) args.push('--vars', ctx.vars);
  const p = await run(DBT, args, { env, cwd: proj, log });
  const read = (/** @type {string} */ f) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const refused = /Unable to do partial parsing because ([^\n]*)/.exec(read(log));
  return {
    wall: round(p.seconds, 2),
    exit: p.code,
    partial: refused === null && /Partial parsing enabled/.test(read(join(proj, 'logs', 'dbt.log'))),
    ...(refused ? { reason: refused[1].trim() } : {}),
  };
}
