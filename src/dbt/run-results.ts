// run_results.json, the one owner of the format: its types (dbt-core 1.8+, schema v6), reading it with a check that
// gives one line naming the file and what is wrong, and every run_results.json the action writes (the merged
// results, the selection state, stand-in results for nodes dbt never reported). The check covers the fields dbt's
// schema requires of every result (a file dbt wrote always passes it); other fields are kept as they were read.
// Of the metadata, which no reader needs, only the types are checked: a file another tool wrote (the benchmark's
// synthetic timings) may carry less of it.
import { existsSync } from 'node:fs';
import { DbtArtifactError } from './errors.js';
import { isNullOr, isNumber, isObject, parseJson, readJson } from './json.js';
import type { NodeStatus } from './statuses.js';

export const RUN_RESULTS_SCHEMA = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

export interface TimingInfo {
  name: string;
  started_at?: string | null;
  completed_at?: string | null;
}

/** One entry of run_results.json `results`. */
export interface RunResult {
  unique_id: string;
  status: NodeStatus;
  timing: TimingInfo[];
  thread_id: string | null;
  execution_time: number;
  adapter_response: Record<string, unknown>;
  message: string | null;
  failures: number | null;
  compiled?: boolean | null;
  compiled_code?: string | null;
  relation_name?: string | null;
  batch_results?: unknown;
  [key: string]: unknown;
}

export interface RunResultsMetadata {
  dbt_schema_version?: string;
  dbt_version?: string;
  generated_at?: string;
  invocation_id?: string | null;
  env?: Record<string, string>;
  [k: string]: unknown;
}

export interface RunResultsArtifact {
  metadata: RunResultsMetadata;
  results: RunResult[];
  elapsed_time: number;
  args: Record<string, unknown>;
}

/**
 * What the action adds to the args of the run_results.json it merges (dbt keeps args free-form): facts of the run a
 * later run reads as timings. cpu_per_node: dbt's CPU seconds per node its workers measured (run/execute.ts
 * cpuPerNodeOf); other_cpu_share: the rest of the machine's CPU per second of theirs (otherCpuShareOf).
 */
export const PARALLEL_DBT_ARGS = 'parallel_dbt';
export interface ParallelDbtArgs {
  cpu_per_node?: number;
  other_cpu_share?: number;
}

/** The action's facts in a run_results.json's args (none in dbt's own files; a malformed value is left out). */
export function parallelDbtArgsOf(rr: RunResultsArtifact): ParallelDbtArgs {
  const v = rr.args[PARALLEL_DBT_ARGS];
  if (!isObject(v)) return {};
  const out: ParallelDbtArgs = {};
  const cpu = v.cpu_per_node;
  if (typeof cpu === 'number' && Number.isFinite(cpu) && cpu > 0) out.cpu_per_node = cpu;
  const share = v.other_cpu_share;
  if (typeof share === 'number' && Number.isFinite(share) && share >= 0) out.other_cpu_share = share;
  return out;
}

/** The metadata of a run_results.json this action writes (dbt's own, as dbt 1.8+ writes it). */
export function runResultsMetadata(dbtVersion: string, invocationId: string | null): RunResultsMetadata {
  return {
    dbt_schema_version: RUN_RESULTS_SCHEMA,
    dbt_version: dbtVersion,
    generated_at: new Date().toISOString(),
    invocation_id: invocationId,
    env: {},
  };
}

/** A result for a node dbt did not run or did not report, in run_results.json's own shape. */
export function syntheticResult(uid: string, status: 'skipped' | 'error', message: string): RunResult {
  return {
    unique_id: uid,
    status,
    timing: [],
    thread_id: null,
    execution_time: 0,
    adapter_response: {},
    message,
    failures: null,
  };
}

