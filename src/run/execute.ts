// Runs a plan: schemas once, then the chunks as concurrent dbt processes under the scheduler.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectArgs, RunFlags } from '../dbt/argv.js';
import type { DbtLauncher } from '../dbt/process.js';
import type { DbtLogEvent } from '../dbt/events.js';
import type { Manifest } from '../dbt/manifest.js';
import type { RunResult } from '../dbt/run-results.js';
import { growingPool, type Chunk, type Plan } from '../plan/chunks.js';
import type { PlanGraph } from '../plan/graph.js';
import type { Budget } from '../plan/budget.js';
import { calibrateAfter, type GrowthMeasures } from '../plan/shape.js';
import { schemasOf } from '../plan/nodes.js';
import {
  runChunk,
  runEndHooks,
  runPoolWorker,
  type ChunkContext,
  type ChunkDbt,
  type ChunkLimits,
  type ChunkOutcome,
  type Invocation,
} from './chunk.js';
import { runPool } from './pool.js';
import { RunShare, type PoolCalibration, type PoolGrowth } from './share.js';
import { StallWatch, stalledLine } from './stall.js';
import { nodeResultOf } from '../dbt/events.js';
import { blocksDownstream } from '../dbt/statuses.js';
import { hooksRun } from '../plan/choose.js';
import { runSchedule, type ChunkReport, type Hold, type Schedule } from './scheduler.js';
import type { StopReason } from './stop.js';
import { SelectorIndex } from './selectors.js';
import { machineBusySeconds } from './machine-cpu.js';
import { memoryUsedPercent } from './memory.js';
import { ProgressTracker } from './progress.js';
import type { Logger } from '../shared/log.js';

/** After SIGINT, dbt gets this long to cancel its queries and write its results before it is killed. */
const INTERRUPT_GRACE_MS = 4000;

/** How the chunks run: the run's own choices, none of the planner's. */
export interface RunOptions {
  command: string;
  /** --state / --defer for every chunk. */
  state?: string;
  defer: boolean;
  /** --favor-state, --full-refresh, --empty for every invocation. */
  flags?: RunFlags;
  failFast: boolean;
  staggerSeconds: number;
  /** Above this share of memory in use, a chunk waits for a running one to finish before it starts. */
  memoryLimitPercent: number;
  timeoutMinutes?: number;
  retries: number;
  /** Statuses that are retried. */
  retryOn: Set<string>;
  /** Each chunk's target and logs go to a folder of its own here. */
  workDir: string;
  /** Gated runs: a node ready this long with nothing in progress gets its parents' statuses again; twice as long, its chunk stops. */
  stallSeconds?: number;
}

export interface ExecuteInput {
  options: RunOptions;
  /** Starts one dbt invocation (a process, or a forked worker). */
  launch: DbtLauncher;
  cwd: string;
  env: Record<string, string | undefined>;
  project: ProjectArgs;
  manifest: Manifest;
  graph: PlanGraph;
  plan: Plan;
  budget: Budget;
  /** Threads per process, or undefined for the profile's. */
  threads?: number;
  partialParseFile?: string;
  signal: AbortSignal;
  killSignal: AbortSignal;
  /** Lines for the log (masked by the caller's logger where they can hold secrets). */
  log: Logger;
  /** Predicted seconds per node (for the progress estimate). */
  weight: (uid: string) => number;
  /** A node's display name and file, for the progress lines. */
  describe: (uid: string) => { name: string; resourceType: string; file?: string };
  /** Masks known secrets in text that is printed. */
  mask: (text: string) => string;
  /**
   * Invocations are forked workers that can share one run (worker_host.py SharedRun): with several chunks they
   * behave as one dbt — on-run-start and on-run-end once, relations built elsewhere known, the run's selection.
   */
  shared: boolean;
  /**
   * A growing pool grew, or a pool reached calibrateAfter ended nodes (its calibration): the run's makespan
   * predicted again (seconds from the pool's start) for the shape it runs from now on, from what the run measured so
   * far (plan/shape.ts predictGrown).
   */
  repredict?: (now: GrowthMeasures) => number | undefined;
}

