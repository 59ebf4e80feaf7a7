// Chooses how many dbt processes to run and with how many threads each, by predicting every candidate shape's
// makespan on a model of the machine. Pure: a graph, weights, a machine and a budget in; a plan and its reasons out.
//
// Why processes help at all: one dbt process does its own per-node Python work serially (the GIL), about 10–30 ms
// of CPU per node, whatever its thread count; on a fast warehouse that, not the queries, bounds one process. More
// processes spread that work over the runner's cores, but each costs a start-up and they share the cores.
// One process with all the threads (what plain `dbt build` does) is always a candidate, so a shape predicted
// slower than it is never chosen.
import { planChunks, type Plan, type PoolShape } from './chunks.js';
import { planWorkers } from './workers.js';
import type { PlanGraph } from './graph.js';
import { CONNECTIONS_PER_PROCESS_BEYOND_THREADS, type Budget } from './budget.js';

/** What the planner knows of the machine the chunks run on. */
export interface Machine {
  /** Cores of the runner (os.availableParallelism()). */
  cores: number;
  /** Seconds from a chunk's launch to its first node when it has a core to itself. */
  startup: number;
  /** dbt's serial CPU seconds per node inside one process. */
  perNodeCpu: number;
  /**
   * CPU that others spend on the same cores per second of dbt CPU: a PostgreSQL on the runner itself (~0.3 here; a
   * remote warehouse: 0), or, measured by an earlier run (its timings), everything else that shared the cores.
   */
  warehouseCpuShare: number;
  /** Chunks can be forked workers whose nodes wait at a gate for other chunks inside dbt (planWorkers). */
  nodeGates: boolean;
  /** With nodeGates: the workers take ready nodes from one pool node by node (Plan.pooled) instead of fixed chunks. */
  pool?: boolean;
}

/** What a PostgreSQL on the runner itself spends per second of dbt's CPU (bench: 10.4 s against 35.3 s). */
export const LOCAL_WAREHOUSE_CPU_SHARE = 0.3;

/**
 * dbt's own CPU per node when nothing better is known: what forked workers measured past their start-ups (kernel CPU
 * over nodes, parallel-dbt.json cpuPerNode) on the bench's shapes, dbt-core 1.11 on a 2-core EPYC runner: 23–30 ms
 * (CPU-bound 2,004 nodes 23, remote tests 30, Slim CI 25–30; the 95-node example 44, start-up heavy).
 */
export const DEFAULT_PER_NODE_CPU = 0.03;
/** The part of a forked worker's start-up that does not grow with the project (adapter, selection). */
const FORK_STARTUP_SECONDS = 0.25;
/** The part that does, per manifest node: graph linking over the manifest and the relation cache. */
const FORK_STARTUP_PER_MANIFEST_NODE = 0.0003;
/** A worker forked from the parsed host: adapter, graph linking over the manifest, selection, relation cache. */
export function forkStartup(manifestNodes: number): number {
  return FORK_STARTUP_SECONDS + FORK_STARTUP_PER_MANIFEST_NODE * manifestNodes;
}
/** Python imports of dbt-core when no host measured them (bench: 0.9–1.0 s on a runner core). */
export const DEFAULT_IMPORT_SECONDS = 1.0;
/** Share of a cold parse (beyond the imports) that loading the shared partial parse costs: it skips the files. */
const PARTIAL_PARSE_LOAD_SHARE = 0.45;
/** A `dbt` process with the shared partial parse: Python imports, then loading the parse (about half a cold one). */
export function subprocessStartup(importSeconds: number, parseSeconds: number): number {
  return importSeconds + PARTIAL_PARSE_LOAD_SHARE * Math.max(0, parseSeconds - importSeconds);
}
/** Up to this many chunks per process: a later chunk can start where an earlier one's parents end (pipelining). */
const CHUNKS_PER_PROCESS = 2;
/** A shape with more processes must be predicted this much faster than the best one with fewer. */
const MORE_PROCESSES_MARGIN = 0.05;
/** Threads per process when only max-connections bounds them: a large budget should not mean hundreds of threads. */
const MAX_THREADS_PER_PROCESS = 64;

