// One shape, start to end: its project, the variants side by side (each --repeat times, the median run counts),
// then correctness against one dbt, Slim CI's relation counts and the lower bound.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateProject } from '../generate.mjs';
import { compare, OK, statusesOf } from './dbt-results.mjs';
import { ROOT, WORK } from './paths.mjs';
import { lowerBound, planLib } from './plan-lib.mjs';
import { budgetOf, exampleProfileThreads, spending } from './shapes.mjs';
import { compareSlimRuns, prepareSlim, timePlainParse } from './slimci.mjs';
import { copyProject, errorText, log, medianRun, readJson, round } from './util.mjs';
import { variantAction } from './variants/action.mjs';
import { variantPrefect } from './variants/prefect.mjs';
import { variantSeedStyle } from './variants/seed-style.mjs';
import { variantSingle } from './variants/single.mjs';

/** @typedef {import('./shapes.mjs').Shape} Shape */
/** @typedef {import('./variants/context.mjs').Ctx} Ctx */

/**
 * @typedef {object} ShapeRun   what every shape gets from the run
 * @property {import('./cli.mjs').Options} options
 * @property {import('./postgres.mjs').BenchPostgres} pg
 * @property {number} cores
 */

/**
 * One shape: generate (or copy example/), then every variant on a fresh database, --repeat times each.
 * @param {Shape} shape
 * @param {ShapeRun} sr
 */