/** One chunk of the run: what the scheduler saw of it and what its dbt invocations did. */
export interface ChunkRun extends ChunkReport {
  /** Its dbt invocations, in order (none when it never started). */
  invocations: Invocation[];
  /** Nodes that ran more than once, with the status of every attempt. */
  retried: ChunkOutcome['retried'];
  /** dbt failed before running any node (ChunkOutcome.fatal). */
  fatal?: string;
  /** When its first node started (its first START line), epoch ms: the chunk's start-up ends there. */
  firstNodeAt?: number;
  /** CPU seconds of its dbt processes, where measured (forked workers), and of their start-ups (up to "running"). */
  cpu?: { seconds: number; startup: number };
}

export interface Execution {
  /** Every chunk of the plan, in index order. */
  chunks: ChunkRun[];
  /** The project's on-run-start / on-run-end hooks as dbt reported them (dbt ≥ 1.9 records them in run_results). */
  hooks: RunResult[];
  /** Why the run stopped itself (fail-fast, or dbt could not run), when it did; the caller's cancel is its own. */
  stoppedBy?: StopReason;
  /** A pool's growth while it ran (workers measured CPU-bound let one more take nodes). */
  growth: PoolGrowth[];
  /** A pool's makespan predicted again once a share of its nodes had ended, from what they measured. */
  calibration?: PoolCalibration;
  /** CPU-seconds the machine's cores were busy while the chunks ran (run/machine-cpu.ts), where known. */
  machineBusySeconds?: number;
}

