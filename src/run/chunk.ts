// Runs one chunk: one dbt process (or several in a row when the node list would not fit in one argv, or when
// errored nodes are retried) with its own target and log folders, then a result for every node it was given.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argvBytes, chunkArgv, type ProjectArgs, type RunFlags } from '../dbt/argv.js';
import type { DbtLauncher, DbtRunOutcome, PoolSpec } from '../dbt/process.js';
import { nodeResultOf, type DbtLogEvent, type NodeEventResult } from '../dbt/events.js';
import {
  leftRunResults,
  selectionStateFile,
  syntheticResult,
  type RunResult,
  type RunResultsArtifact,
} from '../dbt/run-results.js';
import type { SelectorIndex } from './selectors.js';
import type { Blocked } from './scheduler.js';
import { blocksDownstream, statusesOf } from '../dbt/statuses.js';
import { skipsInterrupted, stopReasonOf } from './stop.js';
import type { RunShare, StatusFeed } from './share.js';
import { schemaCreatedMeanwhile, withoutTraceback } from '../dbt/errors.js';

/** How many times a chunk's dbt starts when another session keeps creating one of its schemas at once. */
const SCHEMA_RACE_TRIES = 3;
/** Stay well under Linux's ARG_MAX (2 MiB for argv + environment). */
export const ARGV_BUDGET_BYTES = 1024 * 1024;

export interface ChunkJob {
  name: string;
  /** Nodes to run, in a topological order. */
  nodes: string[];
  dir: string;
}

/** What every dbt invocation of a chunk is started with. */
export interface ChunkDbt {
  /** Starts one dbt invocation: a `dbt` process, or a worker forked from the parsed host. */
  launch: DbtLauncher;
  command: string;
  project: ProjectArgs;
  cwd: string;
  env: Record<string, string | undefined>;
  partialParseFile?: string;
  threads?: number;
  state?: string;
  defer: boolean;
  flags?: RunFlags;
  /** Written into the selection state file (dbt checks the artifact's schema, not this value). */
  dbtVersion?: string;
}

/** How long a chunk may run, and what is tried again. */
export interface ChunkLimits {
  timeoutMs?: number;
  /** After SIGINT, how long dbt gets before it is killed. */
  graceMs?: number;
  /** Extra attempts for nodes whose status is in retryOn. */
  retries?: number;
  retryOn?: Set<string>;
}

export interface ChunkContext {
  dbt: ChunkDbt;
  limits: ChunkLimits;
  /** Aborting interrupts dbt (SIGINT); its reason (a StopReason) says why. */
  signal?: AbortSignal;
  /** Aborting kills dbt at once. */
  killSignal?: AbortSignal;
  /** Parents of each node (to find what a retried node's failure skipped, and what a gated node waits for). */
  parentsOf?: (uid: string) => string[];
  selectors: SelectorIndex;
  onEvent?: (chunk: string, ev: DbtLogEvent) => void;
  /** What a forked worker says of itself on stderr ("parallel-dbt: …" lines: a relation it could not cache, nodes it released). */
  onWorkerLine?: (chunk: string, line: string) => void;
  /** What went as it should after a hitch (a worker's "parallel-dbt: note: …" lines; a chunk run again). */
  onNote?: (chunk: string, line: string) => void;
  /** A node's final status, as soon as dbt's result event announces it. */
  onNodeStatus?: (uid: string, status: string) => void;
  /**
   * Fork path, a run of several chunks: every invocation takes part in the run as one dbt would (run/share.ts); in a
   * gated plan, nodes whose parents run in other chunks wait for them inside dbt. `feed` is the run's status board.
   */
  share?: { run: RunShare; feed: StatusFeed; onRunning?: (startupCpu: number | undefined) => void };
}

export interface Invocation {
  targetPath: string;
  logPath: string;
  runResults?: RunResultsArtifact;
  outcome: DbtRunOutcome;
  attempt: number;
}

export interface ChunkOutcome {
  results: RunResult[];
  invocations: Invocation[];
  /** Nodes that ran more than once, with the status of every attempt. */
  retried: { uid: string; statuses: string[] }[];
  /** dbt failed before running any node (bad profile, unreachable warehouse): its own error, once. */
  fatal?: string;
  durationMs: number;
}

