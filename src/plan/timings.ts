// Node weights from earlier runs: the execution_time each node took in one or more run_results.json files (read by
// flow/timings-input.ts). Nodes with no record get the median of their resource type among recorded nodes, or a
// fixed estimate.
import { parallelDbtArgsOf, type RunResultsArtifact } from '../dbt/run-results.js';
import { defaultWeight } from './nodes.js';

export interface Timings {
  /** Seconds by unique_id (mean over the files that have the node). */
  seconds: Map<string, number>;
  files: string[];
  /**
   * Seconds of the node's own wait outside dbt (the warehouse), by unique_id: its execution_time less the dbt CPU
   * it waited for in its process (the run's threads × perNodeCpu: in a busy process every thread queues for the
   * GIL). Set by warehouseSeconds.
   */
  warehouse?: Map<string, number>;
  /**
   * Per file: the run's threads (args.threads), its execution seconds per node (elapsed_time / nodes), and the dbt
   * CPU seconds per node the action measured in it (a run_results.json it merged: args.parallel_dbt.cpu_per_node).
   */
  runs: { file: string; threads: number; secondsPerNode: number; cpuPerNode?: number; otherCpuShare?: number }[];
  /** Per file: the run's threads and each node's execution_time. */
  recorded: { threads: number; exec: Map<string, number> }[];
}

/** The timings of earlier runs, one run_results.json each (`file` names it). */
export function timingsOf(runResults: { file: string; results: RunResultsArtifact }[]): Timings {
  const runs: Timings['runs'] = [];
  const recorded: Timings['recorded'] = [];
  for (const { file, results: rr } of runResults) {
    const threads = typeof rr.args.threads === 'number' && rr.args.threads >= 1 ? rr.args.threads : 1;
    const exec = new Map<string, number>();
    for (const r of rr.results) {
      if (!(r.execution_time >= 0)) continue;
      if (r.status === 'skipped') continue; // a skipped node took no time: it says nothing about its cost
      exec.set(r.unique_id, r.execution_time);
    }
    recorded.push({ threads, exec });
    if (exec.size > 0 && rr.elapsed_time > 0) {
      runs.push({
        file,
        threads,
        secondsPerNode: rr.elapsed_time / exec.size,
        cpuPerNode: parallelDbtArgsOf(rr).cpu_per_node,
        otherCpuShare: parallelDbtArgsOf(rr).other_cpu_share,
      });
    }
  }
  return { seconds: meanPerNode(recorded, (x) => x), files: runResults.map((x) => x.file), runs, recorded };
}

/** Each node's mean, over the runs that recorded it, of what `part` takes of its time in that run. */
function meanPerNode(
  recorded: Timings['recorded'],
  part: (seconds: number, threads: number) => number,
): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const { threads, exec } of recorded) {
    for (const [uid, x] of exec) {
      const s = sums.get(uid) ?? { total: 0, n: 0 };
      s.total += part(x, threads);
      s.n++;
      sums.set(uid, s);
    }
  }
  return new Map([...sums].map(([u, s]) => [u, s.total / s.n]));
}

/** More seconds per node than dbt's own work ever takes: a run this slow per node was waiting for its warehouse. */
const MAX_PER_NODE_CPU = 0.05;
/** Less than this per node is not dbt's CPU but a run of nodes that did next to nothing: the estimate stops there. */
const MIN_PER_NODE_CPU = 0.002;

/**
 * dbt's CPU per node as the earlier runs show it. Where the action measured it (its workers' CPU past their
 * start-ups, over the nodes), the median of those measures. Otherwise: a run bound by dbt's own work took about
 * that long per node (elapsed / nodes), on the runner that ran it; a run slower than MAX_PER_NODE_CPU per node was
 * bound by the warehouse and says nothing about it, so `fallback` counts then. (Elapsed / nodes understates a run of
 * several processes, which is why the measure comes first.)
 */
export function perNodeCpuOf(t: Timings | undefined, fallback: number): number {
  const measured = lowerMedian((t?.runs ?? []).map((r) => r.cpuPerNode));
  if (measured !== undefined) return Math.max(MIN_PER_NODE_CPU, measured);
  const observed = Math.min(...(t?.runs ?? []).map((r) => r.secondsPerNode));
  return Number.isFinite(observed) && observed <= MAX_PER_NODE_CPU ? Math.max(MIN_PER_NODE_CPU, observed) : fallback;
}

/**
 * The rest of the machine's CPU per CPU-second of dbt's in the earlier runs the action measured (a PostgreSQL on the
 * runner, the action itself, whatever else shared the cores): the median, or undefined where none was measured.
 */
export function otherCpuShareOf(t: Timings | undefined): number | undefined {
  return lowerMedian((t?.runs ?? []).map((r) => r.otherCpuShare));
}

/** The median of the values there are (the lower of the middle two for an even count); undefined for none. */
function lowerMedian(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return xs.length > 0 ? xs[Math.floor((xs.length - 1) / 2)] : undefined;
}

/** Fills t.warehouse: each recorded time less the dbt CPU its run's threads queued for (see Timings.warehouse). */
export function warehouseSeconds(t: Timings, perNodeCpu: number): Timings {
  return { ...t, warehouse: meanPerNode(t.recorded, (x, threads) => Math.max(0, x - threads * perNodeCpu)) };
}

/** No node is free: a recorded 0 s would let the planner stack any number of such nodes anywhere. */
const MIN_WEIGHT_SECONDS = 0.001;

/** A weight function: recorded seconds, else the median of the node's resource type, else a fixed estimate. */
export function weigher(
  t: Timings | undefined,
  typeOf: (uid: string) => string,
): { weight: (uid: string) => number; known: number; fallbackByType: Map<string, number> } {
  const byType = new Map<string, number[]>();
  for (const [uid, s] of t?.seconds ?? []) {
    const ty = typeOf(uid);
    (byType.get(ty) ?? byType.set(ty, []).get(ty)!).push(s);
  }
  const fallbackByType = new Map<string, number>();
  for (const [ty, xs] of byType) fallbackByType.set(ty, lowerMedian(xs)!);
  let known = 0;
  const cache = new Map<string, number>();
  const weight = (uid: string): number => {
    let w = cache.get(uid);
    if (w !== undefined) return w;
    const rec = (t?.warehouse ?? t?.seconds)?.get(uid);
    if (rec !== undefined) known++;
    w = Math.max(MIN_WEIGHT_SECONDS, rec ?? fallbackByType.get(typeOf(uid)) ?? defaultWeight(typeOf(uid)));
    cache.set(uid, w);
    return w;
  };
  return {
    weight,
    get known() {
      return known;
    },
    fallbackByType,
  };
}