export async function executePlan(x: ExecuteInput): Promise<Execution> {
  const s = x.options;
  const log = (line: string): void => x.log.info(line);
  const selectors = new SelectorIndex(x.manifest);
  const runNodes = x.plan.chunks.flatMap((c) => c.nodes);
  // One chunk is one dbt invocation, hooks and all; several forked chunks share the run (run/share.ts), and the
  // on-run-start worker creates every schema of the run before the others create theirs.
  const blocks = (uid: string, st: string): boolean => blocksDownstream(st, x.graph.nodes.get(uid)?.continuesOnError);
  const share =
    x.shared && x.plan.chunks.length > 1 ? new RunShare(runNodes, x.plan.nodeGates === true, blocks) : undefined;
  // A pooled plan's workers take ready nodes node by node (run/pool.ts); each claims a node in this folder.
  const pooled = share !== undefined && x.plan.pooled !== undefined;
  const claims = join(s.workDir, 'claims');
  const growing = growingPool(x.plan);
  /** Told how many workers take nodes each time a growing pool grows (run/pool.ts starts the next spare). */
  let grown: ((workers: number) => void) | undefined;
  /** Each node's execution time as its result event reported it (skipped nodes ran nothing). */
  const measured = new Map<string, number>();
  let calibration: PoolCalibration | undefined;
  /** A pool predicts its makespan again once a share of its nodes has ended, from what they measured (calibrateAfter). */
  let calibrate = (): void => {};
  if (pooled && share !== undefined) {
    const t0 = Date.now();
    const after = calibrateAfter(runNodes.length);
    calibrate = () => {
      if (calibration !== undefined || measured.size < after || !x.plan.pooled) return;
      const cpu = share.measuredCpu();
      if (cpu === undefined) return;
      const at = Date.now();
      const elapsed = (at - t0) / 1000;
      // The workers taking nodes now; most of the measured nodes ran with them (a growth comes early, if at all).
      const workers = share.growth.at(-1)?.workers ?? x.plan.pooled.active;
      const predicted = x.repredict?.({
        elapsed,
        workers,
        measured,
        cpuPerNode: cpu.cpuPerNode,
        measuredWith: workers,
      });
      if (predicted === undefined) return;
      calibration = { at, workers, nodes: measured.size, cpuPerNode: cpu.cpuPerNode, predictedMakespan: predicted };
      log(
        `▶ the pool: ${measured.size} of ${runNodes.length} nodes ended (${elapsed.toFixed(1)} s into the run), their workers' dbt spending ~${Math.round(cpu.cpuPerNode * 1000)} ms of CPU per node; predicted again from what they measured: ~${predicted.toFixed(1)} s in all`,
      );
    };
    share.onMeasured = calibrate;
    share.onGrowth = (g) => {
      const elapsed = (g.at - t0) / 1000;
      g.predictedMakespan = x.repredict?.({ elapsed, workers: g.workers, measured, cpuPerNode: g.cpuPerNode });
      const again =
        g.predictedMakespan !== undefined
          ? `; predicted again from the ${measured.size} node(s) measured so far: ~${g.predictedMakespan.toFixed(1)} s in all`
          : '';
      log(
        `▶ the pool: a worker's dbt kept ${g.load.toFixed(2)} of a core busy while ready nodes waited: ${g.workers} workers take nodes now (${elapsed.toFixed(1)} s into the run${again})`,
      );
      grown?.(g.workers);
    };
    rmSync(claims, { recursive: true, force: true });
    mkdirSync(claims, { recursive: true });
  }
  // The stall watch follows each gated chunk; a pool is one queue, watched as one (index 0).
  const watched = (index: number): number => (pooled ? 0 : index);
  const running = new Set<number>();
  /** Since when every node of a pool has had its final status while a worker still ran, and whether it was resent. */
  let ending: { since: number; resent: boolean } | undefined;
  /** Stops the whole run (the schedule's own stop), once a chunk has been launched. */
  let stopRun: ((reason: StopReason) => void) | undefined;
  const schemas = new SchemaBarrier(x.manifest, share === undefined ? x.plan.chunks : []);
  const progress = new ProgressTracker({
    nodes: x.plan.chunks.flatMap((c) => c.nodes),
    weight: x.weight,
    describe: x.describe,
  });
  let watch: StallWatch | undefined;
  const stopChunk = new Map<number, AbortController>();
  const ticker = setInterval(() => {
    const line = progress.take(Date.now());
    if (line) log(line);
    for (const a of watch?.check(Date.now()) ?? []) {
      const what = stalledLine(a.nodes);
      if (a.kind === 'resend') {
        if (a.nodes.length === 0)
          log(
            `⚠ ${pooled ? 'the pool' : `chunk ${a.chunk}`}: still starting although on-run-start has run elsewhere; telling it again.`,
          );
        else
          log(
            x.mask(
              `⚠ ${pooled ? 'the pool' : `chunk ${a.chunk}`}: dbt has not started node(s) whose parents all ended: ${what}; sending their statuses again.`,
            ),
          );
        share?.resend(
          a.nodes.flatMap((n) => n.parents.map((p) => p.uid)),
          watch!.statusOf,
        );
      } else {
        const message = `parallel-dbt stopped waiting after ${a.seconds} s: its worker did not start ${what} although every parent had ended (a status lost between workers).`;
        log(x.mask(`✖ ${pooled ? 'the pool' : `chunk ${a.chunk}`}: ${message}`));
        // A pool is one queue: the whole run stops, and what no worker ran says why.
        if (pooled) stopRun?.({ kind: 'stall', message });
        else
          for (const [index, stop] of stopChunk) if (watched(index) === a.chunk) stop.abort({ kind: 'stall', message });
      }
    }
    if (pooled && watch !== undefined) poolEnding(Date.now());
  }, PROGRESS_TICK_MS);
  /**
   * Every node of a pool has its final status, yet a worker runs on: it waits for a status it never got. Sent again
   * after a moment (a worker ignores what it had); a worker still running stallSeconds later is stopped.
   */
  const poolEnding = (now: number): void => {
    if (running.size === 0 || runNodes.some((u) => watch!.statusOf(u) === undefined)) {
      ending = undefined;
      return;
    }
    ending ??= { since: now, resent: false };
    const waited = now - ending.since;
    if (!ending.resent && waited >= POOL_RESEND_MS) {
      ending.resent = true;
      log(`⚠ the pool: every node has ended, yet ${running.size} worker(s) still run; sending the statuses again.`);
      share?.resend(runNodes, watch!.statusOf);
    }
    if (waited >= POOL_RESEND_MS + (s.stallSeconds ?? DEFAULT_STALL_SECONDS) * 1000) {
      const message = `parallel-dbt stopped a worker that still waited for statuses after every node of the run had ended.`;
      log(`✖ ${message}`);
      for (const [index, stop] of stopChunk) if (running.has(index)) stop.abort({ kind: 'stall', message });
      ending = undefined;
    }
  };
  const width = Math.max(...x.plan.chunks.map((c) => c.name.length));
  const dbt: ChunkDbt = {
    launch: x.launch,
    command: s.command,
    project: x.project,
    cwd: x.cwd,
    env: x.env,
    partialParseFile: x.partialParseFile,
    threads: x.threads,
    state: s.state,
    defer: s.defer,
    flags: s.flags,
    dbtVersion: x.manifest.metadata.dbt_version,
  };
  const limits: ChunkLimits = {
    timeoutMs: s.timeoutMinutes !== undefined ? s.timeoutMinutes * 60000 : undefined,
    graceMs: INTERRUPT_GRACE_MS,
    retries: s.retries,
    retryOn: s.retryOn,
  };
  const outcomes = new Map<number, ChunkOutcome>();
  const firstNodeAt = new Map<number, number>();
  const startupCpu = new Map<number, number>();
  let schedule: Schedule;
  const busyBefore = machineBusySeconds();
  try {
    schedule = await (pooled ? runPool : runSchedule)({
      plan: x.plan,
      graph: x.graph,
      parallel: x.budget.parallel,
      signal: x.signal,
      failFast: s.failFast,
      staggerMs: s.staggerSeconds * 1000,
      // A growing pool starts the workers taking nodes and one spare; the next spare when the pool grows.
      spares:
        pooled && growing !== undefined
          ? {
              atOnce: growing.active + 1,
              grown: (listener) => {
                grown = listener;
              },
            }
          : undefined,
      admit: (chunk, running): Hold | undefined => {
        const schema = schemas.holdFor(chunk);
        if (schema !== undefined) return schema;
        if (running === 0) return undefined; // nothing of ours would free memory: go
        // A gated plan's chunks wait for each other's nodes inside dbt: each must start (the planner chose ordered
        // chunks instead when memory was already short).
        if (x.plan.nodeGates) return undefined;
        const used = memoryUsedPercent();
        if (used <= s.memoryLimitPercent) return undefined;
        return {
          kind: 'memory',
          line: `memory use ${used.toFixed(0)}% is above memory-limit-percent ${s.memoryLimitPercent}%: waiting for a running chunk to finish before starting another`,
        };
      },
      onWait: (hold) => (hold.kind === 'schema' ? x.log.debug(hold.line) : log(`⏸ ${hold.line}`)),
      onChunkStart: (c) => {
        running.add(c.index);
        if (!pooled) watch?.chunkStarted(c.index, c.nodes);
        schemas.claim(c);
        progress.chunkStarted(c.name, Date.now());
        log(
          !pooled
            ? `▶ ${c.name}: ${c.nodes.length} node(s) started`
            : c.index <= (x.plan.pooled?.active ?? Infinity)
              ? `▶ ${c.name}: started; it takes ready nodes from the run's pool while it has room`
              : `▶ ${c.name}: started; it follows the run, and takes nodes once the workers taking them are measured CPU-bound`,
        );
      },
      onChunkEnd: (r) => {
        running.delete(r.chunk.index);
        if (!pooled || running.size === 0) watch?.chunkEnded(watched(r.chunk.index));
        schemas.done(r.chunk);
        // Failures no event announced (crash, timeout) are surfaced now; printed as plain lines, not annotations.
        for (const line of progress.chunkEnded(r.chunk.name, r.endedAt ?? Date.now(), r.results)) log(x.mask(line));
        log(`■ ${r.chunk.name}: finished in ${(((r.endedAt ?? 0) - (r.startedAt ?? 0)) / 1000).toFixed(1)} s`);
      },
      launch: async (chunk, { blocked, onNodeStatus, signal, stop, statusOf, subscribe, known }) => {
        stopRun = stop;
        if (share?.nodeGates && watch === undefined) {
          watch = new StallWatch(
            x.graph,
            statusOf,
            (s.stallSeconds ?? DEFAULT_STALL_SECONDS) * 1000,
            () => share.startSettled,
          );
          watch.chunkStarted(watched(chunk.index), pooled ? runNodes : chunk.nodes);
        }
        const own = new AbortController();
        stopChunk.set(chunk.index, own);
        const job = { name: chunk.name, nodes: pooled ? runNodes : chunk.nodes, dir: join(s.workDir, chunk.name) };
        const ctx: ChunkContext = {
          dbt,
          limits,
          signal: AbortSignal.any([signal, own.signal]),
          killSignal: x.killSignal,
          parentsOf: (uid) => x.graph.nodes.get(uid)?.parents ?? [],
          selectors,
          onNodeStatus,
          share: share && {
            run: share,
            feed: { statusOf, subscribe, known },
            onRunning: (cpu) => {
              if (cpu !== undefined) startupCpu.set(chunk.index, (startupCpu.get(chunk.index) ?? 0) + cpu);
              watch?.chunkRunning(watched(chunk.index));
            },
          },
          onWorkerLine: (name, line) => x.log.warning(x.mask(`[${name}] ${line}`)),
          onNote: (name, line) => x.log.info(x.mask(`[${name}] ${line}`)),
          onEvent: (name, ev) => {
            const result = nodeResultOf(ev);
            if (result?.seconds !== undefined && result.status !== 'skipped') {
              measured.set(result.uid, result.seconds);
              calibrate();
            }
            if (watch !== undefined) {
              if (result !== undefined) watch.nodeEnded(watched(chunk.index), result.uid);
              else if (ev.info.name === 'LogStartLine' && ev.data.node_info)
                watch.nodeStarted(watched(chunk.index), ev.data.node_info.unique_id);
            }
            // dbt creates the chunk's schemas in before_run, after its ConcurrencyLine and before its first hook or node.
            if (SCHEMAS_CREATED.has(ev.info.name)) schemas.done(chunk);
            if (ev.info.name === 'LogStartLine' && !firstNodeAt.has(chunk.index))
              firstNodeAt.set(chunk.index, Date.now());
            logEvent(log, name, ev, x.mask, width);
            const failure = progress.event(name, ev);
            if (failure) log(x.mask(failure));
          },
        };
        const out = pooled
          ? await runPoolWorker(ctx, job, {
              claims,
              worker: chunk.name,
              rank: chunk.index - 1,
              workers: x.plan.chunks.length,
              slots: x.plan.pooled?.slots ?? 0,
              active: x.plan.pooled?.active ?? x.plan.chunks.length,
            })
          : await runChunk(ctx, job, blocked);
        outcomes.set(chunk.index, out);
        if (out.fatal !== undefined) stop({ kind: 'fatal', message: `Not run: dbt could not run (${out.fatal})` });
        return out.results;
      },
    });
  } finally {
    clearInterval(ticker);
  }
  const busyAfter = machineBusySeconds();
  log(progress.line(Date.now()));
  const chunks = schedule.chunks.map((r) =>
    chunkRun(r, outcomes.get(r.chunk.index), firstNodeAt.get(r.chunk.index), startupCpu.get(r.chunk.index)),
  );
  const hooks = hookResults(chunks.flatMap((c) => c.invocations.map((i) => i.runResults)));
  if (share !== undefined && hooksRun(x.manifest, s.command).end > 0 && !x.signal.aborted) {
    const end = await runEndHooks(
      {
        dbt,
        limits,
        killSignal: x.killSignal,
        selectors,
        onEvent: (name, ev) => logEvent(log, name, ev, x.mask, width),
      },
      join(s.workDir, 'on-run-end'),
      share,
      [...hooks, ...chunks.flatMap((r) => r.results)],
    );
    hooks.push(...hookResults([end.runResults]).filter((r) => /on-run-end/.test(r.unique_id)));
    if (end.error !== undefined) log(x.mask(`on-run-end: ${end.error}`));
  }
  return {
    chunks,
    hooks,
    stoppedBy: schedule.stoppedBy,
    growth: share?.growth ?? [],
    calibration,
    machineBusySeconds:
      busyBefore !== undefined && busyAfter !== undefined ? Math.max(0, busyAfter - busyBefore) : undefined,
  };
}

