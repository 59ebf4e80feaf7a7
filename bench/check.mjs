// A check of the bench's report code without dbt or PostgreSQL (seconds): how it reads the action's run record
// (parallel-dbt.json: the worker host's, one without runPath and firstNodeAt, none at all), dbt's JSON log
// timestamps, the command line, the slimci shape's relation-by-relation comparison and how the report shows a wrong
// one, and the report itself: every committed bench/results/<dir>/latest.json listed below renders to its latest.md.
//
//   node bench/check.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionPhases, readActionRecord, recordFigures } from './lib/action-record.mjs';
import { HELP, parseArgs } from './lib/cli.mjs';
import { firstNodeStartAt, parseDbtTs } from './lib/dbt-results.mjs';
import { markdown, targetsOf } from './lib/report.mjs';
import { diffRelationCounts } from './lib/slimci.mjs';
import { median, medianRun } from './lib/util.mjs';
import { warningsOf } from './lib/variants/action.mjs';

const dir = mkdtempSync(join(tmpdir(), 'bench-check-'));
const spawnAt = 1_795_000_000_000;

// The worker host's record: run path, per-chunk times and firstNodeAt (epoch ms), the plan.
/** @type {import('./lib/action-record.mjs').ActionRecord} */
const rec = {
  runPath: 'fork',
  runPathReason: 'Linux, one thread in the host',
  parallel: 2,
  threads: 3,
  predictedMakespan: 7.5,
  criticalPath: 4,
  totalWork: 20,
  parseSeconds: 1.9,
  wallSeconds: 11,
  machine: { cores: 2, startup: 0.6, perNodeCpu: 0.02, warehouseCpuShare: 0.3, nodeGates: true },
  startedAt: spawnAt + 150,
  parsedAt: spawnAt + 1700,
  plannedAt: spawnAt + 2050,
  chunks: [
    {
      index: 1,
      name: 'chunk-1',
      nodes: 6,
      dependsOn: [],
      startedAt: spawnAt + 2200,
      endedAt: spawnAt + 11000,
      firstNodeAt: spawnAt + 2900,
      predicted: 7.5,
      predictedStart: 0,
      processes: [],
      retried: [],
    },
    {
      index: 2,
      name: 'chunk-2',
      nodes: 4,
      dependsOn: [],
      startedAt: spawnAt + 2250,
      endedAt: spawnAt + 10000,
      firstNodeAt: spawnAt + 3100,
      predicted: 6,
      predictedStart: 0,
      processes: [],
      retried: [],
    },
  ],
};
writeFileSync(join(dir, 'parallel-dbt.json'), JSON.stringify(rec));
writeFileSync(join(dir, 'not-a-record.json'), JSON.stringify({ runPath: 'fork' }));
// Read through the format's owner (src/flow/run-record.ts): a record as written, nothing for a run that left none,
// and one line naming a file that is not a record.
assert.deepEqual(await readActionRecord(join(dir, 'parallel-dbt.json')), rec);
assert.equal(await readActionRecord(join(dir, 'missing.json')), undefined);
await assert.rejects(
  readActionRecord(join(dir, 'not-a-record.json')),
  /not-a-record\.json is not a parallel-dbt run record/,
);

