// A check of the bench's report code without dbt or PostgreSQL (seconds): how it reads the action's log lines and
// parallel-dbt.json — the run record of today's action, one with the worker host's fields (runPath, runPathReason,
// per-chunk firstNodeAt), and none at all (log only) — dbt's JSON log timestamps, the command line, and the slimci
// shape's relation-by-relation comparison and how the report shows a wrong one.
//
//   node bench/check.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { actionPhases, actionRecord, diffRelationCounts, firstNodeStartAt, HELP, markdown, median, parseArgs, parseDbtTs, targetsOf } from './run.mjs';

const spawnAt = 1_795_000_000_000;
/** @type {{ t: number, text: string }[]} */
const lines = [
  { t: 2.0, text: 'dbt 1.11.16: parsed and selected in 1.9 s' },
  { t: 2.1, text: 'Plan: 2 chunk(s), 10 node(s) on 2 process(es) × 3 thread(s); predicted makespan 8.0 s, lower bound 5.0 s (critical path 4.0 s, work 20.0 s)' },
  { t: 2.1, text: '  1. chunk-1: 6 node(s), ~8.0 s' },
  { t: 2.1, text: '  2. chunk-2: 4 node(s), ~6.0 s' },
  { t: 2.2, text: '▶ chunk-1: 6 node(s) started' },
  { t: 2.2, text: '▶ chunk-2: 4 node(s) started' },
  { t: 2.9, text: '[chunk-1] Running with dbt=1.11.16' },
  { t: 3.2, text: '[chunk-1] Found 10 models, 477 macros' },
  { t: 3.3, text: '[chunk-1] Concurrency: 3 threads (target=\'bench\')' },
  { t: 3.5, text: '[chunk-1] 1 of 6 START seed file x ....... [RUN]' },
  { t: 3.9, text: '[chunk-2] 1 of 4 START seed file y ....... [RUN]' },
  { t: 10.0, text: '■ chunk-2: finished in 7.8 s' },
  { t: 10.8, text: '[chunk-1] Finished running 6 nodes in 7.0 s' },
  { t: 11.0, text: '■ chunk-1: finished in 8.8 s' },
];
const ph = actionPhases(lines, 11.2);
assert.deepEqual(ph.predicted, { makespan: 8, lowerBound: 5, criticalPath: 4, work: 20, processes: 2, threads: 3 });
assert.equal(ph.breakdown.startToParsed, 2);
assert.equal(ph.breakdown.planToFirstChunk, 0.1);
assert.equal(ph.chunks[0].steps.imports, 0.7);
assert.equal(ph.chunks[0].startupToFirstNode, 1.3);

// No parallel-dbt.json: everything from the log.
const logOnly = actionRecord(undefined, ph, spawnAt);
assert.equal(logOnly.source, 'log');
assert.equal(logOnly.predictedMakespan, 8);
assert.equal(logOnly.actualMakespan, 8.8);
assert.equal(logOnly.chunkStartup, 1.5);
assert.equal(logOnly.firstNodeStart, 3.5);
assert.equal(logOnly.chunkStartupSource, 'log');

// The worker host's record: runPath, runPathReason and firstNodeAt win over the log.
const rec = {
  runPath: 'fork', runPathReason: 'Linux, one thread in the host', parallel: 2, threads: 3, predictedMakespan: 7.5, parseSeconds: 1.9, wallSeconds: 11,
  chunks: [
    { name: 'chunk-1', nodes: 6, startedAt: spawnAt + 2200, endedAt: spawnAt + 11000, firstNodeAt: spawnAt + 2900, predicted: 7.5, predictedStart: 0 },
    { name: 'chunk-2', nodes: 4, startedAt: spawnAt + 2250, endedAt: spawnAt + 10000, firstNodeAt: spawnAt + 3100, predicted: 6, predictedStart: 0 },
  ],
};
const now = actionRecord(rec, ph, spawnAt);
assert.equal(now.runPath, 'fork');
assert.equal(now.runPathReason, 'Linux, one thread in the host');
assert.equal(now.predictedMakespan, 7.5);
assert.equal(now.actualMakespan, 8.8);
assert.equal(now.predictedOverActual, 0.85);
assert.equal(now.predictionOk, true);
assert.deepEqual(now.chunkStartups, [0.7, 0.85]);
assert.equal(now.firstNodeStart, 2.9);
assert.equal(now.chunkStartupSource, 'json');

