// The planning measurement's child process (started by bench/lib/planning.mjs plan50k): loads the src/plan bundle, reads a
// synthetic manifest and a timings file, plans, and prints one BENCH_RESULT line with times and memory. A file of
// its own (not a string in planning.mjs) so that `npm run typecheck:bench` checks its calls against src/plan's types.
//
//   node bench/plan-child.mjs <bundle URL> <manifest.json> <run_results.json> <parallel> <threads>
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [bundle, manifestPath, timingsPath, parallel, threads] = process.argv.slice(2);
const mem = () => Math.round(process.memoryUsage().rss / 1048576);
/** @type {Record<string, number | string>} */
const out = { rssStartMB: mem() };
const t = [performance.now()];
const lib = /** @type {import('./lib/plan-lib.mjs').PlanLib} */ (await import(bundle));
t.push(performance.now());
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
t.push(performance.now());
out.rssAfterManifestMB = mem();
const ids = Object.keys(manifest.nodes);
const selected = lib.runnableSelected(manifest, ids);
const graph = lib.buildPlanGraph(manifest, selected, 'build');
t.push(performance.now());
out.rssAfterGraphMB = mem();
const timings = lib.readTimings([timingsPath], '/');
const w = lib.weigher(timings, (u) => graph.nodes.get(u)?.resourceType ?? u.split('.')[0]);
for (const u of graph.nodes.keys()) w.weight(u);
t.push(performance.now());
const plan = lib.planChunks(graph, w.weight, {
  maxChunks: Number(parallel),
  threads: Number(threads),
  fixedCost: 10,
  perNodeCost: 0.05,
});
const text = lib.renderPlan(plan, Number(parallel), Number(threads));
t.push(performance.now());
/** @param {number} a @param {number} b */
const s = (a, b) => Math.round(t[b] - t[a]) / 1000;
Object.assign(out, {
  nodes: graph.nodes.size,
  chunks: plan.chunks.length,
  readManifest: s(1, 2),
  graph: s(2, 3),
  timings: s(3, 4),
  planChunks: s(4, 5),
  planning: s(2, 5),
  total: s(1, 5),
  rssEndMB: mem(),
  heapUsedEndMB: Math.round(process.memoryUsage().heapUsed / 1048576),
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  planLine: text.split('\n')[0],
});
console.log('BENCH_RESULT ' + JSON.stringify(out));