export interface ShapeRequest {
  /** At most this many processes at once. */
  parallel: number;
  /** Threads per process fixed by the user. */
  threads?: number;
  /** The warehouse connection budget: processes × (threads + 1) stays under it. */
  maxConnections?: number;
  /** The profile's threads: without threads or max-connections, the total across processes. */
  profileThreads: number;
  /** A fixed number of chunks. */
  chunks?: number;
  /** Set when only one process may run (e.g. a local DuckDB file): the reason. */
  oneProcess?: string;
}

/**
 * Shapes to compare. Without max-connections or threads, the processes share the profile's threads: the warehouse
 * sees no more concurrent queries than one `dbt build` would send it (processes × ⌊T / processes⌋ ≤ T).
 */
export function shapeCandidates(r: ShapeRequest): Budget[] {
  const extra = CONNECTIONS_PER_PROCESS_BEYOND_THREADS;
  // Every process needs a thread and its main connection: no more than budget / 2 processes.
  const fitting = r.maxConnections !== undefined ? Math.max(1, Math.floor(r.maxConnections / (1 + extra))) : Infinity;
  const maxK =
    r.oneProcess !== undefined
      ? 1
      : Math.max(1, Math.min(fitting, r.chunks !== undefined ? Math.min(r.chunks, r.parallel) : r.parallel));
  const minK = r.chunks !== undefined && r.oneProcess === undefined ? maxK : 1;
  const out: Budget[] = [];
  for (let k = minK; k <= maxK; k++) {
    let t: number;
    if (r.maxConnections !== undefined) {
      const room = Math.floor(r.maxConnections / k) - extra;
      t = r.threads !== undefined ? Math.min(r.threads, room) : Math.min(MAX_THREADS_PER_PROCESS, room);
    } else if (r.threads !== undefined) t = r.threads;
    else t = Math.floor(r.profileThreads / k);
    if (t >= 1) out.push({ parallel: k, threads: t, peak: k * (t + extra) });
  }
  if (out.length === 0)
    out.push({ parallel: 1, threads: Math.max(1, r.threads ?? 1), peak: 1 + Math.max(1, r.threads ?? 1) });
  return out;
}

export interface ShapeChoice {
  plan: Plan;
  shape: Budget;
  /** Every candidate with its predicted makespan, in the order tried. */
  tried: { shape: Budget; makespan: number }[];
  /** Predicted makespan of one process with the same budget (what plain dbt would do). */
  oneProcessMakespan: number;
}

/** Plans every candidate shape on the machine model and keeps the fastest (fewer processes unless clearly faster). */
export function chooseShape(
  g: PlanGraph,
  weight: (uid: string) => number,
  machine: Machine,
  r: ShapeRequest,
): ShapeChoice {
  const candidates = shapeCandidates(r);
  // One process means one dbt invocation, as plain dbt: one chunk, whatever chunks asked for.
  const chunks = r.oneProcess !== undefined ? 1 : r.chunks;
  const tried = candidates.map((shape) => ({ shape, plan: planShape(g, weight, machine, shape, chunks) }));
  let best = tried[0];
  for (const t of tried.slice(1)) if (t.plan.makespan < best.plan.makespan * (1 - MORE_PROCESSES_MARGIN)) best = t;
  const one =
    tried.find((t) => t.shape.parallel === 1)?.plan.makespan ??
    planShape(g, weight, machine, { parallel: 1, threads: totalThreads(candidates[0]), peak: 0 }, undefined).makespan;
  const choice = {
    plan: best.plan,
    shape: best.shape,
    tried: tried.map((t) => ({ shape: t.shape, makespan: t.plan.makespan })),
    oneProcessMakespan: one,
  };
  const pool = r.chunks === undefined ? elasticPool(g, weight, machine, r, candidates, best) : undefined;
  return pool !== undefined ? { ...choice, ...pool } : choice;
}