/** Splits nodes (kept in order) into batches whose argv fits the budget. */
export function batchesFor(ctx: ChunkContext, job: ChunkJob): string[][] {
  const base = argvBytes(argvOf(ctx.dbt, pathsOf(job, '-00-retry0'), [])) + envBytes(ctx.dbt.env);
  const batches: string[][] = [];
  let cur: string[] = [];
  let size = base;
  for (const uid of job.nodes) {
    // Only unit tests take argv space: every other node is selected through the selection state file.
    const bytes = ctx.selectors.isUnitTest(uid) ? argvBytes([ctx.selectors.exactSelectorOf(uid)]) : 0;
    if (cur.length > 0 && size + bytes > ARGV_BUDGET_BYTES) {
      batches.push(cur);
      cur = [];
      size = base;
    }
    cur.push(uid);
    size += bytes;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

/** The target, log and selection-state folders of one invocation (`tag` tells batches and retries apart). */
function pathsOf(job: ChunkJob, tag: string): { targetPath: string; logPath: string; selectionState: string } {
  return {
    targetPath: join(job.dir, `target${tag}`),
    logPath: join(job.dir, `logs${tag}`),
    selectionState: join(job.dir, `selection${tag}`),
  };
}

/** The argv of one invocation: the chunk's dbt settings, its folders, and the unit tests it selects by name. */
function argvOf(d: ChunkDbt, paths: ReturnType<typeof pathsOf>, select: string[]): string[] {
  return chunkArgv({
    ...d.project,
    command: d.command,
    ...paths,
    partialParseFile: d.partialParseFile,
    threads: d.threads,
    select,
    exclude: [],
    state: d.state,
    defer: d.defer,
    flags: d.flags,
  });
}

function envBytes(env: Record<string, string | undefined>): number {
  return Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v ?? '') + 2 + 8, 0);
}

export async function runChunk(ctx: ChunkContext, job: ChunkJob, blocked: Blocked): Promise<ChunkOutcome> {
  const started = Date.now();
  rmSync(job.dir, { recursive: true, force: true });
  mkdirSync(job.dir, { recursive: true });
  const byUid = new Map<string, RunResult>();
  const invocations: Invocation[] = [];
  const history = new Map<string, string[]>();
  const batches = batchesFor(ctx, job);
  const retries = ctx.limits.retries ?? 0;
  let fatal: string | undefined;

  // A status settled here, before or instead of an invocation, is final: the other chunks hear of it now (a node
  // of theirs may wait for it), not when this chunk ends.
  const settle = (uid: string, r: RunResult): void => {
    byUid.set(uid, r);
    ctx.onNodeStatus?.(uid, r.status);
  };
  for (const [i, planned] of batches.entries()) {
    if (fatal !== undefined) {
      for (const uid of planned) settle(uid, syntheticResult(uid, 'skipped', `Not run: dbt could not run (${fatal})`));
      continue;
    }
    // Nodes downstream of a failure in an earlier batch (or chunk) are skipped, as dbt would.
    let batch: string[] = [];
    for (const uid of planned) {
      const why = blocked(uid, byUid);
      if (why !== undefined) settle(uid, syntheticResult(uid, 'skipped', why));
      else batch.push(uid);
    }
    for (let attempt = 0; batch.length > 0; attempt++) {
      const stop = stopReasonOf(ctx.signal);
      if (stop !== undefined) {
        for (const uid of batch)
          if (!byUid.has(uid) || attempt > 0) settle(uid, syntheticResult(uid, 'skipped', stop.message));
        break;
      }
      const last = attempt >= retries;
      const tag = `${batches.length > 1 ? `-${String(i + 1).padStart(2, '0')}` : ''}${attempt > 0 ? `-retry${attempt}` : ''}`;
      const statusOf = (uid: string): string | undefined => byUid.get(uid)?.status ?? ctx.share?.feed.statusOf(uid);
      let inv = await invoke(ctx, job, batch, tag, attempt, last, statusOf);
      // Another session created one of dbt's schemas at the same time (schemaCreatedMeanwhile): no node ran, and run
      // again dbt finds the schema. A forked worker does this inside dbt (worker_host.py retry_schema_races), where a
      // shared run's start must not be run twice.
      for (let again = 1; again < SCHEMA_RACE_TRIES && ctx.share === undefined; again++) {
        if (inv.fatal === undefined || !schemaCreatedMeanwhile(inv.fatal) || stopReasonOf(ctx.signal) !== undefined)
          break;
        ctx.onNote?.(
          job.name,
          `another session created a schema at the same time as this dbt (${inv.fatal}); ran it again`,
        );
        invocations.push(inv.invocation);
        inv = await invoke(ctx, job, batch, `${tag}-schemas${again}`, attempt, last, statusOf);
      }
      invocations.push(inv.invocation);
      if (inv.fatal !== undefined) {
        fatal = inv.fatal;
        for (const [uid, r] of inv.results) byUid.set(uid, r);
        break;
      }
      for (const [uid, r] of inv.results) {
        byUid.set(uid, r);
        if (attempt > 0 || retries > 0) (history.get(uid) ?? history.set(uid, []).get(uid)!).push(r.status);
      }
      if (last || stopReasonOf(ctx.signal) !== undefined) break;
      batch = retrySet(batch, byUid, ctx);
    }
  }
  const retried = [...history].filter(([, s]) => s.length > 1).map(([uid, statuses]) => ({ uid, statuses }));
  return {
    results: job.nodes.map((u) => byUid.get(u)!).filter((r) => r !== undefined),
    invocations,
    retried,
    durationMs: Date.now() - started,
    fatal,
  };
}