// Today's record (no firstNodeAt, no runPath): times from the record, first node START from the log.
const today = actionRecord({ ...rec, runPath: undefined, runPathReason: undefined, chunks: rec.chunks.map(({ firstNodeAt: _, ...c }) => c) }, ph, spawnAt);
assert.equal(today.runPath, undefined);
assert.deepEqual(today.chunkStartups, [1.3, 1.65]);
assert.equal(today.chunkStartupSource, 'log');

// Predicted ÷ actual outside ±25 % is flagged.
assert.equal(actionRecord({ ...rec, predictedMakespan: 5 }, ph, spawnAt).predictionOk, false);

// dbt's timestamps (µs, with or without Z) and plain dbt's first LogStartLine.
assert.equal(parseDbtTs('2026-11-29T04:22:53.432402Z'), Date.parse('2026-11-29T04:22:53.432Z'));
assert.equal(parseDbtTs('2026-11-29T04:22:53.432402'), Date.parse('2026-11-29T04:22:53.432Z'));
const dir = mkdtempSync(join(tmpdir(), 'bench-check-'));
writeFileSync(join(dir, 'dbt.log'), [
  JSON.stringify({ info: { name: 'MainReportVersion', msg: 'Running with dbt=1.11.16', ts: '2026-11-29T04:22:53.432402Z' } }),
  JSON.stringify({ info: { name: 'LogStartLine', msg: '1 of 9 START seed file a .... [RUN]', ts: '2026-11-29T04:22:58.100000Z' } }),
].join('\n'));
assert.deepEqual(firstNodeStartAt(join(dir, 'dbt.log'), []), { at: Date.parse('2026-11-29T04:22:58.100Z'), source: 'dbt JSON log (LogStartLine)' });
assert.equal(median([3, 1, 2]), 2);
assert.equal(median([4, 1, 2, 3]), 2.5);

// The command line: every option --help lists is accepted, anything else stops with one line.
for (const o of ['--only', '--scale', '--budget', '--parallel', '--variants', '--repeat', '--no-prefect', '--no-fixed', '--no-plan', '--plan-nodes', '--out', '--help']) {
  assert.ok(HELP.includes(o), `--help lists ${o}`);
}
/** @param {string[]} a */
const opts = (a) => {
  const p = parseArgs(a, 2);
  if (!('options' in p)) throw new Error(`parseArgs(${a.join(' ')}): ${JSON.stringify(p)}`);
  return p.options;
};
const dflt = opts([]);
assert.deepEqual(dflt.only, ['cpu', 'latency', 'remote', 'slimci', 'example']);
for (const shape of ['cpu', 'latency', 'remote', 'slimci', 'example']) assert.ok(HELP.includes(`  ${shape} `), `--help describes the shape ${shape}`);
assert.deepEqual(opts(['--only', 'slimci,remote']).only, ['slimci', 'remote']);
assert.deepEqual([dflt.scale, dflt.budget, dflt.parallel, dflt.repeat, dflt.planNodes, dflt.prefect, dflt.fixed, dflt.plan], [1, undefined, 2, 1, 50000, true, true, true]);
const one = opts(['--only', 'latency', '--scale=0.1', '--budget', '6', '--parallel', '3', '--variants', 'single,action', '--repeat', '2', '--no-prefect', '--no-fixed', '--no-plan', '--plan-nodes', '100', '--out', 'x/y']);
assert.deepEqual(one, { only: ['latency'], scale: 0.1, budget: 6, parallel: 3, variants: ['single', 'action'], repeat: 2, prefect: false, fixed: false, plan: false, planNodes: 100, out: resolve('x/y') });
assert.deepEqual(parseArgs(['--only', 'cpu', '--help'], 2), { help: true });
assert.deepEqual(parseArgs(['-h'], 2), { help: true });
assert.deepEqual(parseArgs(['--no-prefects'], 2), { error: "unknown option '--no-prefects'" });
assert.deepEqual(parseArgs(['--only', 'gpu'], 2), { error: "--only: unknown shape 'gpu' (cpu, latency, remote, slimci, example)" });
assert.deepEqual(parseArgs(['--variants', 'single,action-timings'], 2), { error: "--variants: unknown variant 'action-timings' (single, seed-style, prefect, action)" });
assert.deepEqual(parseArgs(['--scale'], 2), { error: '--scale needs a value' });
assert.deepEqual(parseArgs(['--only', '--no-plan'], 2), { error: '--only needs a value' });
assert.deepEqual(parseArgs(['--scale', 'small'], 2), { error: "--scale: 'small' is not a number > 0" });
assert.deepEqual(parseArgs(['--repeat', '1.5'], 2), { error: "--repeat: '1.5' is not an integer ≥ 1" });
assert.deepEqual(parseArgs(['--budget', '1'], 2), { error: "--budget: '1' is not an integer ≥ 2" });
assert.deepEqual(parseArgs(['--no-plan=yes'], 2), { error: '--no-plan takes no value' });
assert.deepEqual(parseArgs(['cpu'], 2), { error: "unexpected argument 'cpu' (options start with --)" });