/**
 * Where workers can share one pool and the shape is the planner's to choose: a pool of up to one worker per core
 * sharing one process's threads as node slots. The workers the model predicts fastest take nodes from the start
 * (one, as plain dbt, unless more are predicted clearly faster); the others join when the run measures the active
 * ones CPU-bound with ready nodes waiting, so a first run without timings is not held to a guess. Connections: the
 * slots, plus the main connection of each worker that starts while others run nodes (N − 1), within max-connections.
 */
function elasticPool(
  g: PlanGraph,
  weight: (uid: string) => number,
  m: Machine,
  r: ShapeRequest,
  candidates: Budget[],
  best: { shape: Budget; plan: Plan },
): { plan: Plan; shape: Budget } | undefined {
  if (m.pool !== true || r.oneProcess !== undefined) return undefined;
  const widest = Math.max(...candidates.map((c) => c.parallel));
  const oneProcess = candidates.find((c) => c.parallel === 1)?.threads ?? totalThreads(candidates[0]);
  let workers = Math.min(widest, Math.max(1, m.cores));
  // Threads the user fixed are each process's: n workers may run n × threads; otherwise one process's threads in all.
  const room = (n: number): number => {
    const total = r.threads !== undefined ? n * r.threads : oneProcess;
    return r.maxConnections !== undefined ? Math.min(total, r.maxConnections - (n - 1)) : total;
  };
  while (workers > 1 && room(workers) < workers) workers--;
  if (workers < 2) return undefined;
  const slots = room(workers);
  // Each worker's dbt runs up to its threads (worker_host.py caps a worker's share of the slots at them).
  const threads = r.threads !== undefined ? Math.min(r.threads, slots) : slots;
  const active = Math.min(workers, best.shape.parallel);
  const split = planWorkers(g, weight, {
    workers,
    threads: Math.max(1, Math.floor(slots / workers)),
    fixedCost: 0,
    perNodeCost: m.perNodeCpu,
  });
  if (split.chunks.length < 2) return undefined;
  // A pool's workers all run until its last node: each is predicted to end with the run.
  const makespan = best.plan.makespan;
  return {
    plan: {
      ...split,
      makespan,
      nodeGates: true,
      chunks: split.chunks.map((c) => ({ ...c, predicted: makespan })),
      pooled: { slots, active },
    },
    shape: { parallel: workers, threads, peak: slots + workers - 1 },
  };
}

function totalThreads(b: Budget): number {
  return b.parallel * b.threads;
}

/**
 * One shape on the machine: processes beyond the cores share them, so start-up stretches; dbt's per-node CPU
 * stretches too once the processes (and a warehouse on the same cores) want more CPU than there is.
 */
export function planShape(
  g: PlanGraph,
  weight: (uid: string) => number,
  m: Machine,
  shape: Budget,
  chunks?: number,
): Plan {
  const cores = Math.max(1, m.cores);
  const startContention = Math.max(1, shape.parallel / cores);
  const cpuContention = Math.max(1, (shape.parallel * (1 + m.warehouseCpuShare)) / cores);
  // Gated workers all run at once: possible while there are no more chunks than processes.
  if (m.nodeGates && (chunks === undefined || chunks <= shape.parallel)) {
    // With a forced count the start-up is paid anyway: the nodes are spread by the rest of the model.
    const fixedCost = chunks === undefined ? m.startup * startContention : 0;
    const plan = planWorkers(g, weight, {
      workers: chunks ?? shape.parallel,
      threads: shape.threads,
      fixedCost,
      perNodeCost: m.perNodeCpu * cpuContention,
    });
    // Forced or chosen, every worker takes nodes from the start, each up to its threads.
    return m.pool === true && plan.nodeGates === true
      ? { ...plan, pooled: { slots: plan.chunks.length * shape.threads, active: plan.chunks.length } }
      : plan;
  }
  return planChunks(g, weight, {
    chunks,
    maxChunks: chunks ?? CHUNKS_PER_PROCESS * shape.parallel,
    slots: shape.parallel,
    threads: shape.threads,
    fixedCost: m.startup * startContention,
    perNodeCost: m.perNodeCpu * cpuContention,
  });
}

