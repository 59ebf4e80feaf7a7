// The report: targetsOf (PASS/MISS per target) and markdown (latest.md) from the results of a run, both pure
// (everything they show is in the results, so bench/check.mjs renders committed latest.json files again), and
// writeReport, which writes latest.md and the lean latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PREDICTION_TOLERANCE, PREDICTION_TOLERANCE_NO_TIMINGS } from './action-record.mjs';
import { FIXED_REPS } from './fixed-costs.mjs';
import { round } from './util.mjs';

/** @typedef {{ target: string, measured: string, result: string }} Target */

/**
 * One row per target (issue 11's first, then Slim CI, start-up and plan, and the "(info)" ones), with what was measured.
 * @param {any} res
 * @returns {Target[]}
 */
export function targetsOf(res) {
  const planNodes = res.options.planNodes;
  /** @type {Target[]} */
  const t = [];
  /** @param {boolean | undefined} ok */
  const pass = (ok) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');
  /** @param {any} shape @param {string} id */
  const byId = (shape, id) => shape?.variants.find((/** @type {any} */ v) => v.id === id && !v.unavailable && !v.error);
  /** @param {any} a */
  const label = (a) =>
    a.id === 'action-timings' ? 'action + timings' : a.name.includes('default') ? 'action (default inputs)' : 'action';
  const actions = (/** @type {any} */ s) => ['action', 'action-timings'].map((id) => byId(s, id)).filter(Boolean);

  // Issue 11: never slower, on every shape (the example with default inputs against plain dbt build).
  for (const s of res.shapes) {
    const single = byId(s, 'single');
    if (!single) continue;
    for (const a of actions(s)) {
      const what =
        s.budget !== undefined
          ? `one dbt with the same budget ${s.budget} (${s.singleThreads} threads)`
          : `plain dbt build (profile's ${s.singleThreads} threads)`;
      t.push({
        target: `Never slower — ${s.title}: ${label(a)} ≤ 1.05 × ${what}`,
        measured: `${round(a.wall)} s vs ${round(single.wall)} s (${round(a.wall / single.wall, 2)}×)`,
        result: pass(a.wall <= 1.05 * single.wall),
      });
    }
  }
  // Issue 11: speed-ups where processes can win.
  for (const [kind, need] of /** @type {[string, number][]} */ ([
    ['remote', 1.6],
    ['cpu', 1.25],
  ])) {
    const s = res.shapes.find((/** @type {any} */ x) => x.kind === kind);
    const single = byId(s, 'single');
    if (!s || !single) continue;
    for (const a of actions(s)) {
      const ratio = single.wall / a.wall;
      t.push({
        target: `${s.title}, budget ${s.budget}: ${label(a)} ≥ ${need}× faster than one dbt with ${s.singleThreads} threads`,
        measured: `${round(single.wall)} / ${round(a.wall)} = ${round(ratio, 2)}×`,
        result: pass(ratio >= need),
      });
    }
  }
  // Slim CI: the PR run with defer gives plain dbt's statuses and, relation by relation, its row counts.
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    for (const a of actions(s)) {
      const r = a.relations;
      t.push({
        target: `${s.title}: ${label(a)} leaves the same relations as plain dbt --defer (count(*) per relation: 0 differ) and the same node statuses`,
        measured: `${r ? `${r.differing} of ${r.referenceRelations} relations differ (plain dbt: ${r.referenceRelations} relations, ${r.referenceRows} rows; ${label(a)}: ${r.relations}, ${r.rows})` : `row counts not compared${s.slim?.relationsError ? ` (${s.slim.relationsError})` : ''}`}; statuses: ${a.check?.text?.split(';')[0] ?? '–'}`,
        result: pass(Boolean(r) && a.check?.correct === true),
      });
    }
  }
  // Issue 17: with the base branch's saved partial parse, the action parses and selects no slower than plain dbt parses.
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    const pp = s.slim?.plainParse;
    if (!pp) continue; // reports before 2026-12-04 did not measure it
    for (const a of actions(s)) {
      const parsed = a.action?.phases?.parsed;
      t.push({
        target: `${s.title}: the action's parse + selection (spawn → parsed and selected) ≤ plain \`dbt parse\` with the same saved partial parse (spawn → exit) + 1.0 s — ${label(a)}`,
        measured:
          parsed !== undefined && pp.exit === 0
            ? `${parsed} s vs ${pp.wall} + 1.0 = ${round(pp.wall + 1, 2)} s (plain dbt ${pp.partial ? 'parsed partially' : `parsed cold: ${pp.reason ?? 'no partial parse'}`})`
            : pp.exit !== 0
              ? `plain dbt parse exited ${pp.exit}`
              : '–',
        result: pass(parsed === undefined || pp.exit !== 0 ? undefined : parsed <= pp.wall + 1.0),
      });
    }
  }
  // Issue 11: start-up and an honest plan, on every action row.
  for (const s of res.shapes) {
    const single = byId(s, 'single');
    for (const a of actions(s)) {
      const r = a.record;
      const where = `${s.title}, ${label(a)}`;
      t.push({
        target: `Chunk start-up (spawn → first node START; a spare from the growth that took it in; median over chunks) ≤ 1.0 s — ${where}`,
        measured:
          r?.chunkStartup !== undefined
            ? `${r.chunkStartup} s (${r.chunkStartups.length} chunk(s): ${r.chunkStartups.join(', ')}; from ${r.chunkStartupSource}${r.spareChunks ? `; ${r.spareChunks} spare(s), spawn → first node ${r.chunkStartupsFromSpawn.join(', ')}` : ''})`
            : '–',
        result: pass(r?.chunkStartup === undefined ? undefined : r.chunkStartup <= 1.0),
      });
      if (single?.firstNodeStart !== undefined) {
        t.push({
          target: `The action's first node START ≤ plain dbt's + 1.0 s — ${where}`,
          measured:
            r?.firstNodeStart !== undefined
              ? `${r.firstNodeStart} s vs ${single.firstNodeStart} + 1.0 = ${round(single.firstNodeStart + 1, 2)} s`
              : '–',
          result: pass(r?.firstNodeStart === undefined ? undefined : r.firstNodeStart <= single.firstNodeStart + 1.0),
        });
      }
      t.push({
        target: `Predicted makespan within ±${Math.round((r?.predictionTolerance ?? PREDICTION_TOLERANCE) * 100)} % of the actual — ${where}`,
        measured:
          r?.predictedOverActual !== undefined
            ? `${r.predictedMakespan} s predicted${r.predictedAgainAt !== undefined ? ` (again ${r.predictedAgainBy === 'calibration' ? 'from what the run measured' : 'when the pool grew'}, ${r.predictedAgainAt} s in; the plan's: ${r.planPredicted} s)` : ''} vs ${r.actualMakespan} s actual (÷ ${r.predictedOverActual})`
            : '–',
        result: pass(r?.predictionOk),
      });
    }
  }
  // Informative (earlier targets, superseded by the ones above): the latency lower bound, fixed cost, warm start-up.
  const lat = res.shapes.find((/** @type {any} */ s) => s.kind === 'latency');
  if (lat?.lowerBound) {
    for (const a of actions(lat)) {
      const b = lat.lowerBound;
      t.push({
        target: `(info) ${lat.title}: ${label(a)} vs 1.10 × lower bound ${b.formula}; vs 1.10 × (bound + one cold dbt start-up)`,
        measured: `${round(a.wall)} s vs ${round(1.1 * b.bound)} s (${round(a.wall / b.bound, 2)}× the bound); vs ${round(1.1 * b.boundWithStartup)} s (${round(a.wall / b.boundWithStartup, 2)}×)`,
        result: 'info',
      });
    }
  }
  const fc = res.fixedCosts;
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'cpu')) {
    for (const a of actions(s)) {
      if (!a.action?.fixedCost || !fc?.parseMin) continue;
      t.push({
        target: `(info) Fixed cost of the action (${s.title}, ${label(a)}): start → first chunk + last chunk → exit, vs one cold dbt parse + 1 s`,
        measured: `${a.action.fixedCost} s vs ${fc.parseMin} + 1 = ${round(fc.parseMin + 1, 2)} s`,
        result: 'info',
      });
    }
  }
  if (fc?.warmChunkMin)
    t.push({
      target: `(info) A dbt subprocess's start-up with the shared parse vs a cold full parse (${fc.project}; one-node chunk)`,
      measured: `${fc.warmChunkMin} s vs ${fc.parseMin} s (${Math.round(fc.ratio * 100)} %)`,
      result: 'info',
    });
  const p = res.plan50k;
  if (p && !p.error) {
    t.push({
      target: `Planning a ${planNodes.toLocaleString('en')}-node manifest < 2 s`,
      measured: `${p.planning} s (graph ${p.graph} + timings ${p.timings} + chunks ${p.planChunks}); reading the ${p.manifestMB} MB manifest ${p.readManifest} s more`,
      result: pass(p.planning < 2),
    });
    t.push({
      target: `Planning a ${planNodes.toLocaleString('en')}-node manifest < 300 MB RSS`,
      measured: `peak ${p.maxRssMB} MB: Node alone ${p.rssStartMB} MB, + the parsed ${p.manifestMB} MB manifest → ${p.rssAfterManifestMB} MB, + buildPlanGraph → ${p.rssAfterGraphMB} MB, + planChunks → peak (the planner's own share: ${p.maxRssMB - p.rssAfterManifestMB} MB)`,
      result: pass(p.maxRssMB < 300),
    });
  } else if (p?.error) t.push({ target: `Planning a ${planNodes}-node manifest`, measured: p.error, result: 'MISS' });
  return t;
}