/** A chunk's report joined with what its invocations did (nothing when it never started). */
function chunkRun(
  r: ChunkReport,
  o: ChunkOutcome | undefined,
  firstNodeAt: number | undefined,
  startupCpu: number | undefined,
): ChunkRun {
  const invocations = o?.invocations ?? [];
  const measured = invocations.map((i) => i.outcome.cpuSeconds).filter((x): x is number => x !== undefined);
  const cpu =
    measured.length > 0 ? { seconds: measured.reduce((a, b) => a + b, 0), startup: startupCpu ?? 0 } : undefined;
  return { ...r, invocations, retried: o?.retried ?? [], fatal: o?.fatal, firstNodeAt, cpu };
}

/**
 * Everything else's CPU on the cores per CPU-second of the workers' dbt, while the chunks ran: the machine's busy
 * time (a PostgreSQL on the runner, the action and its host relaying events, other tenants, time a hypervisor took)
 * less the workers' own, over the workers' own. Undefined unless every worker that ran was measured.
 */
export function otherCpuShareOf(run: Execution): number | undefined {
  const ran = run.chunks.filter((c) => c.invocations.length > 0);
  if (run.machineBusySeconds === undefined || ran.length === 0 || ran.some((c) => c.cpu === undefined))
    return undefined;
  const workers = ran.reduce((s, c) => s + c.cpu!.seconds, 0);
  return workers > 0 ? Math.max(0, run.machineBusySeconds - workers) / workers : undefined;
}

