// Hand-written run_results.json files for tests: every field dbt writes (the format's owner, src/dbt/run-results.ts,
// rejects a file without them), each result a success unless it says otherwise.
import {
  runResultsMetadata,
  syntheticResult,
  type RunResult,
  type RunResultsArtifact,
} from '../../src/dbt/run-results.js';

export type ResultSpec = Partial<RunResult> & { unique_id: string };

export function runResultsOf(
  results: ResultSpec[],
  o: { dbtVersion?: string; elapsed?: number; args?: Record<string, unknown> } = {},
): RunResultsArtifact {
  return {
    metadata: runResultsMetadata(o.dbtVersion ?? '1.11.16', null),
    results: results.map((r) => ({
      ...syntheticResult(r.unique_id, 'error', ''),
      status: 'success',
      message: null,
      ...r,
    })),
    elapsed_time: o.elapsed ?? 0,
    args: o.args ?? {},
  };
}

/** The text of runResultsOf(…), as dbt would write the file. */
export function runResultsJson(results: ResultSpec[], o: Parameters<typeof runResultsOf>[1] = {}): string {
  return JSON.stringify(runResultsOf(results, o));
}
