// parallel-dbt.json, the action's own record of a run, written beside the merged results: the plan, the machine
// model and what each chunk really did, for people reading a slow run, for the matrix report (a shard's retried
// nodes) and for the benchmark. The one owner of the format: its type, building and writing it, reading it back.
//
// Importable as it is, without a build: Node 24 runs this file directly (type stripping), so it uses only erasable
// TypeScript, and every import but node:* is `import type` (erased; a value import of '../x.js' would not resolve,
// there is no .js beside the .ts). The bench (plain JS, checked by `npm run typecheck:bench`) loads it with
//   /** @type {typeof import('../src/flow/run-record.js')} */
//   const { readRunRecord } = await import(pathToFileURL(join(ROOT, 'src/flow/run-record.ts')).href);
// and test/run-record.test.ts checks that a plain `node` can.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../plan/chunks.js';
import type { Budget } from '../plan/budget.js';
import type { Machine, ShapeChoice } from '../plan/shape.js';
import type { StopReason } from '../run/stop.js';
import type { ChunkReport } from '../run/scheduler.js';
import type { ChunkRun } from '../run/execute.js';
import type { PoolCalibration, PoolGrowth } from '../run/share.js';
import type { Prepared } from './prepare.js';

export const RUN_RECORD_FILE = 'parallel-dbt.json';

/** parallel-dbt.json. Times are epoch milliseconds (startedAt, firstNodeAt, endedAt) or seconds (the rest). */
export interface RunRecord {
  /** The matrix shard this job ran (mode run). */
  shard?: string;
  runPath: 'fork' | 'subprocess';
  runPathReason: string;
  machine: Machine;
  /** Every processes × threads shape tried, with its predicted makespan (none when groups or one process decided). */
  shapes?: { shape: Budget; makespan: number }[];
  oneProcessMakespan?: number;
  /** Seconds from the first chunk's start to the last chunk's end (none when no chunk ran). */
  actualMakespan?: number;
  parallel: number;
  threads: number;
  parseSeconds: number;
  /** When the action's work began (epoch ms): the phases below count from it. */
  startedAt?: number;
  /** When the parse and the selection ended (epoch ms). */
  parsedAt?: number;
  /** When the plan was made (epoch ms): the chunks start after it. */
  plannedAt?: number;
  wallSeconds: number;
  predictedMakespan: number;
  criticalPath: number;
  totalWork: number;
  /** Why the run stopped early, if it did. */
  stop?: StopReason;
  /**
   * A pooled run: the node slots its workers shared, how many took nodes from the start, and each growth (epoch ms
   * `at`, the workers taking nodes from then on, and the load in cores that made a worker ask for company); its
   * makespan predicted again once a share of its nodes had ended (calibration).
   */
  pool?: { slots: number; active: number; growth: PoolGrowth[]; calibration?: PoolCalibration };
  /**
   * dbt's CPU seconds per node as this run measured it (forked workers past their start-ups, run/execute.ts
   * cpuPerNodeOf); the merged run_results.json carries it for the next run's machine model.
   */
  cpuPerNode?: number;
  /** The rest of the machine's CPU per CPU-second of the workers' while the chunks ran (otherCpuShareOf). */
  otherCpuShare?: number;
  chunks: RecordedChunk[];
}

export interface RecordedChunk {
  index: number;
  name: string;
  /** How many nodes the chunk was planned with. */
  nodes: number;
  dependsOn: number[];
  predictedStart?: number;
  predicted: number;
  startedAt?: number;
  /** When the chunk's dbt announced its first node. */
  firstNodeAt?: number;
  endedAt?: number;
  /** Each dbt invocation of the chunk (batches, retries), in order. */
  processes: RecordedProcess[];
  /** Nodes that ran more than once, with the status of every attempt. */
  retried: { uid: string; statuses: string[] }[];
  /** CPU seconds of its dbt processes and of their start-ups, where measured (forked workers). */
  cpu?: { seconds: number; startup: number };
}

export interface RecordedProcess {
  attempt: number;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  seconds: number;
  targetPath: string;
  logPath: string;
}