/**
 * The processes × threads that a pool ran as: the most workers that took nodes at once (those active from the start,
 * or as many as it grew to), sharing its slots. Any other plan ran as planned.
 */
export function shapeThatRan(budget: Budget, pool: PoolShape | undefined, growth: { workers: number }[]): Budget {
  if (pool === undefined || pool.slots <= 0) return budget;
  const workers = Math.max(pool.active, ...growth.map((g) => g.workers));
  const threads = Math.max(1, Math.floor(pool.slots / workers));
  return { parallel: workers, threads, peak: workers * threads + budget.parallel - 1 };
}

/** What the run had measured when a growing pool grew (run/execute.ts ExecuteInput.repredict). */
export interface GrowthMeasures {
  /** Seconds since the pool started. */
  elapsed: number;
  /** Workers taking nodes from now on. */
  workers: number;
  /** Each ended node's execution time. */
  measured: ReadonlyMap<string, number>;
  /** dbt's CPU seconds per node, as the worker that asked for company measured its own (or the workers theirs). */
  cpuPerNode?: number;
  /** Workers that took nodes while the measured ones ran: one fewer than `workers` when a pool grows (the default). */
  measuredWith?: number;
}

/** Share of a run's nodes that end before a pool predicts its makespan again (its calibration)... */
const CALIBRATE_SHARE = 0.2;
/** ...and at least this many: a run's first nodes (seeds, root models) are not its typical ones. */
const CALIBRATE_MIN_NODES = 40;

/**
 * After how many ended nodes a pool predicts its makespan again from what they measured, grown or not (the plan of a
 * first run weighs nodes by guesses, and dbt's CPU per node differs 2–3× between runners).
 */
export function calibrateAfter(runNodes: number): number {
  return Math.max(CALIBRATE_MIN_NODES, Math.ceil(CALIBRATE_SHARE * runNodes));
}

/** No node is free, even one whose measured time was all dbt's own CPU. */
const MIN_CALIBRATED_WEIGHT = 0.001;
/**
 * The plan's estimate counts as this many nodes beside the measured ones: a few early nodes (a run's first models are
 * often its quick ones) move a type's weights only part of the way (n measured: (n × ratio + K) / (n + K)).
 */
const PRIOR_NODES = 10;

/**
 * A pool's makespan predicted again when it grows (and at calibrateAfter ended nodes), from what the run measured:
 * the plan predicted the shape it started in, on weights that are guesses on a first run. The nodes not yet ended
 * are planned on the shape it runs from now on, after the seconds already run, with dbt's CPU per node as measured
 * (at a growth, at most the machine's), and each weighed by the plan's weight scaled by what the ended nodes of its
 * resource type took against theirs (all ended nodes for a type none of them has; the plan's weight counting as
 * PRIOR_NODES nodes beside them): an ended node's time less the dbt CPU its worker's other threads queued for (as
 * Timings.warehouse).
 */
