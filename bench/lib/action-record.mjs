// parallel-dbt.json, the action's record of a run (written by src/flow/run-record.ts beside the merged results), and
// what the benchmark takes from it: the action's phases in seconds after its spawn, each chunk's start-up, the plan
// against what happened. The record is read in one function, readActionRecord; nothing here reads the action's log.
import { existsSync } from 'node:fs';
import { median, round } from './util.mjs';

/** Predicted ÷ actual makespan outside 1 ± this is flagged: a run with timings (issue 17: ±25 %)… */
export const PREDICTION_TOLERANCE = 0.25;
/** …and a first run, weighed by estimates (issue 17: ±40 %). */
export const PREDICTION_TOLERANCE_NO_TIMINGS = 0.4;
/** @param {boolean} timings */
export const predictionTolerance = (timings) => (timings ? PREDICTION_TOLERANCE : PREDICTION_TOLERANCE_NO_TIMINGS);

/**
 * One chunk in parallel-dbt.json (times: epoch ms).
 * @typedef {object} RecordedChunk
 * @property {number} index                1-based, the plan's order
 * @property {string} name
 * @property {number} nodes                how many
 * @property {number[]} [dependsOn]        indexes of the chunks that had to finish first
 * @property {number} [predictedStart]     seconds after the first chunk's start
 * @property {number} [predicted]          seconds from its start to its end
 * @property {number} [startedAt]
 * @property {number} [firstNodeAt]        its first node START (the action before the worker host: absent)
 * @property {number} [endedAt]
 * @property {{ attempt: number, exitCode?: number | null, signal?: string | null, timedOut?: boolean, seconds: number, targetPath: string, logPath: string }[]} [processes]
 * @property {{ uid: string, statuses: string[] }[]} [retried]
 */

/**
 * parallel-dbt.json: the fields the benchmark reads (src/flow/run-record.ts owns the format and writes more).
 * @typedef {object} ActionRecord
 * @property {'fork' | 'subprocess'} [runPath]   absent: the action before the worker host (always subprocesses)
 * @property {string} [runPathReason]
 * @property {import('../../src/plan/shape.js').Machine} [machine]
 * @property {number} [parallel]
 * @property {number} [threads]
 * @property {number} [parseSeconds]       dbt parse + selection (dbt ls)
 * @property {number} [startedAt]          epoch ms: the action's work began
 * @property {number} [parsedAt]           epoch ms: the parse and the selection ended
 * @property {number} [plannedAt]          epoch ms: the plan was made
 * @property {number} [wallSeconds]
 * @property {number} [predictedMakespan]
 * @property {{ slots: number, active: number, growth: { at: number, workers: number, load: number, cpuPerNode?: number, predictedMakespan?: number }[], calibration?: { at: number, workers: number, nodes: number, cpuPerNode: number, predictedMakespan: number } }} [pool]
 * @property {number} [cpuPerNode]        dbt CPU s per node its workers measured past their start-ups
 * @property {number} [criticalPath]
 * @property {number} [totalWork]
 * @property {RecordedChunk[]} chunks
 */

/**
 * The action's run record, or undefined when the run left none. The one reader of parallel-dbt.json in bench/: it
 * goes through the format's owner, src/flow/run-record.ts (Node 24 runs that .ts file as it is: see its header), so
 * a record the action writes and the bench reads can never drift apart; a file that is not a record throws its one
 * line. ActionRecord above is the part of it the report reads (older committed results lack some fields).
 * @param {string} file
 * @returns {Promise<ActionRecord | undefined>}
 */
export async function readActionRecord(file) {
  if (!existsSync(file)) return undefined;
  /** @type {typeof import('../../src/flow/run-record.js')} */
  const owner = await import(new URL('../../src/flow/run-record.ts', import.meta.url).href);
  return owner.readRunRecord(file);
}

/**
 * The plan as the action logged it, from the record: src/plan's own renderPlan over the recorded chunks (their node
 * counts stand for the node lists), so the text is the action's "Plan: …" line and its chunk lines.
 * @param {ActionRecord} rec
 * @param {Pick<import('./plan-lib.mjs').PlanLib, 'renderPlan'>} describe
 * @returns {{ plan: string, chunkPlan: string[] } | undefined}
 */