/** What a run record is made from. */
export interface RunFacts {
  plan: Plan;
  budget: Budget;
  chunks: ChunkRun[];
  parseSeconds: number;
  startedAt?: number;
  parsedAt?: number;
  plannedAt?: number;
  wallSeconds: number;
  actualMakespan?: number;
  stop?: StopReason;
  shard?: string;
  runPath: Prepared['runPath'];
  machine: Machine;
  choice?: ShapeChoice;
  /** A pooled run's growth (run/execute.ts Execution.growth). */
  growth?: PoolGrowth[];
  /** A pooled run's calibration (run/execute.ts Execution.calibration). */
  calibration?: PoolCalibration;
  cpuPerNode?: number;
  otherCpuShare?: number;
}

/** Seconds from the first chunk's start to the last chunk's end, when any ran (dbt's own elapsed_time). */
export function executionSpan(reports: ChunkReport[]): number | undefined {
  const starts = reports.map((c) => c.startedAt).filter((x): x is number => x !== undefined);
  const ends = reports.map((c) => c.endedAt).filter((x): x is number => x !== undefined);
  return starts.length > 0 && ends.length > 0 ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
}

/** The record of a run. */
export function runRecordOf(r: RunFacts): RunRecord {
  return {
    shard: r.shard,
    runPath: r.runPath.kind,
    runPathReason: r.runPath.why,
    machine: r.machine,
    shapes: r.choice?.tried,
    oneProcessMakespan: r.choice?.oneProcessMakespan,
    actualMakespan: r.actualMakespan,
    parallel: r.budget.parallel,
    threads: r.budget.threads,
    parseSeconds: r.parseSeconds,
    startedAt: r.startedAt,
    parsedAt: r.parsedAt,
    plannedAt: r.plannedAt,
    wallSeconds: r.wallSeconds,
    predictedMakespan: r.plan.makespan,
    criticalPath: r.plan.criticalPath,
    totalWork: r.plan.totalWork,
    stop: r.stop,
    pool:
      r.plan.pooled !== undefined
        ? {
            slots: r.plan.pooled.slots,
            active: r.plan.pooled.active,
            growth: r.growth ?? [],
            ...(r.calibration !== undefined ? { calibration: r.calibration } : {}),
          }
        : undefined,
    cpuPerNode: r.cpuPerNode,
    otherCpuShare: r.otherCpuShare,
    chunks: r.chunks.map((c) => ({
      index: c.chunk.index,
      name: c.chunk.name,
      nodes: c.chunk.nodes.length,
      dependsOn: c.chunk.dependsOn,
      predictedStart: c.chunk.predictedStart,
      predicted: c.chunk.predicted,
      startedAt: c.startedAt,
      firstNodeAt: c.firstNodeAt,
      endedAt: c.endedAt,
      processes: c.invocations.map((i) => ({
        attempt: i.attempt,
        exitCode: i.outcome.exitCode,
        signal: i.outcome.signal,
        timedOut: i.outcome.timedOut,
        seconds: i.outcome.durationMs / 1000,
        targetPath: i.targetPath,
        logPath: i.logPath,
      })),
      retried: c.retried,
      cpu: c.cpu,
    })),
  };
}

/** Writes dir/parallel-dbt.json; returns its path. */
export function writeRunRecord(dir: string, record: RunRecord): string {
  const path = join(dir, RUN_RECORD_FILE);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

/** A parallel-dbt.json that cannot be read, or is not one: the message names the file and what is wrong. */
export class RunRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunRecordError';
  }
}

/** Reads and checks a parallel-dbt.json; a file that cannot be read or is not one throws one RunRecordError line. */
export function readRunRecord(path: string): RunRecord {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RunRecordError(`cannot read ${path} (${firstLine(e)})`);
  }
  return parseRunRecord(text, path);
}

/** A parallel-dbt.json's text, checked; `source` names it in the error. */
export function parseRunRecord(text: string, source: string): RunRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RunRecordError(`${source} is not JSON (${firstLine(e)})`);
  }
  const why = recordProblem(doc);
  if (why !== undefined) throw new RunRecordError(`${source} is not a parallel-dbt run record (${why})`);
  return doc as RunRecord;
}