export function predictGrown(
  g: PlanGraph,
  weight: (uid: string) => number,
  m: Machine,
  pool: PoolShape,
  now: GrowthMeasures,
): number {
  // The ended nodes queued for the CPU their worker measured. The rest: at a growth the worker measured the run's
  // first nodes (seeds, root models), which cost dbt more than the tests that make most of a project (bench: 40 ms
  // per node at growth against 23 over the whole run), so the lower of it and the machine's; a calibration measured
  // a fifth of the run, on this runner (slower or faster than the machine model's guess): as measured.
  const measuredCpu = now.cpuPerNode ?? m.perNodeCpu;
  const perNodeCpu = now.measuredWith !== undefined ? measuredCpu : Math.min(measuredCpu, m.perNodeCpu);
  const threadsBefore = Math.max(1, Math.floor(pool.slots / Math.max(1, now.measuredWith ?? now.workers - 1)));
  const sums = new Map<string, { measured: number; planned: number; n: number }>();
  const all = { measured: 0, planned: 0, n: 0 };
  for (const [uid, seconds] of now.measured) {
    const n = g.nodes.get(uid);
    if (n === undefined) continue;
    const own = Math.max(MIN_CALIBRATED_WEIGHT, seconds - threadsBefore * measuredCpu);
    const s =
      sums.get(n.resourceType) ?? sums.set(n.resourceType, { measured: 0, planned: 0, n: 0 }).get(n.resourceType)!;
    for (const x of [s, all]) {
      x.measured += own;
      x.planned += weight(uid);
      x.n++;
    }
  }
  const ratio = (type: string): number => {
    const s = sums.get(type) ?? all;
    return s.planned > 0 ? (s.n * (s.measured / s.planned) + PRIOR_NODES) / (s.n + PRIOR_NODES) : 1;
  };
  const ended = (uid: string): boolean => now.measured.has(uid);
  const rest: PlanGraph = { nodes: new Map() };
  for (const n of g.nodes.values()) {
    if (ended(n.uid)) continue;
    rest.nodes.set(n.uid, {
      ...n,
      parents: n.parents.filter((p) => !ended(p) && g.nodes.has(p)),
      attachTo: n.attachTo !== undefined && g.nodes.has(n.attachTo) && !ended(n.attachTo) ? n.attachTo : undefined,
    });
  }
  if (rest.nodes.size === 0) return now.elapsed;
  const w = (uid: string): number =>
    Math.max(MIN_CALIBRATED_WEIGHT, weight(uid) * ratio(rest.nodes.get(uid)!.resourceType));
  const shape: Budget = { parallel: now.workers, threads: Math.max(1, Math.floor(pool.slots / now.workers)), peak: 0 };
  // The workers joining were forked at the start and follow the run: their start-up is behind them.
  return now.elapsed + planShape(rest, w, { ...m, perNodeCpu, startup: 0 }, shape).makespan;
}

/** Says when the chosen shape gives a process fewer threads than the user asked for, to fit max-connections. */
export function budgetNote(r: ShapeRequest, shape: Budget): string | undefined {
  if (r.threads === undefined || r.maxConnections === undefined || shape.threads >= r.threads) return undefined;
  const extra = CONNECTIONS_PER_PROCESS_BEYOND_THREADS;
  return `parallel ${shape.parallel} × (threads ${r.threads} + ${extra}) = ${shape.parallel * (r.threads + extra)} connections exceeds max-connections ${r.maxConnections}: using parallel ${shape.parallel} × (threads ${shape.threads} + ${extra}) = ${shape.peak}.`;
}

/** The summary's speed figure: the shape that ran against one process with the same budget, and what weighed the nodes. */
export interface SpeedEstimate {
  chosen: number;
  oneProcess: number;
  /** Re-costed after the run with the node times dbt reported in it (report/model.ts SpeedEstimate reads it). */
  basis: 'this run';
}

/**
 * After the run: the shape that ran (its processes, threads and chunk count, forced or chosen) and one process with
 * the same budget, both costed on the same machine model with the node times this run measured (the plan's weight
 * where dbt reported none). A first run's default weights can be several times off; the run's own times are not.
 */
export function speedInHindsight(
  g: PlanGraph,
  weight: (uid: string) => number,
  measured: ReadonlyMap<string, number>,
  m: Machine,
  r: ShapeRequest,
  ran: { shape: Budget; chunks: number },
): SpeedEstimate {
  const w = (uid: string): number => measured.get(uid) ?? weight(uid);
  const chosen = planShape(g, w, m, ran.shape, ran.chunks > ran.shape.parallel ? ran.chunks : undefined).makespan;
  const candidates = shapeCandidates({ ...r, chunks: undefined, oneProcess: undefined });
  const oneProcess = planShape(
    g,
    w,
    m,
    candidates[0].parallel === 1 ? candidates[0] : { parallel: 1, threads: totalThreads(ran.shape), peak: 0 },
    undefined,
  ).makespan;
  return { chosen, oneProcess, basis: 'this run' };
}