// The phases, in seconds after the spawn, from the record and the exit the bench saw; the plan's text from src/plan's
// renderPlan (here a stand-in that shows what it was given).
/** @type {any[]} */
const rendered = [];
const describe = {
  /** @type {typeof import('../src/plan/describe.js').renderPlan} */
  renderPlan: (p, processes, threads) => {
    rendered.push({ p, processes, threads });
    return [
      `Plan: ${p.chunks.length} chunk(s) on ${processes} × ${threads}`,
      ...p.chunks.map((c) => `  ${c.index}. ${c.name}: ${c.nodes.length} node(s)`),
    ].join('\n');
  },
  /** @type {typeof import('../src/plan/describe.js').lowerBound} */
  lowerBound: (p, processes, threads) => Math.max(p.criticalPath, p.totalWork / (processes * threads)),
};
const ph = actionPhases(rec, { spawnAt, exitAt: 11.2, describe });
assert.equal(ph.plan, 'Plan: 2 chunk(s) on 2 × 3');
assert.deepEqual(ph.chunkPlan, ['1. chunk-1: 6 node(s)', '2. chunk-2: 4 node(s)']);
assert.equal(rendered[0].p.makespan, 7.5);
assert.deepEqual(ph.predicted, { makespan: 7.5, criticalPath: 4, work: 20, processes: 2, threads: 3, lowerBound: 4 });
assert.deepEqual(ph.phases, { parsed: 1.7, planned: 2.05, firstChunkStart: 2.2, lastChunkEnd: 11, exit: 11.2 });
assert.deepEqual(ph.breakdown, {
  startToParsed: 1.7,
  parsedToPlan: 0.35,
  planToFirstChunk: 0.15,
  chunksRunning: 8.8,
  mergeAndReport: 0.2,
});
// A record from before parsedAt / plannedAt: dbt's parse seconds, and no plan phases.
const oldRecord = { ...rec, parsedAt: undefined, plannedAt: undefined };
assert.deepEqual(actionPhases(oldRecord, { spawnAt, exitAt: 11.2 }).breakdown, {
  startToParsed: 1.9,
  parsedToPlan: undefined,
  planToFirstChunk: undefined,
  chunksRunning: 8.8,
  mergeAndReport: 0.2,
});
assert.equal(ph.fixedCost, 2.4);
assert.equal(ph.concurrency, 1.88, '(8.8 + 7.75) s of chunks in 8.8 s');
assert.deepEqual(ph.chunks[1], {
  name: 'chunk-2',
  nodes: 4,
  start: 2.25,
  end: 10,
  firstNode: 3.1,
  startupToFirstNode: 0.85,
  steps: {},
});
assert.equal(actionPhases(rec, { spawnAt, exitAt: 11.2 }).plan, undefined, 'no src/plan bundle: no plan text');

const now = recordFigures(rec, spawnAt);
assert.equal(now.source, 'parallel-dbt.json');
assert.equal(now.runPath, 'fork');
assert.equal(now.runPathReason, 'Linux, one thread in the host');
assert.deepEqual([now.parallel, now.threads], [2, 3]);
assert.equal(now.predictedMakespan, 7.5);
assert.equal(now.actualMakespan, 8.8);
assert.equal(now.predictedOverActual, 0.85);
assert.equal(now.predictionOk, true);
assert.deepEqual(now.chunkStartups, [0.7, 0.85]);
assert.equal(now.chunkStartup, 0.77, 'the median of 0.7 and 0.85 (0.775 in floating point: 0.77)');
assert.equal(now.firstNodeStart, 2.9);
assert.equal(now.chunkStartupSource, 'json');

// A record without firstNodeAt or runPath (the action before the worker host): no start-up figures, nothing guessed.
const older = recordFigures(
  { ...rec, runPath: undefined, runPathReason: undefined, chunks: rec.chunks.map(({ firstNodeAt: _, ...c }) => c) },
  spawnAt,
);
assert.equal(older.runPath, undefined);
assert.deepEqual(older.chunkStartups, []);
assert.equal(older.chunkStartup, undefined);
assert.equal(older.firstNodeStart, undefined);
assert.equal(older.actualMakespan, 8.8);

// No record at all: no figures (the report shows "–").
const none = recordFigures(undefined, spawnAt);
assert.equal(none.source, 'none');
assert.deepEqual(
  [none.predictedMakespan, none.actualMakespan, none.chunkStartup, none.firstNodeStart, none.parallel],
  [undefined, undefined, undefined, undefined, undefined],
);
assert.deepEqual(actionPhases(undefined, { spawnAt, exitAt: 5 }).breakdown, {
  startToParsed: undefined,
  parsedToPlan: undefined,
  planToFirstChunk: undefined,
  chunksRunning: undefined,
  mergeAndReport: undefined,
});