/**
 * dbt's CPU seconds per node as this run measured it: what its forked workers spent past their start-ups (the
 * nodes, and following the run's statuses), over the nodes they reported. Undefined where nothing was measured
 * (the subprocess path) or no node ran.
 */
export function cpuPerNodeOf(chunks: ChunkRun[]): number | undefined {
  let cpu = 0;
  let nodes = 0;
  for (const c of chunks) {
    if (c.cpu === undefined) continue;
    cpu += Math.max(0, c.cpu.seconds - c.cpu.startup);
    nodes += c.results.length;
  }
  return nodes > 0 && cpu > 0 ? cpu / nodes : undefined;
}

/**
 * The hook results of the invocations (operation nodes, dbt ≥ 1.9), each hook once: where several invocations ran
 * the same hook (the subprocess path), a failure wins over a success.
 */
function hookResults(artifacts: ({ results: RunResult[] } | undefined)[]): RunResult[] {
  const byUid = new Map<string, RunResult>();
  for (const a of artifacts) {
    for (const r of a?.results ?? []) {
      if (!r.unique_id.startsWith('operation.')) continue;
      const had = byUid.get(r.unique_id);
      if (had === undefined || (had.status === 'success' && r.status !== 'success')) byUid.set(r.unique_id, r);
    }
  }
  return [...byUid.values()];
}

