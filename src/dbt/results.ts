// Reads run_results.json and makes the stand-in results for nodes dbt never reported.
import { readFileSync, existsSync } from 'node:fs';
import type { RunResult, RunResultsArtifact } from './types.js';

export function readRunResults(path: string): RunResultsArtifact | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as RunResultsArtifact;
    return Array.isArray(parsed?.results) ? parsed : undefined;
  } catch {
    return undefined;
  }
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