// slimci: relations compared by key (row counts; a relation only one side has differs).
const plain = new Map([['tag_a.m1', 9], ['tag_a.m2', 10], ['tag_b.m3', 9]]);
assert.deepEqual(diffRelationCounts(plain, new Map(plain)), { relations: 3, referenceRelations: 3, referenceRows: 28, rows: 28, differing: 0, examples: [] });
const off = diffRelationCounts(plain, new Map([['tag_a.m1', 10], ['tag_a.m2', 10], ['tag_c.m4', 1]]));
assert.equal(off.differing, 3);
assert.deepEqual(off.examples, ['tag_a.m1: 10 rows, plain dbt\'s 9', 'tag_b.m3: missing (plain dbt\'s has 9 rows)', 'tag_c.m4: only in the variant\'s schema (1 rows)']);

// …and the report says so loudly: a line at the top, the Slim CI table, a MISS among the targets.
/** @param {any} relations @param {boolean} correct */
const slimRes = (relations, correct) => {
  const single = { id: 'single', name: 'one dbt process, --defer', budget: '1 × (31 + 1) = 32', wall: 30, cpuClient: 1, cpuPostgres: 1, schema: 'pr_single', relations: { relations: 3, rows: 28 }, check: { correct: true, text: 'all 840 nodes passed' } };
  const action = { id: 'action', name: 'parallel-dbt, auto chunks, no timings', budget: '2 × (15 + 1) = 32', wall: 20, cpuClient: 1, cpuPostgres: 1, schema: 'pr_action', relations,
    check: { correct, text: correct ? 'same as one dbt; all 3 relations have plain dbt\'s row counts' : 'same as one dbt; WRONG: 3 of 3 relations differ' }, record: now };
  const res = {
    date: 'x', machine: { cores: 2, memoryGiB: 1, cpuModel: 'cpu', node: 'v24', dbt: '1.11', dbtPostgres: '1.11', postgres: 'PostgreSQL 17', commit: 'abc', loadAtStart: '0' },
    options: { scale: 1 }, durationSeconds: 1,
    shapes: [{ key: 'slimci', title: 'Slim CI (remote, defer)', kind: 'slimci', budget: 32, singleThreads: 31, describe: 'd', seconds: 1, variants: [single, action],
      project: { models: 20, tables: 1, sleepingModels: 0, sleepSecondsTotal: 0, heavyModels: [], tests: 1500, singularTests: 1500, singularSleepSeconds: 295, seeds: 4, nodes: 1524, tags: [{ name: 'tag_a', models: 5 }], crossTagRefs: 2, crossTagTests: 0 },
      slim: { db: 'slimci', prodSchema: 'prod', state: 'bench/work/slimci/prod/project/target', changed: ['tag_a_l0_0000'], prod: { wall: 50, exit: 0, nodes: 1524, passed: 1524, cpuClient: 1, cpuPostgres: 1, load1: 0 }, selected: { nodes: 840, share: 0.551, byType: { model: 11, test: 829 }, sleepSeconds: 160 } } }],
  };
  return { ...res, targets: targetsOf(res) };
};
const good = slimRes({ relations: 3, referenceRelations: 3, referenceRows: 28, rows: 28, differing: 0, examples: [] }, true);
const goodMd = markdown(good);
assert.ok(!goodMd.includes('WRONG'), 'no WRONG when every relation matches');
assert.ok(goodMd.includes('| parallel-dbt, auto chunks, no timings | pr_action | 20 | 1.5 | same as one dbt | 3 | 28 | 0 |'), 'the Slim CI table row');
assert.equal(good.targets.find((t) => t.target.startsWith('Slim CI'))?.result, 'PASS');
const bad = slimRes(off, false);
const badMd = markdown(bad);
assert.ok(badMd.includes('**WRONG RESULT — Slim CI (remote, defer)'), 'a loud line at the top');
assert.ok(badMd.includes('**3 — WRONG**'), 'the Slim CI table says how many relations differ');
assert.equal(bad.targets.find((t) => t.target.startsWith('Slim CI'))?.result, 'MISS');
console.log('bench/check.mjs: ok');
