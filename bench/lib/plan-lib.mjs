// The project's own planner code (src/plan), bundled with ncc once per bench run into bench/work/plan-lib/: the
// build test edges (buildPlanGraph), the critical path (criticalOrder), the lower bound and the plan text
// (describe.ts) come from there, never from a copy here.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, WORK } from './paths.mjs';
import { run } from './processes.mjs';
import { readJson, round } from './util.mjs';

/**
 * @typedef {object} PlanLib
 * @property {typeof import('../../src/plan/graph.js').buildPlanGraph} buildPlanGraph
 * @property {typeof import('../../src/plan/chunks.js').criticalOrder} criticalOrder
 * @property {typeof import('../../src/plan/chunks.js').planChunks} planChunks
 * @property {typeof import('../../src/flow/timings-input.js').readTimings} readTimings
 * @property {typeof import('../../src/plan/timings.js').weigher} weigher
 * @property {typeof import('../../src/plan/describe.js').renderPlan} renderPlan
 * @property {typeof import('../../src/plan/describe.js').lowerBound} lowerBound
 * @property {typeof import('../../src/plan/nodes.js').runnableSelected} runnableSelected
 */
const PLAN_LIB_DIR = join(WORK, 'plan-lib');
/** @type {Promise<{ lib?: PlanLib, bundle?: string, error?: string }> | undefined} */
let planLibPromise;
/** Bundles src/plan with ncc (once) and imports it. */
export function planLib() {
  planLibPromise ??= (async () => {
    mkdirSync(PLAN_LIB_DIR, { recursive: true });
    const entry = join(PLAN_LIB_DIR, 'plan-entry.ts');
    /** @param {string} p */
    const rel = (p) => relative(PLAN_LIB_DIR, join(ROOT, p)).replace(/\\/g, '/');
    writeFileSync(
      entry,
      [
        `export { buildPlanGraph } from '${rel('src/plan/graph.js')}';`,
        `export { criticalOrder, planChunks } from '${rel('src/plan/chunks.js')}';`,
        `export { weigher } from '${rel('src/plan/timings.js')}';`,
        `export { readTimings } from '${rel('src/flow/timings-input.js')}';`,
        `export { renderPlan, lowerBound } from '${rel('src/plan/describe.js')}';`,
        `export { runnableSelected } from '${rel('src/plan/nodes.js')}';`,
      ].join('\n') + '\n',
    );
    const bundleDir = join(PLAN_LIB_DIR, 'bundle');
    rmSync(bundleDir, { recursive: true, force: true });
    const b = await run(join(ROOT, 'node_modules', '.bin', 'ncc'), ['build', entry, '-o', bundleDir, '--quiet'], {
      env: process.env,
      cwd: ROOT,
      log: join(PLAN_LIB_DIR, 'ncc.log'),
      timeoutMs: 180000,
    });
    if (b.code !== 0)
      return {
        error: `ncc could not bundle src/plan: ${readFileSync(join(PLAN_LIB_DIR, 'ncc.log'), 'utf8').trim().split('\n').slice(-3).join(' ')}`,
      };
    const bundle = join(bundleDir, 'index.js');
    try {
      return { lib: /** @type {PlanLib} */ (await import(pathToFileURL(bundle).href)), bundle };
    } catch (e) {
      return { error: `the src/plan bundle does not load: ${e instanceof Error ? e.message : String(e)}` };
    }
  })();
  return planLibPromise;
}

/**
 * @typedef {object} LowerBound
 * @property {number} criticalPath
 * @property {number} work
 * @property {number} slots
 * @property {number} workOverSlots
 * @property {number} cpuSeconds
 * @property {number} cpuOverCores
 * @property {number} [sleepSeconds]
 * @property {number} bound
 * @property {number} startup
 * @property {number} boundWithStartup
 * @property {string} formula
 */

/**
 * Lower bound of any schedule of the reference (one dbt) run's nodes, with node times from that run. CP: the longest
 * chain of execution_time over src/plan's buildPlanGraph (depends_on plus every build test edge dbt adds: single-
 * and multi-parent) and criticalOrder; W = Σ execution_time; S = B − 1 worker threads (the most threads any split of
 * B connections can hold); the project's describe.ts lowerBound gives max(CP, work / S).
 * - latency, example: max(CP, W / S).
 * - cpu: the threads of one process wait for each other (the GIL), so execution_time is inflated and W / S is no
 *   bound; the CPU term replaces it: (CPU seconds of dbt + PostgreSQL in the reference run) / cores.
 * - remote: the waits are known (Σ pg_sleep of the tests), execution_time is inflated by the GIL as in cpu:
 *   max(CP, Σ sleep / S, CPU / cores). slimci the same, with Σ pg_sleep of the nodes its PR run ran.
 * @param {PlanLib} lib
 * @param {{ runResults: string, manifest: string, kind: import('./shapes.mjs').ShapeKind, slots: number, cpuSeconds: number, cores: number, startup: number, sleepSeconds?: number }} o
 * @returns {LowerBound | undefined}
 */
export function lowerBound(lib, { runResults, manifest, kind, slots, cpuSeconds, cores, startup, sleepSeconds }) {
  const rr = readJson(runResults);
  const m = readJson(manifest);
  if (!rr || !m) return undefined;
  /** @type {Map<string, number>} */
  const t = new Map(
    rr.results
      .filter((/** @type {any} */ r) => r.status !== 'skipped')
      .map((/** @type {any} */ r) => [r.unique_id, Number(r.execution_time) || 0]),
  );
  const graph = lib.buildPlanGraph(
    m,
    [...t.keys()].filter((u) => u in m.nodes),
    'build',
  );
  const { bottom } = lib.criticalOrder(graph, (u) => t.get(u) ?? 0);
  const cp = Math.max(0, ...bottom.values());
  const work = [...t.values()].reduce((a, b) => a + b, 0);
  const cpuTerm = cpuSeconds / cores;
  /** @param {number} totalWork */
  const bound = (totalWork) => lib.lowerBound({ chunks: [], makespan: 0, criticalPath: cp, totalWork }, slots, 1);
  let dag;
  let formula;
  if (kind === 'cpu') {
    dag = Math.max(bound(0), cpuTerm);
    formula = 'max(CP, CPU / cores)';
  } else if (kind === 'remote' || kind === 'slimci') {
    dag = Math.max(bound(sleepSeconds ?? 0), cpuTerm);
    formula = `max(CP, Σ sleep / ${slots}, CPU / cores)`;
  } else {
    dag = bound(work);
    formula = `max(CP, W / ${slots})`;
  }
  return {
    criticalPath: round(cp),
    work: round(work),
    slots,
    workOverSlots: round(work / slots),
    cpuSeconds: round(cpuSeconds),
    cpuOverCores: round(cpuTerm),
    ...(sleepSeconds !== undefined ? { sleepSeconds: round(sleepSeconds) } : {}),
    bound: round(dag),
    startup: round(startup),
    boundWithStartup: round(dag + startup),
    formula,
  };
}