/** What is wrong with a parsed record, if anything: every field of RunRecord with its type. */
function recordProblem(d: unknown): string | undefined {
  if (!isObject(d)) return 'not an object';
  if (d.runPath !== 'fork' && d.runPath !== 'subprocess') return '"runPath" is not fork or subprocess';
  if (typeof d.runPathReason !== 'string') return '"runPathReason" is not a string';
  if (!isObject(d.machine)) return '"machine" is not an object';
  for (const k of [
    'parallel',
    'threads',
    'parseSeconds',
    'wallSeconds',
    'predictedMakespan',
    'criticalPath',
    'totalWork',
  ] as const)
    if (!isNumber(d[k])) return `"${k}" is not a number`;
  for (const k of ['oneProcessMakespan', 'actualMakespan', 'startedAt', 'parsedAt', 'plannedAt'] as const)
    if (d[k] !== undefined && !isNumber(d[k])) return `"${k}" is not a number`;
  if (d.shard !== undefined && typeof d.shard !== 'string') return '"shard" is not a string';
  if (
    d.shapes !== undefined &&
    !(Array.isArray(d.shapes) && d.shapes.every((s) => isObject(s) && isObject(s.shape) && isNumber(s.makespan)))
  )
    return '"shapes" is not a list of shapes';
  if (
    d.stop !== undefined &&
    !(isObject(d.stop) && typeof d.stop.kind === 'string' && typeof d.stop.message === 'string')
  )
    return '"stop" is not a stop reason';
  if (
    d.pool !== undefined &&
    !(
      isObject(d.pool) &&
      isNumber(d.pool.slots) &&
      isNumber(d.pool.active) &&
      Array.isArray(d.pool.growth) &&
      d.pool.growth.every((g) => isObject(g) && isNumber(g.at) && isNumber(g.workers) && isNumber(g.load)) &&
      (d.pool.calibration === undefined ||
        (isObject(d.pool.calibration) &&
          isNumber(d.pool.calibration.at) &&
          isNumber(d.pool.calibration.workers) &&
          isNumber(d.pool.calibration.nodes) &&
          isNumber(d.pool.calibration.cpuPerNode) &&
          isNumber(d.pool.calibration.predictedMakespan)))
    )
  )
    return '"pool" is not a pool';
  if (!Array.isArray(d.chunks)) return 'no "chunks" list';
  for (const [i, c] of d.chunks.entries()) {
    const why = chunkProblem(c);
    if (why !== undefined) return `chunks[${i}]: ${why}`;
  }
  return undefined;
}

function chunkProblem(c: unknown): string | undefined {
  if (!isObject(c)) return 'not an object';
  if (typeof c.name !== 'string') return '"name" is not a string';
  for (const k of ['index', 'nodes', 'predicted'] as const) if (!isNumber(c[k])) return `"${k}" is not a number`;
  for (const k of ['predictedStart', 'startedAt', 'firstNodeAt', 'endedAt'] as const)
    if (c[k] !== undefined && !isNumber(c[k])) return `"${k}" is not a number`;
  if (!(Array.isArray(c.dependsOn) && c.dependsOn.every(isNumber))) return '"dependsOn" is not a list of numbers';
  if (!(
    Array.isArray(c.processes) &&
    c.processes.every(
      (p) => isObject(p) && isNumber(p.attempt) && isNumber(p.seconds) && typeof p.timedOut === 'boolean',
    )
  ))
    return '"processes" is not a list of processes';
  if (!(
    Array.isArray(c.retried) &&
    c.retried.every(
      (r) =>
        isObject(r) &&
        typeof r.uid === 'string' &&
        Array.isArray(r.statuses) &&
        r.statuses.every((s) => typeof s === 'string'),
    )
  ))
    return '"retried" is not a list of retried nodes';
  return undefined;
}

// The checks below repeat dbt/json.ts's on purpose: this file imports no value of the project (see the top).
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** An error's first line (fs errors may come from another realm: not `instanceof Error`, still with a message). */
function firstLine(e: unknown): string {
  const m = typeof e === 'object' && e !== null && 'message' in e ? e.message : e;
  return String(m).split('\n')[0];
}
