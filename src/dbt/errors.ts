// Errors of the dbt boundary that a user can fix: the message says what went wrong and what to do. The caller
// shows it as one line (it knows which input to name); anything else is a bug and keeps its stack.

/** dbt could not do what was asked (deps, parse or ls failed; no manifest written). */
export class DbtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DbtError';
  }
}

/** The dbt executable cannot be used: not found, or not an executable file. */
export class DbtExecutableError extends DbtError {
  constructor(message: string) {
    super(message);
    this.name = 'DbtExecutableError';
  }
}

/** A dbt file (run_results.json, manifest.json) that cannot be read, or is not what dbt writes: the message names it. */
export class DbtArtifactError extends DbtError {
  constructor(message: string) {
    super(message);
    this.name = 'DbtArtifactError';
  }
}