/** Events dbt fires only once before_run has created the schemas: a hook or a node starting. */
const SCHEMAS_CREATED = new Set(['LogHookStartLine', 'LogStartLine', 'NodeStart', 'SkippingDetails']);

/** See RunOptions.stallSeconds: far above any node's compile (which dbt does before it says the node started). */
const DEFAULT_STALL_SECONDS = 120;
/** A pool's workers end within a moment of its last node; one still running this long after gets the statuses again. */
const POOL_RESEND_MS = 3000;
/** How often the progress line may be printed (it prints only when due). */
const PROGRESS_TICK_MS = 1000;

/**
 * Concurrent CREATE SCHEMA IF NOT EXISTS for the same schema can fail on PostgreSQL (unique violation in
 * pg_namespace). Each schema is created by the first chunk that starts needing it; another chunk that needs it
 * starts once that one has passed its schema creation (its first hook or node, SCHEMAS_CREATED) or ended. Shared
 * runs need none of this: their on-run-start worker creates every schema before the others create theirs.
 */
class SchemaBarrier {
  private readonly needs = new Map<number, string[]>();
  private readonly owner = new Map<string, number>();
  private readonly ready = new Set<string>();

  constructor(manifest: Manifest, chunks: Chunk[]) {
    for (const c of chunks)
      this.needs.set(
        c.index,
        schemasOf(manifest, c.nodes).map((x) => `${x.database ?? ''}.${x.schema}`),
      );
  }

  /** Whether the chunk must wait for another to create one of its schemas. */
  holdFor(c: Chunk): Hold | undefined {
    for (const key of this.needs.get(c.index) ?? []) {
      const o = this.owner.get(key);
      if (o !== undefined && o !== c.index && !this.ready.has(key))
        return { kind: 'schema', line: `schema ${key}: chunk ${c.index} waits for chunk ${o} to create it` };
    }
    return undefined;
  }

  claim(c: Chunk): void {
    for (const key of this.needs.get(c.index) ?? []) if (!this.owner.has(key)) this.owner.set(key, c.index);
  }

  done(c: Chunk): void {
    for (const [key, o] of this.owner) if (o === c.index) this.ready.add(key);
  }
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** One line per dbt info/warn/error event, prefixed by the chunk. */
function logEvent(
  log: (line: string) => void,
  chunk: string,
  ev: DbtLogEvent,
  mask: (t: string) => string,
  width = 0,
): void {
  if (ev.info.level === 'debug') return;
  const msg = ev.info.msg.replace(ANSI, '');
  if (msg.trim() === '') return;
  log(mask(`${`[${chunk}]`.padEnd(width + 2)} ${msg}`));
}