/**
 * One worker of a pooled run (plan.pooled): its dbt selects every node of the run and takes ready ones from the run's
 * pool (worker_host.py WorkPool) while its threads are free. Its results are the nodes it claimed: those it reported,
 * and those its claims log holds (a worker that died keeps its claims: they end as errors, so that no other worker
 * waits for them). Nodes no worker claimed are the pool runner's (run/pool.ts). No retries: a pooled run has none.
 */
export async function runPoolWorker(ctx: ChunkContext, job: ChunkJob, pool: PoolSpec): Promise<ChunkOutcome> {
  const started = Date.now();
  rmSync(job.dir, { recursive: true, force: true });
  mkdirSync(job.dir, { recursive: true });
  if (stopReasonOf(ctx.signal) !== undefined) return { results: [], invocations: [], retried: [], durationMs: 0 };
  const inv = await invoke(ctx, job, job.nodes, '', 0, true, (uid) => ctx.share?.feed.statusOf(uid), pool);
  return {
    results: [...inv.results.values()],
    invocations: [inv.invocation],
    retried: [],
    durationMs: Date.now() - started,
    fatal: inv.fatal,
  };
}

/** The nodes a pooled worker claimed, in the order it claimed them (its claims log; empty when it claimed none). */
export function claimsOf(pool: PoolSpec): string[] {
  try {
    return readFileSync(join(pool.claims, `${pool.worker}.claims`), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** The nodes to run again: those whose status asks for a retry, and what their failure skipped in this chunk. */
function retrySet(batch: string[], byUid: Map<string, RunResult>, ctx: ChunkContext): string[] {
  const retryOn = ctx.limits.retryOn ?? new Set<string>(statusesOf('errored'));
  const again = new Set(batch.filter((u) => retryOn.has(byUid.get(u)?.status ?? '')));
  if (again.size === 0) return [];
  for (const u of batch) {
    if (again.has(u) || byUid.get(u)?.status !== 'skipped') continue;
    if ((ctx.parentsOf?.(u) ?? []).some((p) => again.has(p))) again.add(u);
  }
  return batch.filter((u) => again.has(u));
}

/** Per node of this invocation, its parents outside it (a gated node waits for them inside dbt). */
function waitsForOf(ctx: ChunkContext, batch: string[]): Record<string, string[]> {
  const inBatch = new Set(batch);
  const waitsFor: Record<string, string[]> = {};
  for (const uid of batch) {
    const outside = (ctx.parentsOf?.(uid) ?? []).filter((p) => !inBatch.has(p));
    if (outside.length > 0) waitsFor[uid] = outside;
  }
  return waitsFor;
}

async function invoke(
  ctx: ChunkContext,
  job: ChunkJob,
  batch: string[],
  tag: string,
  attempt: number,
  last: boolean,
  statusOf: (uid: string) => string | undefined,
  pool?: PoolSpec,
): Promise<{ invocation: Invocation; results: Map<string, RunResult>; fatal?: string }> {
  const paths = pathsOf(job, tag);
  const { targetPath, logPath, selectionState } = paths;
  const { timeoutMs, graceMs } = ctx.limits;
  mkdirSync(selectionState, { recursive: true });
  writeFileSync(
    join(selectionState, 'run_results.json'),
    selectionStateFile(
      batch.filter((u) => !ctx.selectors.isUnitTest(u)),
      ctx.dbt.dbtVersion ?? '1.8.0',
    ),
  );
  const unitTests = batch.filter((u) => ctx.selectors.isUnitTest(u)).map((u) => ctx.selectors.exactSelectorOf(u));
  const wanted = new Set(batch);
  const seen = new Map<string, NodeEventResult & { late: boolean }>();
  const t0 = Date.now();
  // A failure announced after dbt was told to stop is the interruption itself, not the node's own result.
  const interruptedNow = (): boolean =>
    ctx.signal?.aborted === true || (timeoutMs !== undefined && Date.now() - t0 >= timeoutMs);
  const argv = argvOf(ctx.dbt, paths, unitTests);
  const shared =
    ctx.share &&
    ctx.share.run.invocation(
      ctx.share.feed,
      ctx.share.run.nodeGates && pool === undefined ? waitsForOf(ctx, batch) : undefined,
      statusOf,
      ctx.share.onRunning,
      pool,
    );
  const outcome = await ctx.dbt.launch({
    share: shared?.share,
    argv,
    cwd: ctx.dbt.cwd,
    env: ctx.dbt.env,
    timeoutMs,
    graceMs,
    signal: ctx.signal,
    killSignal: ctx.killSignal,
    onEvent: (ev) => {
      const r = nodeResultOf(ev);
      if (r !== undefined && wanted.has(r.uid)) {
        const late = blocksDownstream(r.status) && interruptedNow();
        seen.set(r.uid, { ...r, late });
        // With a retry still to come, a failure is not final: only successes may release other chunks early.
        if (!late && (last || !blocksDownstream(r.status))) ctx.onNodeStatus?.(r.uid, r.status);
      }
      ctx.onEvent?.(job.name, ev);
    },
    onText: (line, stream) => {
      if (stream === 'stderr' && line.startsWith('parallel-dbt: note: '))
        ctx.onNote?.(job.name, line.slice('parallel-dbt: note: '.length));
      else if (stream === 'stderr' && line.startsWith('parallel-dbt: '))
        ctx.onWorkerLine?.(job.name, line.slice('parallel-dbt: '.length));
    },
  });
  shared?.ended();
  const runResults = leftRunResults(join(targetPath, 'run_results.json'));
  const results = new Map<string, RunResult>();
  for (const r of runResults?.results ?? []) if (wanted.has(r.unique_id)) results.set(r.unique_id, r);
  const stop = stopReasonOf(ctx.signal);
  const interrupted = outcome.timedOut || stop !== undefined;
  // Exit 2 with no run_results.json and no node event: dbt stopped before its first node (DbtException, e.g. a
  // profile or connection error). The same for every node, so it is reported once, not per node.
  const fatal =
    !interrupted &&
    outcome.signal === undefined &&
    (outcome.exitCode === 2 || outcome.spawnError !== undefined) &&
    runResults === undefined &&
    seen.size === 0
      ? fatalMessage(outcome)
      : undefined;
  const reason = missingReason(outcome, timeoutMs, stop?.message);
  // A pooled worker answers for the nodes it claimed, not for the whole run it selected.
  const answers = pool === undefined ? batch : [...new Set([...claimsOf(pool), ...seen.keys(), ...results.keys()])];
  for (const uid of answers) {
    const ev = seen.get(uid);
    const r = results.get(uid);
    if (r !== undefined) {
      // dbt's own record of a node it was interrupted in the middle of: say why it was interrupted.
      if (interrupted && (ev === undefined || ev.late) && blocksDownstream(r.status)) {
        results.set(uid, {
          ...r,
          status: skipsInterrupted(stop) ? 'skipped' : r.status === 'skipped' ? 'skipped' : 'error',
          message: reason,
        });
      }
      continue;
    }
    // No run_results.json entry (dbt crashed, was killed, or timed out): keep what the events said, else an error.
    if (ev !== undefined && !ev.late)
      results.set(uid, {
        ...syntheticResult(uid, 'error', ev.message),
        status: ev.status,
        execution_time: ev.seconds ?? 0,
        message: blocksDownstream(ev.status) ? ev.message : null,
      });
    else results.set(uid, syntheticResult(uid, skipsInterrupted(stop) ? 'skipped' : 'error', reason));
  }
  return { invocation: { targetPath, logPath, runResults, outcome, attempt }, results, fatal };
}

function fatalMessage(o: DbtRunOutcome): string {
  if (o.spawnError) return `dbt could not be started: ${o.spawnError}`;
  const lines = withoutTraceback(o.tail)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Encountered an error:?$/.test(l));
  return lines.slice(-4).join(' ').replace(/\s+/g, ' ') || `dbt exited with code ${o.exitCode} before running any node`;
}

function missingReason(o: DbtRunOutcome, timeoutMs: number | undefined, stopMessage: string | undefined): string {
  if (o.spawnError) return `dbt could not be started: ${o.spawnError}`;
  if (o.lost) return `dbt was lost before reporting this node: ${o.lost}`;
  if (o.timedOut)
    return `Timed out: the chunk ran longer than its ${Math.round(((timeoutMs ?? 0) / 60000) * 100) / 100} minute(s) (timeout-minutes) and was interrupted before this node finished.`;
  if (stopMessage !== undefined) return stopMessage;
  const last = o.tail
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  const how = o.signal ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
  return `dbt ${how} before reporting this node${last ? `: ${last}` : ''}`;
}

/**
 * The end-only invocation of a shared run: a forked dbt of the same command that runs no node and gives the
 * project's on-run-end hooks `results` (every node of the run, in the order they ended), once, after every chunk.
 */
export async function runEndHooks(
  ctx: Pick<ChunkContext, 'dbt' | 'limits' | 'killSignal' | 'selectors' | 'onEvent'>,
  dir: string,
  run: RunShare,
  results: RunResult[],
): Promise<{ runResults?: RunResultsArtifact; error?: string }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths = pathsOf({ name: 'on-run-end', nodes: [], dir }, '');
  mkdirSync(paths.selectionState, { recursive: true });
  const resultsFile = join(dir, 'results.json');
  const ended = (r: RunResult): string =>
    r.timing
      .map((t) => t.completed_at ?? '')
      .sort()
      .pop() ?? '';
  const ordered = [...results].sort((a, b) => ended(a).localeCompare(ended(b)));
  writeFileSync(resultsFile, JSON.stringify({ results: ordered }));
  // dbt runs the hooks only when its selection holds a node: one, which the end-only invocation does not run.
  const node = run.runNodes[0];
  const unit = ctx.selectors.isUnitTest(node);
  writeFileSync(
    join(paths.selectionState, 'run_results.json'),
    selectionStateFile(unit ? [] : [node], ctx.dbt.dbtVersion ?? '1.8.0'),
  );
  const outcome = await ctx.dbt.launch({
    share: run.endInvocation(resultsFile),
    argv: argvOf(ctx.dbt, paths, unit ? [ctx.selectors.exactSelectorOf(node)] : []),
    cwd: ctx.dbt.cwd,
    env: ctx.dbt.env,
    timeoutMs: ctx.limits.timeoutMs,
    graceMs: ctx.limits.graceMs,
    killSignal: ctx.killSignal,
    onEvent: (ev) => ctx.onEvent?.('on-run-end', ev),
  });
  const runResults = leftRunResults(join(paths.targetPath, 'run_results.json'));
  const error = runResults === undefined ? missingReason(outcome, ctx.limits.timeoutMs, undefined) : undefined;
  return { runResults, error };
}