// Predicted ÷ actual outside ±25 % is flagged.
assert.equal(recordFigures({ ...rec, predictedMakespan: 5 }, spawnAt).predictionOk, false);
// A first run is held to ±40 %: 5.5 s against 8.8 is 0.63 (a miss with timings, within 40 % without).
assert.equal(recordFigures({ ...rec, predictedMakespan: 5.5 }, spawnAt, { timings: true }).predictionOk, false);
assert.equal(recordFigures({ ...rec, predictedMakespan: 5.5 }, spawnAt, { timings: false }).predictionOk, true);
// A pool that grew is judged on what it predicted again when it last grew, the plan's kept beside it.
const grown = recordFigures(
  {
    ...rec,
    predictedMakespan: 20,
    pool: {
      slots: 4,
      active: 1,
      growth: [
        { at: spawnAt + 3200, workers: 2, load: 0.9, cpuPerNode: 0.03, predictedMakespan: 9.1 },
        { at: spawnAt + 4200, workers: 3, load: 0.85 },
      ],
    },
  },
  spawnAt,
  { timings: false },
);
assert.deepEqual(
  [grown.planPredicted, grown.predictedMakespan, grown.predictedAgainAt, grown.predictedOverActual, grown.predictionOk],
  [20, 9.1, 1, 1.03, true],
);
// A pool is judged on the last prediction it made while it ran: its calibration (once a share of its nodes had ended)
// or a growth after it.
const calibrated = recordFigures(
  {
    ...rec,
    predictedMakespan: 20,
    pool: {
      slots: 4,
      active: 2,
      growth: [],
      calibration: { at: spawnAt + 4200, workers: 2, nodes: 40, cpuPerNode: 0.01, predictedMakespan: 8 },
    },
  },
  spawnAt,
  { timings: false },
);
assert.deepEqual(
  [
    calibrated.planPredicted,
    calibrated.predictedMakespan,
    calibrated.predictedAgainAt,
    calibrated.predictedAgainBy,
    calibrated.predictedOverActual,
  ],
  [20, 8, 2, 'calibration', 0.91],
);
const calibratedThenGrown = recordFigures(
  {
    ...rec,
    predictedMakespan: 20,
    pool: {
      slots: 4,
      active: 1,
      growth: [{ at: spawnAt + 5200, workers: 2, load: 0.9, predictedMakespan: 9 }],
      calibration: { at: spawnAt + 4200, workers: 1, nodes: 40, cpuPerNode: 0.01, predictedMakespan: 8 },
    },
  },
  spawnAt,
  { timings: false },
);
assert.deepEqual([calibratedThenGrown.predictedMakespan, calibratedThenGrown.predictedAgainBy], [9, 'growth']);
// The spare (chunk-2: active 1, admitted by the growth to 2 workers at 3.2 s) counts its start-up from that growth:
// its first node at 3.1 s is 0 s after it (it took a node as the growth marker appeared); its spawn-to-first-node
// figure is kept beside it.
assert.deepEqual([grown.chunkStartups, grown.chunkStartupsFromSpawn, grown.spareChunks], [[0.7, 0], [0.7, 0.85], 1]);
assert.equal(grown.chunks[1].admittedAt, spawnAt + 3200);
const lateSpare = recordFigures(
  { ...rec, pool: { slots: 4, active: 1, growth: [{ at: spawnAt + 2500, workers: 2, load: 0.9 }] } },
  spawnAt,
);
assert.deepEqual([lateSpare.chunkStartups, lateSpare.spareChunks], [[0.7, 0.6], 1], 'first node 3.1 s, grown at 2.5 s');
assert.deepEqual(
  [now.chunkStartupsFromSpawn, now.spareChunks],
  [[0.7, 0.85], 0],
  'no pool: every chunk from its spawn',
);

// The action's warnings are its ::warning workflow commands, nothing else of its stdout.
assert.deepEqual(warningsOf('Plan: x\n::warning::budget too small\n[chunk-1] ::warning in a chunk line\n'), [
  '::warning::budget too small',
]);

