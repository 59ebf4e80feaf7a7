// Folds every chunk's results into one run_results.json: each planned node exactly once.
import {
  PARALLEL_DBT_ARGS,
  runResultsMetadata,
  syntheticResult,
  type ParallelDbtArgs,
  type RunResult,
  type RunResultsArtifact,
} from '../dbt/run-results.js';

export interface MergeInput {
  /** Results per chunk, in chunk order. */
  chunks: { results: RunResult[]; artifacts: (RunResultsArtifact | undefined)[] }[];
  /** Every node that was planned, in plan order. */
  planned: string[];
  elapsedSeconds: number;
  command: string;
  dbtVersion?: string;
  /** The user's own selection, recorded in args. */
  selection: Record<string, unknown>;
  /** Facts of the run for a later run's timings, recorded in args (none: any a chunk's own args had are dropped). */
  facts?: ParallelDbtArgs;
}

export interface Merged {
  artifact: RunResultsArtifact;
  /** Nodes reported by more than one chunk (the first result is kept). */
  duplicates: string[];
  /** Planned nodes no chunk reported (kept as errors). */
  missing: string[];
}

export function mergeRunResults(input: MergeInput): Merged {
  const byUid = new Map<string, RunResult>();
  const duplicates: string[] = [];
  for (const c of input.chunks) {
    for (const r of c.results) {
      if (byUid.has(r.unique_id)) duplicates.push(r.unique_id);
      else byUid.set(r.unique_id, r);
    }
  }
  const missing: string[] = [];
  const results: RunResult[] = [];
  for (const uid of input.planned) {
    const r = byUid.get(uid);
    if (r === undefined) {
      missing.push(uid);
      results.push(syntheticResult(uid, 'error', 'parallel-dbt: no chunk reported a result for this node.'));
    } else results.push(r);
  }
  const first = input.chunks.flatMap((c) => c.artifacts).find((a) => a !== undefined);
  const metadata: RunResultsArtifact['metadata'] = first
    ? { ...first.metadata, generated_at: new Date().toISOString() }
    : runResultsMetadata(input.dbtVersion ?? 'unknown', null);
  const args: Record<string, unknown> = { ...(first?.args ?? {}), which: input.command, ...input.selection };
  delete args.target_path;
  delete args.log_path;
  delete args.indirect_selection;
  delete args[PARALLEL_DBT_ARGS];
  if (input.facts !== undefined && Object.keys(input.facts).length > 0) args[PARALLEL_DBT_ARGS] = input.facts;
  return { artifact: { metadata, results, elapsed_time: input.elapsedSeconds, args }, duplicates, missing };
}