function recordedPlan(rec, describe) {
  const { predictedMakespan, criticalPath, totalWork, parallel, threads } = rec;
  if (
    predictedMakespan === undefined ||
    criticalPath === undefined ||
    totalWork === undefined ||
    parallel === undefined ||
    threads === undefined
  )
    return undefined;
  if (rec.chunks.some((c) => c.predicted === undefined)) return undefined;
  /** @type {import('../../src/plan/chunks.js').Plan} */
  const plan = {
    makespan: predictedMakespan,
    criticalPath,
    totalWork,
    chunks: [...rec.chunks]
      .sort((a, b) => a.index - b.index)
      .map((c) => ({
        index: c.index,
        name: c.name,
        nodes: Array.from({ length: c.nodes }, () => ''),
        dependsOn: c.dependsOn ?? [],
        work: 0,
        predicted: c.predicted ?? 0,
        predictedStart: c.predictedStart,
      })),
  };
  const [first, ...rest] = describe.renderPlan(plan, parallel, threads, rec.machine).split('\n');
  return { plan: first, chunkPlan: rest.map((l) => l.trim()) };
}

/**
 * The action's phases, in seconds after its spawn, from its run record and the two moments the benchmark saw itself
 * (spawn and exit). What the record does not hold (when the plan was made; each chunk's steps inside dbt) stays
 * undefined, and the report shows "–".
 * @param {ActionRecord | undefined} rec
 * @param {{ spawnAt: number, exitAt: number, describe?: Pick<import('./plan-lib.mjs').PlanLib, 'renderPlan' | 'lowerBound'> }} o
 *   spawnAt: epoch ms of the action process's spawn; exitAt: seconds from spawn to its exit; describe: src/plan's
 *   renderPlan and lowerBound (the plan's text), when the bundle loaded
 */
export function actionPhases(rec, { spawnAt, exitAt, describe }) {
  /** @param {number | undefined} at epoch ms */
  const after = (at) => (at === undefined ? undefined : (at - spawnAt) / 1000);
  /** @param {number | undefined} a @param {number | undefined} b */
  const gap = (a, b) => (a !== undefined && b !== undefined ? round(b - a, 2) : undefined);
  const recorded = rec?.chunks ?? [];
  const starts = recorded.map((c) => c.startedAt).filter((x) => x !== undefined);
  const ends = recorded.map((c) => c.endedAt).filter((x) => x !== undefined);
  const firstChunkStart = starts.length ? after(Math.min(...starts)) : undefined;
  const parsed = after(rec?.parsedAt);
  const planned = after(rec?.plannedAt);
  const lastChunkEnd = ends.length ? after(Math.max(...ends)) : undefined;
  const chunks = recorded.map((c) => {
    const start = after(c.startedAt);
    const firstNode = after(c.firstNodeAt);
    // The steps inside a chunk's dbt (imports, loading the shared parse, selection, relation cache, nodes, exit)
    // are not in the record.
    return {
      name: c.name,
      nodes: c.nodes,
      start: round(start, 2),
      end: round(after(c.endedAt), 2),
      firstNode: round(firstNode, 2),
      startupToFirstNode: gap(start, firstNode),
      steps: {},
    };
  });
  const busy = recorded.reduce(
    (a, c) => a + (c.endedAt !== undefined && c.startedAt !== undefined ? (c.endedAt - c.startedAt) / 1000 : 0),
    0,
  );
  const span = lastChunkEnd !== undefined && firstChunkStart !== undefined ? lastChunkEnd - firstChunkStart : undefined;
  const post = lastChunkEnd !== undefined ? exitAt - lastChunkEnd : undefined;
  const text = rec && describe ? recordedPlan(rec, describe) : undefined;
  const predicted =
    rec?.predictedMakespan !== undefined &&
    rec.criticalPath !== undefined &&
    rec.totalWork !== undefined &&
    rec.parallel !== undefined &&
    rec.threads !== undefined
      ? {
          makespan: rec.predictedMakespan,
          criticalPath: rec.criticalPath,
          work: rec.totalWork,
          processes: rec.parallel,
          threads: rec.threads,
          lowerBound: describe
            ? describe.lowerBound(
                {
                  chunks: [],
                  makespan: rec.predictedMakespan,
                  criticalPath: rec.criticalPath,
                  totalWork: rec.totalWork,
                },
                rec.parallel,
                rec.threads,
              )
            : undefined,
        }
      : undefined;
  return {
    plan: text?.plan,
    chunkPlan: text?.chunkPlan ?? [],
    predicted,
    phases: {
      parsed: round(parsed, 2),
      planned: round(planned, 2),
      firstChunkStart: round(firstChunkStart, 2),
      lastChunkEnd: round(lastChunkEnd, 2),
      exit: round(exitAt, 2),
    },
    breakdown: {
      // From the spawn (Node's start, inputs, the worker host's imports, deps) to the end of the selection; older
      // records have only dbt's own parse + selection seconds.
      startToParsed: round(parsed ?? rec?.parseSeconds, 2),
      parsedToPlan: gap(parsed, planned),
      planToFirstChunk: gap(planned, firstChunkStart),
      chunksRunning: round(span, 2),
      mergeAndReport: round(post, 2),
    },
    fixedCost: firstChunkStart !== undefined && post !== undefined ? round(firstChunkStart + post, 2) : undefined,
    chunks,
    /** Σ chunk durations / (last chunk end − first chunk start): how many chunks ran at once, on average. */
    concurrency: span ? round(busy / span, 2) : undefined,
  };
}