export async function runShape(shape, sr) {
  const { options, pg } = sr;
  const repeat = options.repeat;
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
    log(
      `${shape.title}: ${info.models} models, ${info.tests} tests${info.singularTests ? ` (${info.singularTests} singular, Σ ${info.singularSleepSeconds} s of waits)` : ''}, ${info.seeds} seeds = ${info.nodes} nodes; tags ${info.tags.map((/** @type {any} */ t) => `${t.name} ${t.models}`).join(', ')}`,
    );
  }
  const budget = budgetOf(shape, options.budget);
  const sp =
    budget !== undefined
      ? spending(budget, options.parallel)
      : { budget: undefined, singleThreads: exampleProfileThreads() };
  /** @type {Ctx} */
  const base = {
    key,
    dir,
    project: info.dir,
    info,
    title: shape.title,
    shape,
    budget: sp.budget,
    singleThreads: sp.singleThreads,
    parallel: options.parallel,
    vars: shape.vars,
    rep: 0,
    pg,
  };
  /** @type {any[]} */
  const variants = [];
  if (shape.kind === 'slimci') {
    log(`${shape.title}: prod build (plain dbt build, --threads ${sp.singleThreads}, schema prod; not in the table) …`);
    try {
      base.slim = await prepareSlim({ dir, info, shape, singleThreads: sp.singleThreads, pg });
      base.project = base.slim.project;
      log(
        `${shape.title}: prod build: ${base.slim.prod.wall} s, exit ${base.slim.prod.exit}, ${base.slim.prod.passed} of ${base.slim.prod.nodes} nodes passed; the PR changes ${base.slim.changed.join(', ')}`,
      );
    } catch (e) {
      const error = errorText(e);
      log(`${shape.title}: ${error}`);
      const v = { name: 'one dbt process, --defer', id: 'single', error };
      const out = await finishShape(shape, info, [v], v, sp, sr);
      out.seconds = Math.round((Date.now() - t0) / 1000);
      return out;
    }
  }
  const wanted = (/** @type {string} */ id) =>
    shape.variants.includes(id) &&
    (id === 'single' || options.variants.includes(id === 'action-timings' ? 'action' : id));
  /**
   * Runs one variant --repeat times; the row is the run with the median wall (the lower middle one for even N), with
   * the median wall and every wall beside it.
   * @param {string} label
   * @param {(ctx: Ctx) => Promise<any>} fn
   */
  const step = async (label, fn) => {
    const runs = [];
    for (let rep = 0; rep < repeat; rep++) {
      log(`${shape.title}: ${label}${repeat > 1 ? ` (run ${rep + 1} of ${repeat})` : ''} …`);
      try {
        const v = await fn({ ...base, rep });
        runs.push(v);
        log(
          `${shape.title}: ${label}: ${v.unavailable ? `not available (${v.unavailable})` : `${round(v.wall)} s, exit ${v.exit}`}`,
        );
        if (v.unavailable) break;
      } catch (e) {
        const v = { name: label, id: label, error: errorText(e) };
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
    const v = medianRun(ok);
    // slimci compares every run's schema, not only the median run's (not kept in latest.json)
    if (ok.length > 1) v.repeats = ok.map((x) => ({ schema: x.schema, resultsFiles: x.resultsFiles }));
    variants.push(v);
    return v;
  };
  const single = await step(budget !== undefined ? 'one dbt process' : 'plain dbt build', variantSingle);
  if (shape.kind === 'example' && single.resultsFiles) {
    const rr = readJson(single.resultsFiles[0]);
    info.nodes = rr?.results?.length;
    info.byType = {};
    for (const r of rr?.results ?? [])
      info.byType[r.unique_id.split('.')[0]] = (info.byType[r.unique_id.split('.')[0]] ?? 0) + 1;
  }
  if (wanted('seed-style')) await step('seed-style', variantSeedStyle);
  if (wanted('action')) {
    const first = await step(budget !== undefined ? 'action without timings' : 'action, default inputs', (ctx) =>
      variantAction(ctx, { timings: undefined }),
    );
    if (wanted('action-timings')) {
      /** @type {string | undefined} */
      let timingsFile;
      if (first.resultsFiles?.[0] && existsSync(first.resultsFiles[0])) {
        timingsFile = join(dir, 'previous-run_results.json');
        cpSync(first.resultsFiles[0], timingsFile);
      }
      await step('action with timings', (ctx) =>
        variantAction(ctx, { timings: timingsFile ?? join(dir, 'missing-run_results.json') }),
      );
    }
  }
  // Slim CI: what the action's parse is held to, plain `dbt parse` with the same saved partial parse (after the
  // variants, as the file cache stands for them; --repeat times, the median).
  if (shape.kind === 'slimci' && base.slim && wanted('action')) {
    /** @type {{ wall: number, exit: number | null, partial: boolean, reason?: string }[]} */
    const parses = [];
    for (let rep = 0; rep < repeat; rep++) {
      log(
        `${shape.title}: plain dbt parse with the base branch's saved parse${repeat > 1 ? ` (run ${rep + 1} of ${repeat})` : ''} …`,
      );
      try {
        parses.push(await timePlainParse({ ...base, rep }));
      } catch (e) {
        log(`${shape.title}: plain dbt parse failed: ${errorText(e)}`);
        break;
      }
    }
    if (parses.length > 0) {
      // As step() keeps a variant's runs.
      const m = medianRun(parses);
      base.slim.plainParse = { ...m, wall: round(m.wall, 2), walls: m.walls ?? [m.wall] };
      log(
        `${shape.title}: plain dbt parse: ${base.slim.plainParse.wall} s (${base.slim.plainParse.partial ? 'partial' : `cold: ${base.slim.plainParse.reason ?? 'no partial parse'}`})`,
      );
    }
  }
  // prefect-dbt last: its temporary Prefect server's aftermath slowed whatever ran right after it (seen twice:
  // the action's 1-process run took 72 s after it, 65–67 s elsewhere in the same session).
  if (options.prefect && wanted('prefect')) await step('prefect-dbt PER_WAVE', variantPrefect);
  const out = await finishShape(shape, info, variants, single, sp, sr, base.slim);
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
 * @param {ShapeRun} sr
 * @param {import('./slimci.mjs').SlimState} [slimState]   slimci: prod, the state and the changed models
 */
async function finishShape(shape, info, variants, single, sp, { pg, cores }, slimState) {
  const reference = single.resultsFiles ? statusesOf(single.resultsFiles) : new Map();
  for (const v of variants) {
    if (v.unavailable || v.error || v.id === 'single') continue;
    v.check = compare(reference, statusesOf(v.resultsFiles ?? []));
  }
  if (single.resultsFiles) {
    const okCount = [...reference.values()].filter((s) => OK.has(s[0].status)).length;
    single.check = {
      correct: okCount === reference.size,
      text:
        okCount === reference.size
          ? `all ${okCount} nodes passed`
          : `${reference.size - okCount} of ${reference.size} not passed`,
    };
  }
  const slim =
    shape.kind === 'slimci' ? await compareSlimRuns({ pg, slimState, single, variants, reference, info }) : undefined;
  /** @type {import('./plan-lib.mjs').LowerBound | undefined} */
  let lb;
  let lbError;
  if (single.resultsFiles) {
    const pl = await planLib();
    if (pl.lib) {
      try {
        lb = lowerBound(pl.lib, {
          runResults: single.resultsFiles[0],
          manifest: single.manifest,
          kind: shape.kind,
          slots: sp.budget !== undefined ? sp.budget - 1 : sp.singleThreads,
          cpuSeconds: (single.cpuClient ?? 0) + (single.cpuPostgres ?? 0),
          cores,
          startup: single.startup ?? 0,
          sleepSeconds:
            shape.kind === 'remote'
              ? info.singularSleepSeconds
              : shape.kind === 'slimci'
                ? slim?.selected?.sleepSeconds
                : undefined,
        });
      } catch (e) {
        lbError = `lower bound: ${errorText(e)}`;
      }
    } else lbError = pl.error;
  }
  return {
    key: shape.key,
    title: shape.title,
    kind: shape.kind,
    describe: shape.describe,
    budget: sp.budget,
    singleThreads: sp.singleThreads,
    project: info,
    variants,
    lowerBound: lb,
    lowerBoundError: lbError,
    single,
    slim,
    seconds: 0,
  };
}
