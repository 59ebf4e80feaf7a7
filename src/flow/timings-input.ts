// The timings input: the run_results.json files it names (paths or globs, one per line), read through the format's
// owner (dbt/run-results.ts) and handed to the planner's pure timingsOf. A file that is not a run_results.json
// stops the run with one line naming the input and the file.
import { expandPaths } from '../shared/files.js';
import { InputError } from '../shared/errors.js';
import { DbtArtifactError } from '../dbt/errors.js';
import { readRunResults } from '../dbt/run-results.js';
import { timingsOf, type Timings } from '../plan/timings.js';

/** Expands the `timings` input against cwd and reads every run_results.json it names (none matched: no timings). */
export function readTimings(spec: string[], cwd: string): Timings {
  return timingsOf(
    expandPaths(spec, cwd).map((file) => {
      try {
        return { file, results: readRunResults(file) };
      } catch (e) {
        if (e instanceof DbtArtifactError)
          throw new InputError(
            'timings',
            `${e.message}; give run_results.json files of earlier runs, or remove the input.`,
          );
        throw e;
      }
    }),
  );
}