/**
 * The figures of an action row from its run record: the processes × threads it ran, its run path, predicted
 * against actual makespan, each chunk's start-up (firstNodeAt − startedAt) and the first node START after spawn.
 * Every value came from the record ('json' in the *Source fields, kept for latest.json's readers); without a
 * record (source 'none') they are undefined. The predicted makespan is the plan's, or, for a pool that grew, the one
 * it predicted again when it last grew (for the shape it grew to, from what it had measured: src/plan/shape.ts
 * predictGrown); `planPredicted` keeps the plan's.
 * @param {ActionRecord | undefined} rec
 * @param {number} spawnAt   epoch ms of the action process's spawn
 * @param {{ timings?: boolean }} [o]   the run had timings (the tolerance is ±25 %; without, ±40 %)
 */
export function recordFigures(rec, spawnAt, o = {}) {
  // A spare (a worker forked ahead, beyond the pool's first active ones) waits on purpose until the pool grows to
  // take it in (chunk index k is rank k − 1: the growth to k workers admits it). Its start-up counts from then.
  const active = rec?.pool?.active;
  /** @param {string} name */
  const admittedAt = (name) => {
    const k = Number(/(\d+)$/.exec(name)?.[1]);
    if (active === undefined || !Number.isFinite(k) || k <= active) return undefined;
    return (rec?.pool?.growth ?? []).find((g) => g.workers >= k)?.at;
  };
  const chunks = (rec?.chunks ?? []).map((c) => {
    /** @type {Record<string, string>} */
    const src = {};
    for (const k of /** @type {const} */ (['startedAt', 'endedAt', 'firstNodeAt']))
      if (c[k] !== undefined && c[k] !== null) src[k] = 'json';
    return {
      name: c.name,
      nodes: c.nodes,
      startedAt: c.startedAt ?? undefined,
      endedAt: c.endedAt ?? undefined,
      firstNodeAt: c.firstNodeAt ?? undefined,
      admittedAt: admittedAt(c.name),
      predicted: c.predicted,
      predictedStart: c.predictedStart,
      src,
    };
  });
  const starts = chunks.map((c) => c.startedAt).filter((x) => x !== undefined);
  const ends = chunks.map((c) => c.endedAt).filter((x) => x !== undefined);
  const firsts = chunks.map((c) => c.firstNodeAt).filter((x) => x !== undefined);
  const actual = starts.length && ends.length ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
  const planPredicted = typeof rec?.predictedMakespan === 'number' ? rec.predictedMakespan : undefined;
  // The last prediction made while it ran: a growth's, or the calibration's (once a share of its nodes had ended).
  /** @type {{ at: number, predictedMakespan: number, kind: 'growth' | 'calibration' }[]} */
  const repredictions = [
    ...(rec?.pool?.growth ?? []).flatMap((g) =>
      typeof g.predictedMakespan === 'number'
        ? [{ at: g.at, predictedMakespan: g.predictedMakespan, kind: /** @type {const} */ ('growth') }]
        : [],
    ),
    ...(rec?.pool?.calibration ? [{ ...rec.pool.calibration, kind: /** @type {const} */ ('calibration') }] : []),
  ].sort((a, b) => a.at - b.at);
  const again = repredictions.at(-1);
  const predicted = again?.predictedMakespan ?? planPredicted;
  const tolerance = predictionTolerance(o.timings ?? true);
  const started = chunks.filter((c) => c.firstNodeAt !== undefined && c.startedAt !== undefined);
  const rawStartups = started.map((c) => ((c.firstNodeAt ?? 0) - (c.startedAt ?? 0)) / 1000);
  const startups = started.map(
    (c) => Math.max(0, (c.firstNodeAt ?? 0) - Math.max(c.startedAt ?? 0, c.admittedAt ?? 0)) / 1000,
  );
  const spares = started.filter((c) => c.admittedAt !== undefined).length;
  /** @param {string} k */
  const srcOf = (k) => [...new Set(chunks.map((c) => c.src[k]).filter(Boolean))].join('+') || undefined;
  const ratio = predicted !== undefined && actual ? predicted / actual : undefined;
  // Idle tail: from the first chunk to end to the last, as a share of the makespan (0 for one chunk).
  const idleTail = ends.length > 1 && actual ? (Math.max(...ends) - Math.min(...ends)) / 1000 / actual : undefined;
  return {
    source: rec ? 'parallel-dbt.json' : 'none',
    runPath: rec?.runPath,
    runPathReason: rec?.runPathReason,
    parallel: rec?.parallel,
    threads: rec?.threads,
    parseSeconds: rec?.parseSeconds,
    wallSeconds: rec?.wallSeconds,
    predictedMakespan: round(predicted, 2),
    planPredicted: round(planPredicted, 2),
    /** Seconds into the run when a grown pool (or a calibration) predicted again (undefined: the plan's prediction). */
    predictedAgainAt:
      again !== undefined && starts.length ? round((again.at - Math.min(...starts)) / 1000, 1) : undefined,
    /** What predicted again: 'growth' or 'calibration'. */
    predictedAgainBy: again?.kind,
    predictedSource: predicted !== undefined ? 'json' : undefined,
    predictionTolerance: tolerance,
    cpuPerNode: rec?.cpuPerNode,
    actualMakespan: round(actual, 2),
    actualSource: srcOf('startedAt'),
    predictedOverActual: round(ratio, 2),
    predictionOk: ratio === undefined ? undefined : Math.abs(ratio - 1) <= tolerance,
    idleTail: round(idleTail, 2),
    chunkStartup: round(median(startups), 2),
    chunkStartups: startups.map((x) => round(x, 2)),
    /** spawn → first node START of each chunk, a spare's wait for the growth included */
    chunkStartupsFromSpawn: rawStartups.map((x) => round(x, 2)),
    /** how many of the chunks were spares, their start-up counted from the growth that admitted them */
    spareChunks: spares,
    chunkStartupSource: srcOf('firstNodeAt'),
    firstNodeStart: firsts.length ? round((Math.min(...firsts) - spawnAt) / 1000, 2) : undefined,
    chunks: chunks.map(({ src, ...c }) => ({
      ...c,
      startup:
        c.firstNodeAt !== undefined && c.startedAt !== undefined
          ? round((c.firstNodeAt - c.startedAt) / 1000, 2)
          : undefined,
      src,
    })),
  };
}
