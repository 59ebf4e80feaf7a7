// The benchmark from checked options to the written report: the src/plan bundle, one PostgreSQL, every chosen shape,
// the fixed costs, the planning of a large manifest, then latest.md / latest.json. stopBench ends what is running.
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixedCosts } from './fixed-costs.mjs';
import { machineInfo } from './machine.mjs';
import { DBT, DIST_BUNDLE, ROOT, WORK } from './paths.mjs';
import { planLib } from './plan-lib.mjs';
import { plan50k } from './planning.mjs';
import { startBenchPostgres } from './postgres.mjs';
import { killChildren } from './processes.mjs';
import { targetsOf, writeReport } from './report.mjs';
import { runShape } from './shape-run.mjs';
import { budgetOf, shapes, spending } from './shapes.mjs';
import { log } from './util.mjs';

/** @type {import('./postgres.mjs').BenchPostgres | undefined} */
let pg;

/** Kills the dbt processes still running and stops PostgreSQL (Ctrl-C, a failure, the end of the run). */
export async function stopBench() {
  killChildren();
  const p = pg;
  pg = undefined;
  await p?.stop();
}

/**
 * Runs the benchmark and writes <options.out>/latest.md and latest.json.
 * @param {import('./cli.mjs').Options} options
 * @param {number} cores
 */
export async function runBench(options, cores) {
  const started = Date.now();
  mkdirSync(WORK, { recursive: true });
  if (!existsSync(DBT)) throw new Error(`${DBT} not found: run "npm run setup:dbt" first`);
  if (!existsSync(DIST_BUNDLE)) throw new Error('dist/index.js not found: run "npm run build" first');
  const all = shapes(options.scale);
  const chosen = options.only.map((k) => all[k]);
  const budgetFor = (/** @type {import('./shapes.mjs').Shape} */ s) => budgetOf(s, options.budget);
  const budgets = chosen.map(budgetFor).filter((b) => b !== undefined);
  log(
    `scale ${options.scale}, shapes ${chosen.map((s) => `${s.key}${budgetFor(s) !== undefined ? ` (budget ${budgetFor(s)})` : ''}`).join(', ')}, parallel ${options.parallel}, ${cores} cores${options.repeat > 1 ? `, ${options.repeat} runs per variant` : ''}`,
  );
  // The bundle of src/plan (lower bounds, planning): built while nothing is measured.
  const pl = await planLib();
  if (pl.error) log(`warning: ${pl.error}`);
  const server = await startBenchPostgres({ maxConnections: Math.max(200, 4 * Math.max(8, ...budgets)) });
  pg = server;
  /** @type {any} */
  const res = {
    date: new Date().toISOString(),
    options: {
      scale: options.scale,
      only: options.only,
      budget: options.budget ?? Object.fromEntries(chosen.map((s) => [s.key, budgetFor(s) ?? 'profile threads'])),
      parallel: options.parallel,
      repeat: options.repeat,
      planNodes: options.planNodes,
      prefect: options.prefect,
      fixed: options.fixed,
      plan: options.plan,
    },
    shapes: [],
  };
  try {
    res.machine = await machineInfo({ cores, pg: server });
    for (const shape of chosen) res.shapes.push(await runShape(shape, { options, pg: server, cores }));
    if (options.fixed && res.shapes.some((/** @type {any} */ x) => x.kind !== 'example')) {
      const s =
        res.shapes.find((/** @type {any} */ x) => x.kind === 'cpu') ??
        res.shapes.find((/** @type {any} */ x) => x.kind !== 'example');
      log(`fixed costs on the ${s.title} project (${s.project.nodes} nodes) …`);
      const t0 = Date.now();
      try {
        res.fixedCosts = await fixedCosts({
          project: s.project.dir,
          info: s.project,
          title: s.title,
          threads: spending(s.budget ?? 8, options.parallel).actionThreads,
          pg: server,
        });
      } catch (e) {
        res.fixedCosts = { error: String(e) };
      }
      res.fixedCosts.seconds = Math.round((Date.now() - t0) / 1000);
    }
  } finally {
    await stopBench();
  }
  if (options.plan) {
    log(`planning ${options.planNodes} nodes …`);
    const t0 = Date.now();
    res.plan50k = await plan50k({
      nodes: options.planNodes,
      parallel: options.parallel,
      threads: spending(options.budget ?? 8, options.parallel).actionThreads,
    });
    res.plan50k.seconds = Math.round((Date.now() - t0) / 1000);
  }
  res.durationSeconds = Math.round((Date.now() - started) / 1000);
  res.targets = targetsOf(res);
  const md = writeReport(options.out, res);
  console.log(md);
  log(`wrote ${relative(ROOT, join(options.out, 'latest.md'))} and latest.json in ${res.durationSeconds} s`);
}