/** @param {any} x @param {number} [d] */
const cell = (x, d = 1) =>
  x === undefined || x === null || Number.isNaN(x)
    ? '–'
    : String(typeof x === 'number' ? round(x, d) : x).replace(/\|/g, '/');

/**
 * The report: machine, the table of every shape and variant, notes, Slim CI, targets, the action's phases, fixed
 * costs and planning.
 * @param {any} res
 * @returns {string}
 */
export function markdown(res) {
  const { planNodes, repeat, parallel } = res.options;
  const cores = res.machine.cores;
  /** @type {string[]} */
  const L = [];
  const m = res.machine;
  L.push(`# parallel-dbt benchmark — ${res.date}`, '');
  L.push(
    `Machine: ${m.cores} cores (nproc), ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; dbt-core ${m.dbt}, dbt-postgres ${m.dbtPostgres}; ${m.postgres}; the action: dist/ of commit ${m.commit || '?'}; load average at start ${m.loadAtStart}. Scale ${res.options.scale}; ${repeat > 1 ? `every variant run ${repeat} times (the median wall counts); ` : ''}run took ${res.durationSeconds} s (${res.shapes.map((/** @type {any} */ s) => `${s.title} ${s.seconds} s`).join(', ')}${res.fixedCosts ? `, fixed costs ${res.fixedCosts.seconds ?? '?'} s` : ''}${res.plan50k ? `, planning ${res.plan50k.seconds ?? '?'} s` : ''}).`,
  );
  const loads = res.shapes
    .flatMap((/** @type {any} */ s) => s.variants.map((/** @type {any} */ v) => v.load1))
    .filter((/** @type {any} */ x) => typeof x === 'number');
  const maxLoad = loads.length ? Math.max(...loads) : 0;
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    const wrong = s.variants.filter((/** @type {any} */ v) => v.id !== 'single' && v.check && !v.check.correct);
    const differing = wrong.reduce(
      (/** @type {number} */ n, /** @type {any} */ v) => n + (v.relations?.differing ?? 0),
      0,
    );
    if (wrong.length || s.slim?.relationsError) {
      L.push(
        '',
        `**WRONG RESULT — ${s.title}: ${wrong.map((/** @type {any} */ v) => `${v.name}: ${v.check.text}`).join(' / ') || s.slim.relationsError}.** ${differing} relation(s) differ from plain dbt's in all; see "Slim CI" below.`,
      );
    }
  }
  if (maxLoad > cores)
    L.push(
      '',
      `**Warning: the machine was busy** — the 1-minute load average at the start of a variant reached ${maxLoad} on ${cores} cores (per variant in the notes below). Walls and ratios are noisy; compare rows measured under similar load, or use --repeat.`,
      '',
    );
  L.push(
    `Connection budget B per shape (dbt-postgres holds ≤ threads + 1 per process): one dbt = 1 × (B − 1 + 1); the action = parallel ${parallel} (= cores unless --parallel), max-connections B, no threads input, so it picks its processes × threads within B (the chosen shape is in each row); seed-style = tags × (⌊B / tags⌋ − 1 + 1). The example project has no budget: plain \`dbt build\` with the profile's threads vs the action with no inputs but the project. Every variant starts from a fresh copy of the project (no target/, so a cold parse) and a fresh database${res.shapes.some((/** @type {any} */ s) => s.kind === 'slimci') ? " (Slim CI: a fresh schema in the database that holds prod, and in target/ the base branch's saved partial parse: `dbt parse` of the unchanged project with the same profile, not timed, as a PR run restores it from the cache)" : ''}.`,
    '',
  );
  // Results from before the idle tail was recorded render as they were written (bench/check.mjs re-renders them).
  const tails = res.shapes.some((/** @type {any} */ s) =>
    s.variants.some((/** @type {any} */ v) => v.record?.idleTail !== undefined),
  );
  /** @param {string} tail @param {string} perNode */
  const extra = (tail, perNode) => (tails ? [tail, perNode] : []);
  L.push(
    `| Shape | Variant | Processes × (threads + 1) | Wall (s) | One dbt ÷ variant | Variant ÷ lower bound | First node START (s after spawn) | Makespan predicted / actual (s) | Predicted ÷ actual | Chunk start-up (s, median) | ${tails ? 'Idle tail | ' : ''}Run path | CPU s (dbt + PostgreSQL) | ${tails ? 'CPU ms per node (dbt) | ' : ''}Same result as one dbt? |`,
  );
  L.push(`|---|---|---|---:|---:|---:|---:|---:|---:|---:|${tails ? '---:|' : ''}---|---:|${tails ? '---:|' : ''}---|`);
  for (const s of res.shapes) {
    const single = s.variants.find((/** @type {any} */ v) => v.id === 'single' && v.wall);
    for (const v of s.variants) {
      if (v.unavailable || v.error) {
        L.push(
          `| ${s.title} | ${v.name} | ${v.budget ?? ''} | – | – | – | – | – | – | – | ${extra('–', '').join(' | ')}${tails ? ' | ' : ''}– | – | ${tails ? '– | ' : ''}not available: ${cell(v.unavailable ?? v.error)} |`,
        );
        continue;
      }
      const ratio = single ? cell(single.wall / v.wall, 2) : '–';
      const lbr = s.lowerBound ? cell(v.wall / s.lowerBound.bound, 2) : '–';
      const r = v.record;
      const na = 'n/a';
      const first = v.id === 'single' ? cell(v.firstNodeStart, 2) : r ? cell(r.firstNodeStart, 2) : na;
      const pred = r
        ? `${r.predictedAgainAt !== undefined ? `${cell(r.planPredicted)} → ${cell(r.predictedMakespan)} (at ${r.predictedAgainAt} s)` : cell(r.predictedMakespan)} / ${cell(r.actualMakespan)}`
        : na;
      const pa = r
        ? r.predictedOverActual === undefined
          ? '–'
          : `${r.predictedOverActual}${r.predictionOk ? '' : ' ⚠'}`
        : na;
      const cs = r ? cell(r.chunkStartup, 2) : na;
      const tail = r ? (r.idleTail === undefined ? '–' : `${Math.round(r.idleTail * 100)} %`) : na;
      const perNode = s.project?.nodes ? cell((v.cpuClient / s.project.nodes) * 1000, 0) : '–';
      const path = r
        ? cell(r.runPath ?? (r.source === 'parallel-dbt.json' ? 'subprocess (not recorded)' : undefined))
        : na;
      const wall = v.walls ? `${round(v.wall)} (${v.walls.join(', ')})` : `${round(v.wall)}`;
      L.push(
        `| ${s.title} | ${v.name} | ${v.budget} | ${wall} | ${ratio} | ${lbr} | ${first} | ${pred} | ${pa} | ${cs} | ${tails ? `${tail} | ` : ''}${path} | ${round(v.cpuClient)} + ${round(v.cpuPostgres)} | ${tails ? `${perNode} | ` : ''}${cell(v.check?.text ?? '')} |`,
      );
    }
    if (s.lowerBound) {
      const b = s.lowerBound;
      L.push(
        `| ${s.title} | lower bound ${b.formula} | – | ${b.bound} | ${single ? cell(single.wall / b.bound, 2) : '–'} | 1 | – | – | – | – | – | – | ${tails ? '– | – | ' : ''}CP ${b.criticalPath} s, W ${b.work} s, W/${b.slots} ${b.workOverSlots} s${b.sleepSeconds !== undefined ? `, Σ sleep/${b.slots} ${round(b.sleepSeconds / b.slots)} s` : ''}, CPU/${cores} ${b.cpuOverCores} s |`,
      );
    } else if (s.lowerBoundError)
      L.push(`| ${s.title} | lower bound | – | – | – | – | – | – | – | – | – | – | ${cell(s.lowerBoundError)} |`);
  }
  L.push(
    '',
    `Columns: **Wall** spawn → exit of the variant (with --repeat: the median, every run in brackets). **One dbt ÷ variant** > 1 means the variant is faster. **First node START**: seconds from the process's spawn to its first "N of M START" (one dbt: its JSON log's LogStartLine; the action: the earliest chunk firstNodeAt in parallel-dbt.json). **Makespan predicted / actual**: the plan's predictedMakespan (a pool that grew, or calibrated itself once a fifth of its nodes had ended: the plan's → the last one it predicted again, and when) vs max(chunk endedAt) − min(chunk startedAt); ⚠ when predicted ÷ actual is outside 1 ± ${PREDICTION_TOLERANCE} (with timings) or 1 ± ${PREDICTION_TOLERANCE_NO_TIMINGS} (without). **Chunk start-up**: median over chunks of firstNodeAt − startedAt (the chunk's spawn → its first node START); for a spare (a worker forked ahead that waits, on purpose, until the pool grows to take it in: parallel-dbt.json pool.growth) from that growth instead (the targets' rows give both). **Idle tail**: the first chunk's end to the last one's, as a share of the actual makespan. **CPU ms per node**: the variant's client CPU (dbt, the action, its workers) ÷ the shape's nodes. **Run path**: parallel-dbt.json runPath (fork / subprocess); "subprocess (not recorded)" when the record has no runPath (the action before the worker host). n/a: not an action row.`,
  );
  L.push(
    '',
    `Lower bound: from the one-dbt run's run_results.json and manifest.json, with the project's own src/plan code (bundled with ncc): CP = longest chain of execution_time over buildPlanGraph (depends_on plus every test edge dbt build adds) via criticalOrder; W = Σ execution_time; S = B − 1 worker threads (no split of B connections holds more); describe.ts lowerBound = max(CP, work / S). Latency-bound and example: max(CP, W / S). CPU-bound: threads of one process wait for each other (GIL), so execution_time is inflated and W / S is no bound; the bound is max(CP, CPU seconds of dbt + PostgreSQL in the one-dbt run / ${cores} cores). Remote: max(CP, Σ pg_sleep of the tests / S, CPU / cores); Slim CI the same with Σ pg_sleep of the nodes its PR run ran. "+ one cold dbt start-up" adds the one-dbt run's spawn-to-first-node time.`,
    '',
  );
  for (const s of res.shapes) {
    const p = s.project;
    if (s.kind === 'example') {
      L.push(
        `**${s.title}** (${s.seconds} s): ${p.nodes ?? '?'} nodes (${Object.entries(p.byType ?? {})
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}); ${s.describe}.`,
      );
    } else {
      L.push(
        `**${s.title}** project (${s.seconds} s, budget ${s.budget}): ${p.models} models (${p.tables} tables, ${p.sleepingModels} sleeping, ${p.sleepSecondsTotal} s of sleep${p.heavyModels.length ? `, heavy chain ${p.heavyModels.map((/** @type {any} */ h) => `${h.seconds} s`).join(' → ')}` : ''}), ${p.tests} tests${p.singularTests ? ` (${p.singularTests} singular, Σ ${p.singularSleepSeconds} s of waits)` : ''}, ${p.seeds} seeds = ${p.nodes} nodes; tags ${p.tags.map((/** @type {any} */ t) => `${t.name} ${t.models}`).join(' / ')}; ${p.crossTagRefs} cross-tag refs, ${p.crossTagTests} cross-tag relationships tests. ${s.describe}.`,
      );
    }
    if (s.kind === 'slimci' && s.slim?.prod) {
      const z = s.slim;
      const sel = z.selected;
      L.push(
        '',
        `Slim CI: the prod build (plain \`dbt build --threads ${s.singleThreads}\` of the whole project into schema ${z.prodSchema} of database ${z.db}; not in the table) took ${z.prod.wall} s, exit ${z.prod.exit}, ${z.prod.passed} of ${z.prod.nodes} nodes passed (CPU ${round(z.prod.cpuClient)} + ${round(z.prod.cpuPostgres)} s; load ${z.prod.load1} at start); state: ${z.state}. The PR changes ${z.changed.length} root models (${z.changed.join(', ')}); \`state:modified+\` ${
          sel
            ? `ran ${sel.nodes} of ${p.nodes} nodes (${Math.round((sel.share ?? 0) * 100)} %: ${Object.entries(
                sel.byType,
              )
                .map(([k, n]) => `${n} ${k}`)
                .join(', ')}; Σ ${sel.sleepSeconds} s of pg_sleep)`
            : 'was not run'
        } in plain dbt's run.${
          z.plainParse
            ? ` Plain \`dbt parse\` of the PR's project with the base branch's saved parse (what the action's parse is held to): ${z.plainParse.wall} s${z.plainParse.walls.length > 1 ? ` (${z.plainParse.walls.join(', ')})` : ''}, ${z.plainParse.exit === 0 ? (z.plainParse.partial ? 'a partial parse' : `a cold parse: ${z.plainParse.reason ?? 'dbt did not use the saved file'}`) : `exit ${z.plainParse.exit}`}.`
            : ''
        }`,
        '',
      );
    }
    for (const v of s.variants) {
      const notes = [...(v.notes ?? [])];
      if (v.perTag)
        notes.push(
          `per tag: ${Object.entries(v.perTag)
            .map(([k, x]) => `${k} ${x} s`)
            .join(', ')}`,
        );
      if (v.check?.example) notes.push(`e.g. ${v.check.example}`);
      if (v.relations?.examples?.length)
        notes.push(`differing relations (${v.relations.schema}), e.g. ${v.relations.examples.join(' / ')}`);
      if (v.relations?.runs)
        notes.push(
          `relations differing per run: ${v.relations.runs.map((/** @type {any} */ x) => `${x.schema} ${x.differing}${x.statusesDiffer ? ' (statuses differ)' : ''}`).join(', ')}`,
        );
      if (v.schema) notes.push(`schema ${v.schema}`);
      if (v.record?.runPathReason) notes.push(`run path ${v.record.runPath ?? '?'}: ${v.record.runPathReason}`);
      if (v.record) notes.push(`run record: ${v.recordFile ?? 'none'}`);
      if (v.action?.warnings?.length)
        notes.push(
          `warnings: ${v.action.warnings.map((/** @type {string} */ w) => w.replace(/^::warning[^:]*::/, '')).join(' / ')}`,
        );
      if (v.load1 !== undefined) notes.push(`load ${v.load1} at start`);
      if (notes.length) L.push(`- ${v.name}: ${notes.join('; ').replace(/\n/g, ' ')}`);
    }
    L.push('');
  }
  for (const s of res.shapes.filter((/** @type {any} */ x) => x.kind === 'slimci')) {
    L.push(`## ${s.title}: plain dbt --defer vs the action, relation by relation`, '');
    L.push(
      `After the runs, every relation in each run's schemas (its target schema and <schema>_<tag>) is counted (\`count(*)\`) and compared by name with plain dbt's; node statuses are compared with plain dbt's run_results.json. ${s.slim?.relationsError ? `**${s.slim.relationsError}**` : ''}`,
      '',
    );
    L.push(
      "| Run | Schema | Wall (s) | One dbt ÷ run | Node statuses | Relations | Rows | Relations differing from plain dbt's |",
      '|---|---|---:|---:|---|---:|---:|---:|',
    );
    const single = s.variants.find((/** @type {any} */ v) => v.id === 'single' && v.wall);
    for (const v of s.variants) {
      if (v.error || v.unavailable) {
        L.push(`| ${v.name} | – | – | – | not available: ${cell(v.error ?? v.unavailable)} | – | – | – |`);
        continue;
      }
      const r =
        v.id === 'single' ? v.relations : v.relations && { relations: v.relations.relations, rows: v.relations.rows };
      const differing =
        v.id === 'single'
          ? 'reference'
          : v.relations
            ? v.relations.differing === 0
              ? '0'
              : `**${v.relations.differing} — WRONG**`
            : '**not compared — WRONG**';
      L.push(
        `| ${v.name} | ${cell(v.schema)} | ${round(v.wall)} | ${single ? cell(single.wall / v.wall, 2) : '–'} | ${cell(v.check?.text?.split(';')[0])} | ${cell(r?.relations)} | ${cell(r?.rows)} | ${differing} |`,
      );
    }
    L.push('');
  }
  L.push(
    '## Targets',
    '',
    'Issue 11\'s targets first; "(info)" rows are earlier targets kept as information.',
    '',
    '| Target | Measured | Result |',
    '|---|---|---|',
  );
  for (const t of res.targets) L.push(`| ${t.target} | ${t.measured.replace(/\|/g, '/')} | ${t.result} |`);
  L.push('');
  L.push(
    '## Where the action spends its time (from parallel-dbt.json, seconds after its spawn)',
    '',
    "dbt ls is spawn → the record's parsedAt (older records: its parseSeconds), manifest → plan its parsedAt → plannedAt, plan → first chunk spawn its plannedAt → the first chunk's start (\"–\" in records without them); chunks running, chunks at once and the per-chunk times come from its chunks' startedAt / endedAt; merge + report is the last chunk's end → the process's exit; fixed cost = spawn → first chunk + merge + report.",
    '',
  );
  L.push(
    "| Shape | Run | dbt ls (cold parse + select) | manifest → plan | plan → first chunk spawn | chunks running | chunks at once (avg) | merge + report | fixed cost | plan's predicted makespan |",
  );
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const runName = (/** @type {any} */ v) =>
    v.id === 'action-timings' ? 'timings' : v.name.includes('default') ? 'default inputs' : 'no timings';
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action)) {
      const a = v.action;
      const b = a.breakdown;
      L.push(
        `| ${s.title} | ${runName(v)} | ${cell(b.startToParsed, 2)} | ${cell(b.parsedToPlan, 2)} | ${cell(b.planToFirstChunk, 2)} | ${cell(b.chunksRunning, 2)} | ${cell(a.concurrency, 2)} | ${cell(b.mergeAndReport, 2)} | ${cell(a.fixedCost, 2)} | ${cell(v.record?.predictedMakespan ?? a.predicted?.makespan)} |`,
      );
    }
  }
  L.push(
    '',
    'Each chunk (seconds after the action\'s spawn, from parallel-dbt.json). The steps inside its dbt — Python imports (spawn → banner), loading the shared parse (→ "Found …"), resolving the chunk\'s --select list and linking the graph (→ "Concurrency"), relation cache (→ first node START), running nodes, writing artifacts and exiting — are not in the record: "–" (reports before 2026-12 took them from the action\'s log). "Start-up" is firstNodeAt − startedAt; "predicted" the planner\'s predictedStart + predicted (seconds after the first chunk\'s start).',
    '',
  );
  L.push(
    '| Shape | Run | Chunk | Nodes | Start | End | Imports | Load parse | Selection | Cache | Nodes | Exit | Start-up to first node | Predicted start → end | Actual start → end |',
  );
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action)) {
      const recChunks = new Map((v.record?.chunks ?? []).map((/** @type {any} */ c) => [c.name, c]));
      const firstStart = Math.min(...(v.record?.chunks ?? []).map((/** @type {any} */ c) => c.startedAt ?? Infinity));
      for (const c of v.action.chunks) {
        const st = c.steps;
        const rc = recChunks.get(c.name);
        const predicted =
          rc?.predicted !== undefined
            ? `${cell(rc.predictedStart ?? 0)} → ${cell((rc.predictedStart ?? 0) + rc.predicted)}`
            : '–';
        const actual =
          rc?.startedAt !== undefined && rc?.endedAt !== undefined && Number.isFinite(firstStart)
            ? `${cell((rc.startedAt - firstStart) / 1000)} → ${cell((rc.endedAt - firstStart) / 1000)}`
            : '–';
        L.push(
          `| ${s.title} | ${runName(v)} | ${c.name} | ${c.nodes} | ${cell(c.start, 2)} | ${cell(c.end, 2)} | ${cell(st.imports, 2)} | ${cell(st.loadParse, 2)} | ${cell(st.selection, 2)} | ${cell(st.cache, 2)} | ${cell(st.nodes, 2)} | ${cell(st.exit, 2)} | ${cell(rc?.startup ?? c.startupToFirstNode, 2)} | ${predicted} | ${actual} |`,
        );
      }
    }
  }
  L.push('');
  for (const s of res.shapes) {
    for (const v of s.variants.filter((/** @type {any} */ x) => x.action?.plan))
      L.push(
        `- ${s.title}, ${runName(v)}: \`${v.action.plan}\`${v.action.chunkPlan.length ? ` — ${v.action.chunkPlan.join('; ')}` : ''}${v.action.timingsLine ? ` — ${v.action.timingsLine}` : ''}`,
      );
  }
  const fc = res.fixedCosts;
  if (fc && !fc.error) {
    L.push('', '## Fixed costs', '');
    L.push(
      `On the ${fc.project}, one trivial node (a seed) built with the action's chunk flags as a dbt subprocess; ${FIXED_REPS} repetitions, the minimum counts (the machine is shared).`,
      '',
    );
    L.push('| Measure | Runs (s) | Min (s) |', '|---|---|---:|');
    L.push(`| \`dbt parse\`, cold (no target/) | ${fc.parse.join(', ')} | ${fc.parseMin} |`);
    L.push(
      `| chunk start-up, cold: \`dbt build --select <seed>\` without a saved parse | ${fc.coldChunk.join(', ')} | ${fc.coldChunkMin} |`,
    );
    L.push(
      `| chunk start-up with the shared parse: \`dbt --partial-parse-file-path … build --select <seed>\` | ${fc.warmChunk.join(', ')} | ${fc.warmChunkMin} |`,
    );
    if (fc.warning) L.push('', `Warning: ${fc.warning}.`);
  } else if (fc?.error) L.push('', '## Fixed costs', '', fc.error);
  const p = res.plan50k;
  if (p) {
    L.push('', `## Planning ${planNodes.toLocaleString('en')} nodes`, '');
    if (p.error) L.push(p.error);
    else
      L.push(
        `src/plan bundled with ncc, run in a child Node process on a synthetic manifest (${p.nodes} runnable nodes: 1 model : 3 tests, 20 tags × 10 layers, 1 in 3 tests with two parents; ${p.manifestMB} MB of JSON) with a timings file for every node, ${p.chunksAsked} chunks allowed, ${p.threads} thread(s) each. Best of 2: read+parse manifest ${p.readManifest} s; buildPlanGraph ${p.graph} s; timings ${p.timings} s; planChunks ${p.planChunks} s → ${p.chunks} chunk(s). Peak RSS ${p.maxRssMB} MB. \`${p.planLine}\``,
      );
  }
  L.push('');
  return L.join('\n');
}

/**
 * Writes <out>/latest.md and <out>/latest.json (without the bulky per-process details) and returns the Markdown.
 * @param {string} out
 * @param {any} res
 */
export function writeReport(out, res) {
  const lean = JSON.parse(
    JSON.stringify(res, (k, v) =>
      k === 'procs' ||
      k === 'resultsFiles' ||
      k === 'single' ||
      k === 'repeats' ||
      (k === 'manifest' && typeof v === 'string')
        ? undefined
        : v,
    ),
  );
  const md = markdown(res);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.md'), md);
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(lean, null, 2)}\n`);
  return md;
}