// dbt's timestamps (µs, with or without Z) and plain dbt's first LogStartLine.
assert.equal(parseDbtTs('2026-11-29T04:22:53.432402Z'), Date.parse('2026-11-29T04:22:53.432Z'));
assert.equal(parseDbtTs('2026-11-29T04:22:53.432402'), Date.parse('2026-11-29T04:22:53.432Z'));
writeFileSync(
  join(dir, 'dbt.log'),
  [
    JSON.stringify({
      info: { name: 'MainReportVersion', msg: 'Running with dbt=1.11.16', ts: '2026-11-29T04:22:53.432402Z' },
    }),
    JSON.stringify({
      info: { name: 'LogStartLine', msg: '1 of 9 START seed file a .... [RUN]', ts: '2026-11-29T04:22:58.100000Z' },
    }),
  ].join('\n'),
);
assert.deepEqual(firstNodeStartAt(join(dir, 'dbt.log'), []), {
  at: Date.parse('2026-11-29T04:22:58.100Z'),
  source: 'dbt JSON log (LogStartLine)',
});
assert.equal(median([3, 1, 2]), 2);
assert.equal(median([4, 1, 2, 3]), 2.5);
// --repeat: a variant's (or plain dbt parse's) runs as one row: the lower middle run, the median wall, every wall.
assert.deepEqual(medianRun([{ wall: 3, id: 'c' }]), { wall: 3, id: 'c' });
assert.deepEqual(
  medianRun([
    { wall: 4.004, id: 'd' },
    { wall: 1, id: 'a' },
    { wall: 2, id: 'b' },
    { wall: 3, id: 'c' },
  ]),
  { wall: 2.5, id: 'b', walls: [4, 1, 2, 3] },
);