/** The run_results.json that `--select result:success` reads to select exactly `uids` (dbt/argv.ts ChunkArgs.selectionState). */
export function selectionStateFile(uids: string[], dbtVersion: string): string {
  return JSON.stringify({
    metadata: runResultsMetadata(dbtVersion, 'parallel-dbt-selection'),
    results: uids.map((unique_id) => ({
      unique_id,
      status: 'success',
      timing: [],
      thread_id: 'parallel-dbt',
      execution_time: 0,
      adapter_response: {},
      message: null,
      failures: null,
      compiled: null,
      compiled_code: null,
      relation_name: null,
      batch_results: null,
    })),
    elapsed_time: 0,
    args: {},
  });
}

/** The text of a run_results.json the action writes (the merged results): indented, one trailing newline. */
export function runResultsText(a: RunResultsArtifact): string {
  return `${JSON.stringify(a, null, 2)}\n`;
}

/** Reads and checks a run_results.json; a file that cannot be read or is not one throws one line naming it. */
export function readRunResults(path: string): RunResultsArtifact {
  return checkRunResults(readJson(path), path);
}

/**
 * What a dbt invocation left in its target folder: undefined when it wrote no run_results.json, or one that cannot
 * be used (dbt killed while writing it); its nodes then count as not reported.
 */
export function leftRunResults(path: string): RunResultsArtifact | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readRunResults(path);
  } catch (e) {
    if (e instanceof DbtArtifactError) return undefined;
    throw e;
  }
}

/** A run_results.json's text, checked; `source` names it in the error. */
export function parseRunResults(text: string, source: string): RunResultsArtifact {
  return checkRunResults(parseJson(text, source), source);
}

/** Parsed JSON checked as a run_results.json; `source` names it in the error. */
function checkRunResults(doc: unknown, source: string): RunResultsArtifact {
  const bad = (why: string): DbtArtifactError =>
    new DbtArtifactError(`${source} is not a dbt run_results.json (${why})`);
  if (!isObject(doc) || !Array.isArray(doc.results)) throw bad('no "results" list');
  const m = doc.metadata;
  if (!isObject(m)) throw bad('no "metadata"');
  for (const k of ['dbt_schema_version', 'dbt_version', 'generated_at'] as const)
    if (m[k] !== undefined && typeof m[k] !== 'string') throw bad(`"metadata.${k}" is not a string`);
  if (m.invocation_id !== undefined && !isNullOr(m.invocation_id, 'string'))
    throw bad('"metadata.invocation_id" is not a string or null');
  if (!isNumber(doc.elapsed_time)) throw bad('"elapsed_time" is not a number');
  if (!isObject(doc.args)) throw bad('"args" is not an object');
  for (const [i, r] of doc.results.entries()) {
    const why = resultProblem(r);
    if (why !== undefined)
      throw bad(`results[${i}]${isObject(r) && typeof r.unique_id === 'string' ? ` (${r.unique_id})` : ''}: ${why}`);
  }
  // Every status is a string now: a NodeStatus (known, or kept as an UnknownStatus).
  return doc as unknown as RunResultsArtifact;
}

/** What is wrong with one entry of `results`, if anything (the fields run_results v6 requires, with their types). */
function resultProblem(r: unknown): string | undefined {
  if (!isObject(r)) return 'not an object';
  if (typeof r.unique_id !== 'string') return '"unique_id" is not a string';
  if (typeof r.status !== 'string') return '"status" is not a string';
  if (!isNumber(r.execution_time)) return '"execution_time" is not a number';
  if (!Array.isArray(r.timing) || !r.timing.every((t) => isObject(t) && typeof t.name === 'string'))
    return '"timing" is not a list of timings';
  if (!isNullOr(r.thread_id, 'string')) return '"thread_id" is not a string or null';
  if (!isObject(r.adapter_response)) return '"adapter_response" is not an object';
  if (!isNullOr(r.message, 'string')) return '"message" is not a string or null';
  if (!isNullOr(r.failures, 'number')) return '"failures" is not a number or null';
  if (r.compiled_code !== undefined && !isNullOr(r.compiled_code, 'string'))
    return '"compiled_code" is not a string or null';
  return undefined;
}
