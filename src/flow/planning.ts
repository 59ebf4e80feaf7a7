// What the planner is told about this run, read from the action's settings and what prepare found: the weight of
// each node (timings), the machine, and the budget the user allowed. Shared by the local run and the matrix plan.
import { availableParallelism } from 'node:os';
import type { Settings } from '../inputs/settings.js';
import type { PlanGraph } from '../plan/graph.js';
import {
  DEFAULT_IMPORT_SECONDS,
  DEFAULT_PER_NODE_CPU,
  forkStartup,
  LOCAL_WAREHOUSE_CPU_SHARE,
  subprocessStartup,
  type Machine,
  type ShapeRequest,
} from '../plan/shape.js';
import { otherCpuShareOf, perNodeCpuOf, warehouseSeconds, weigher, type Timings } from '../plan/timings.js';
import { readTimings } from './timings-input.js';
import { adapterOf, type Prepared } from './prepare.js';
import { hooksRun } from '../plan/choose.js';
import type { Logger } from '../shared/log.js';

/** The profile's threads when dbt could not tell them (no worker host): dbt's usual CI setting. */
const PROFILE_THREADS_UNKNOWN = 4;

/** The weight of each node: recorded warehouse seconds from the timings input, else an estimate. */
export function weightsFor(
  timings: Timings | undefined,
  spec: string[],
  graph: PlanGraph,
  log: Logger,
): (uid: string) => number {
  const w = weigher(timings, (uid) => graph.nodes.get(uid)?.resourceType ?? uid.split('.')[0]);
  for (const uid of graph.nodes.keys()) w.weight(uid);
  if (timings !== undefined && timings.files.length > 0) {
    log.info(
      `Timings: ${w.known} of ${graph.nodes.size} selected nodes have a recorded time in ${timings.files.length} file(s); the rest get the median of their resource type.`,
    );
  } else {
    // A first run: the predictions below are the planner's guesses, and can be several times off either way.
    const why = timings !== undefined ? `no run_results.json matched ${spec.join(', ')}` : 'no timings input';
    log.info(
      `Timings: ${why}; the nodes are weighed by estimates (models 1 s, tests 0.2 s), so the predicted times below are rough. The summary re-costs the run with the times it measured; give 'timings' an earlier run's run_results.json for a plan from measured times.`,
    );
  }
  return w.weight;
}

/** The timings input, with each recorded time split into dbt's CPU and the warehouse's part. */
export function timingsFor(
  s: Settings,
  cwd: string,
): { timings?: Timings; perNodeCpu: number; otherCpuShare?: number } {
  const raw = s.timings.length > 0 ? readTimings(s.timings, cwd) : undefined;
  const perNodeCpu = perNodeCpuOf(raw, DEFAULT_PER_NODE_CPU);
  return { timings: raw && warehouseSeconds(raw, perNodeCpu), perNodeCpu, otherCpuShare: otherCpuShareOf(raw) };
}

/** What the shape choice may use: processes, threads and the connection budget, and what the warehouse allows. */
export function shapeRequest(s: Settings, p: Prepared, log: Logger): ShapeRequest {
  const profileThreads = p.profile?.threads;
  if (profileThreads === undefined && s.threads === undefined && s.maxConnections === undefined) {
    log.info(
      `The profile's threads are not known on this path; assuming ${PROFILE_THREADS_UNKNOWN} (set threads or max-connections to decide).`,
    );
  }
  return {
    parallel: s.parallel ?? availableParallelism(),
    threads: s.threads,
    maxConnections: s.maxConnections,
    profileThreads: profileThreads ?? PROFILE_THREADS_UNKNOWN,
    chunks: s.chunks,
    oneProcess: oneProcessReason(p) ?? subprocessOneRun(s, p),
  };
}

/**
 * What only forked workers can share between dbt processes (worker_host.py SharedRun): on the subprocess path the
 * project's hooks would run once per process, each on-run-end seeing its own chunk's results, and with favor-state
 * each process would count the other chunks' nodes as unselected and read them from the state. There, the data
 * comes first: one process, as plain dbt.
 */
export function subprocessOneRun(s: Settings, p: Prepared): string | undefined {
  if (p.runPath.kind !== 'subprocess') return undefined;
  const hooks = hooksRun(p.manifest, s.command);
  const why =
    hooks.start + hooks.end > 0
      ? `the project has ${hooks.start} on-run-start and ${hooks.end} on-run-end hook(s), which several dbt processes would each run (once per process, each on-run-end seeing only its own results)`
      : s.flags.favorState
        ? "with favor-state each dbt process would read the other processes' parents from the state (they are not in its selection)"
        : undefined;
  return (
    why &&
    `${why}; on this run path (${p.runPath.why}) the action runs one process, as plain dbt. Forked workers (Linux, worker-host: auto) share one run and keep the chunks`
  );
}

/** A warehouse that allows one writing process: a local DuckDB file (DBT-FACTS §9). */
function oneProcessReason(p: Prepared): string | undefined {
  const adapter = adapterOf(p.profile, p.manifest);
  if (adapter !== 'duckdb') return undefined;
  const path = p.profile?.path ?? '';
  if (/^(md|motherduck):/i.test(path)) return undefined;
  return `the target is DuckDB${path ? ` (${path})` : ''}: a local DuckDB file allows one writing process, so the action runs one process and spreads the work over its threads`;
}

/**
 * The machine model: cores, the start-up of a chunk on this run path, dbt's CPU per node, and what else takes the
 * same cores per second of dbt's CPU: as an earlier run measured it, else a PostgreSQL on the runner's estimate.
 */
export function machineFor(p: Prepared, perNodeCpu: number, pool = true, otherCpuShare?: number): Machine {
  const size = Object.keys(p.manifest.nodes).length;
  const startup =
    p.runPath.kind === 'fork'
      ? forkStartup(size)
      : subprocessStartup(p.runPath.importSeconds ?? DEFAULT_IMPORT_SECONDS, p.parseSeconds);
  const host = p.profile?.host;
  const local = host !== undefined && /^(localhost|127\.\d+\.\d+\.\d+|::1|0\.0\.0\.0)$/i.test(host);
  return {
    cores: availableParallelism(),
    startup,
    perNodeCpu,
    warehouseCpuShare: otherCpuShare ?? (local ? LOCAL_WAREHOUSE_CPU_SHARE : 0),
    nodeGates: p.runPath.kind === 'fork' && p.runPath.nodeGates,
    pool: pool && p.runPath.kind === 'fork' && p.runPath.nodeGates,
  };
}

/**
 * Gated workers must all run at once, and a node's status must be final when another worker sees it: with memory
 * already short (the memory limit must hold some back) or with retries (a failure may still turn green, and a
 * worker would wait for a retry that waits for it), chunks run in order instead. Returns the reason, when so.
 */
export function orderedBecause(s: Settings, memoryUsed: number): string | undefined {
  if (memoryUsed > s.memoryLimitPercent)
    return `Memory use ${memoryUsed.toFixed(0)}% is above memory-limit-percent ${s.memoryLimitPercent}%: chunks run in order, so that later ones can wait for memory.`;
  if (s.retries > 0)
    return `retries ${s.retries}: chunks run in order (a worker must not wait for a node whose failure may still be retried).`;
  return undefined;
}