// The command line: every option --help lists is accepted, anything else stops with one line.
for (const o of [
  '--only',
  '--scale',
  '--budget',
  '--parallel',
  '--variants',
  '--repeat',
  '--no-prefect',
  '--no-fixed',
  '--no-plan',
  '--plan-nodes',
  '--out',
  '--help',
]) {
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
for (const shape of ['cpu', 'latency', 'remote', 'slimci', 'example'])
  assert.ok(HELP.includes(`  ${shape} `), `--help describes the shape ${shape}`);
assert.deepEqual(opts(['--only', 'slimci,remote']).only, ['slimci', 'remote']);
assert.deepEqual(
  [dflt.scale, dflt.budget, dflt.parallel, dflt.repeat, dflt.planNodes, dflt.prefect, dflt.fixed, dflt.plan],
  [1, undefined, 2, 1, 50000, true, true, true],
);
const one = opts([
  '--only',
  'latency',
  '--scale=0.1',
  '--budget',
  '6',
  '--parallel',
  '3',
  '--variants',
  'single,action',
  '--repeat',
  '2',
  '--no-prefect',
  '--no-fixed',
  '--no-plan',
  '--plan-nodes',
  '100',
  '--out',
  'x/y',
]);
assert.deepEqual(one, {
  only: ['latency'],
  scale: 0.1,
  budget: 6,
  parallel: 3,
  variants: ['single', 'action'],
  repeat: 2,
  prefect: false,
  fixed: false,
  plan: false,
  planNodes: 100,
  out: resolve('x/y'),
});
assert.deepEqual(parseArgs(['--only', 'cpu', '--help'], 2), { help: true });
assert.deepEqual(parseArgs(['-h'], 2), { help: true });
assert.deepEqual(parseArgs(['--no-prefects'], 2), { error: "unknown option '--no-prefects'" });
assert.deepEqual(parseArgs(['--only', 'gpu'], 2), {
  error: "--only: unknown shape 'gpu' (cpu, latency, remote, slimci, example)",
});
assert.deepEqual(parseArgs(['--variants', 'single,action-timings'], 2), {
  error: "--variants: unknown variant 'action-timings' (single, seed-style, prefect, action)",
});
assert.deepEqual(parseArgs(['--scale'], 2), { error: '--scale needs a value' });
assert.deepEqual(parseArgs(['--only', '--no-plan'], 2), { error: '--only needs a value' });
assert.deepEqual(parseArgs(['--scale', 'small'], 2), { error: "--scale: 'small' is not a number > 0" });
assert.deepEqual(parseArgs(['--repeat', '1.5'], 2), { error: "--repeat: '1.5' is not an integer ≥ 1" });
assert.deepEqual(parseArgs(['--budget', '1'], 2), { error: "--budget: '1' is not an integer ≥ 2" });
assert.deepEqual(parseArgs(['--no-plan=yes'], 2), { error: '--no-plan takes no value' });
assert.deepEqual(parseArgs(['cpu'], 2), { error: "unexpected argument 'cpu' (options start with --)" });

// slimci: relations compared by key (row counts; a relation only one side has differs).
const plain = new Map([
  ['tag_a.m1', 9],
  ['tag_a.m2', 10],
  ['tag_b.m3', 9],
]);
assert.deepEqual(diffRelationCounts(plain, new Map(plain)), {
  relations: 3,
  referenceRelations: 3,
  referenceRows: 28,
  rows: 28,
  differing: 0,
  examples: [],
});
const off = diffRelationCounts(
  plain,
  new Map([
    ['tag_a.m1', 10],
    ['tag_a.m2', 10],
    ['tag_c.m4', 1],
  ]),
);
assert.equal(off.differing, 3);
assert.deepEqual(off.examples, [
  "tag_a.m1: 10 rows, plain dbt's 9",
  "tag_b.m3: missing (plain dbt's has 9 rows)",
  "tag_c.m4: only in the variant's schema (1 rows)",
]);

// …and the report says so loudly: a line at the top, the Slim CI table, a MISS among the targets.
/** @param {any} relations @param {boolean} correct */
const slimRes = (relations, correct) => {
  const single = {
    id: 'single',
    name: 'one dbt process, --defer',
    budget: '1 × (31 + 1) = 32',
    wall: 30,
    cpuClient: 1,
    cpuPostgres: 1,
    schema: 'pr_single',
    relations: { relations: 3, rows: 28 },
    check: { correct: true, text: 'all 840 nodes passed' },
  };
  const action = {
    id: 'action',
    name: 'parallel-dbt, auto chunks, no timings',
    budget: '2 × (15 + 1) = 32',
    wall: 20,
    cpuClient: 1,
    cpuPostgres: 1,
    schema: 'pr_action',
    relations,
    check: {
      correct,
      text: correct
        ? "same as one dbt; all 3 relations have plain dbt's row counts"
        : 'same as one dbt; WRONG: 3 of 3 relations differ',
    },
    record: now,
    action: ph,
  };
  const res = {
    date: 'x',
    machine: {
      cores: 2,
      memoryGiB: 1,
      cpuModel: 'cpu',
      node: 'v24',
      dbt: '1.11',
      dbtPostgres: '1.11',
      postgres: 'PostgreSQL 17',
      commit: 'abc',
      loadAtStart: '0',
    },
    options: { scale: 1, repeat: 1, parallel: 2, planNodes: 50000 },
    durationSeconds: 1,
    shapes: [
      {
        key: 'slimci',
        title: 'Slim CI (remote, defer)',
        kind: 'slimci',
        budget: 32,
        singleThreads: 31,
        describe: 'd',
        seconds: 1,
        variants: [single, action],
        project: {
          models: 20,
          tables: 1,
          sleepingModels: 0,
          sleepSecondsTotal: 0,
          heavyModels: [],
          tests: 1500,
          singularTests: 1500,
          singularSleepSeconds: 295,
          seeds: 4,
          nodes: 1524,
          tags: [{ name: 'tag_a', models: 5 }],
          crossTagRefs: 2,
          crossTagTests: 0,
        },
        slim: {
          db: 'slimci',
          prodSchema: 'prod',
          state: 'bench/work/slimci/prod/project/target',
          changed: ['tag_a_l0_0000'],
          prod: { wall: 50, exit: 0, nodes: 1524, passed: 1524, cpuClient: 1, cpuPostgres: 1, load1: 0 },
          selected: { nodes: 840, share: 0.551, byType: { model: 11, test: 829 }, sleepSeconds: 160 },
          plainParse: { wall: 1.2, exit: 0, partial: true, walls: [1.2] },
        },
      },
    ],
  };
  return { ...res, targets: targetsOf(res) };
};
const good = slimRes(
  { relations: 3, referenceRelations: 3, referenceRows: 28, rows: 28, differing: 0, examples: [] },
  true,
);
const goodMd = markdown(good);
assert.ok(!goodMd.includes('WRONG'), 'no WRONG when every relation matches');
assert.ok(
  goodMd.includes('| parallel-dbt, auto chunks, no timings | pr_action | 20 | 1.5 | same as one dbt | 3 | 28 | 0 |'),
  'the Slim CI table row',
);
assert.equal(good.targets.find((t) => t.target.startsWith('Slim CI'))?.result, 'PASS');
// The action row, its phases and its chunks, all from the record.
assert.ok(
  goodMd.includes('| 2 × (15 + 1) = 32 | 20 | 1.5 | – | 2.9 | 7.5 / 8.8 | 0.85 | 0.77 | 11 % | fork | 1 + 1 | 1 |'),
  'the action row of the main table',
);
assert.ok(
  goodMd.includes('| Slim CI (remote, defer) | no timings | 1.7 | 0.35 | 0.15 | 8.8 | 1.88 | 0.2 | 2.4 | 7.5 |'),
  "the action's phases",
);
assert.ok(
  goodMd.includes(
    '| Slim CI (remote, defer) | no timings | chunk-2 | 4 | 2.25 | 10 | – | – | – | – | – | – | 0.85 | 0 → 6 | 0.1 → 7.8 |',
  ),
  'a chunk: its times, no steps',
);
assert.ok(
  goodMd.includes(
    '- Slim CI (remote, defer), no timings: `Plan: 2 chunk(s) on 2 × 3` — 1. chunk-1: 6 node(s); 2. chunk-2: 4 node(s)',
  ),
  "the plan's text",
);
assert.equal(
  good.targets.find((t) => t.target.startsWith('Chunk start-up'))?.measured,
  '0.77 s (2 chunk(s): 0.7, 0.85; from json)',
);
// With a saved partial parse, the action's parse + selection (spawn → the record's parsedAt) against plain dbt parse.
assert.deepEqual(
  good.targets.find((t) => t.target.startsWith("Slim CI (remote, defer): the action's parse")),
  {
    target:
      "Slim CI (remote, defer): the action's parse + selection (spawn → parsed and selected) ≤ plain `dbt parse` with the same saved partial parse (spawn → exit) + 1.0 s — action",
    measured: '1.7 s vs 1.2 + 1.0 = 2.2 s (plain dbt parsed partially)',
    result: 'PASS',
  },
);
const bad = slimRes(off, false);
const badMd = markdown(bad);
assert.ok(badMd.includes('**WRONG RESULT — Slim CI (remote, defer)'), 'a loud line at the top');
assert.ok(badMd.includes('**3 — WRONG**'), 'the Slim CI table says how many relations differ');
assert.equal(bad.targets.find((t) => t.target.startsWith('Slim CI'))?.result, 'MISS');

// The report of real runs: each committed latest.json renders to its latest.md again (and its targets to the same
// rows), but for the prose that changed when the action's figures moved from its log to parallel-dbt.json (and the
// budget paragraph, which says since slimci restores the base branch's parse what each variant starts from). Older
// reports (bench/results/latest.md, cpu-after-elapsed-fix/) were written by an older report and are not listed.
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');
const PROSE =
  /^(Connection budget B per shape|Columns: \*\*Wall\*\*|## Where the action spends its time|Each chunk \(seconds after the action|dbt ls is the record's parseSeconds|dbt ls is spawn → the record's parsedAt)/;
/** @param {string} md */
const withoutProse = (md) =>
  md
    .split('\n')
    .filter((l) => !PROSE.test(l))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
for (const d of ['2026-12-03-cpu-latency-example', '2026-12-03-slimci-remote', 'slimci']) {
  const res = JSON.parse(readFileSync(join(RESULTS, d, 'latest.json'), 'utf8'));
  // Target names renamed since those reports (the figures are the same: they ran no spare).
  const renamed = res.targets.map((/** @type {{ target: string }} */ t) => ({
    ...t,
    target: t.target.replace(
      'Chunk start-up (spawn → first node START, median over chunks)',
      'Chunk start-up (spawn → first node START; a spare from the growth that took it in; median over chunks)',
    ),
  }));
  assert.deepEqual(targetsOf(res), renamed, `${d}: the same targets`);
  assert.equal(
    withoutProse(markdown(res)),
    withoutProse(readFileSync(join(RESULTS, d, 'latest.md'), 'utf8')),
    `${d}: the same report`,
  );
}
console.log('bench/check.mjs: ok');
