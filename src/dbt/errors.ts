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

/**
 * Whether dbt stopped before its first node because another session created one of its schemas at the same time
 * (a matrix shard on another runner, another check of the same PR): dbt creates only the schemas it listed as
 * missing, and PostgreSQL fails the second of two concurrent `create schema if not exists` of one name with a unique
 * violation ("Key (nspname)=(x) already exists"). Run again, dbt lists the schema and goes on. The same words as
 * worker_host.py schema_created_meanwhile, which retries inside a forked worker.
 */
export function schemaCreatedMeanwhile(fatal: string): boolean {
  // The constraint's name too: a server in another language translates the message, not the name.
  return /already exists|pg_namespace_nspname_index/i.test(fatal);
}

/**
 * dbt's last lines without the frames of a Python traceback it printed: what was wrong, not where in dbt. A frame is
 * its `  File "…", line N` line, then its source line and ^~~ markers, indented deeper (as Python prints them).
 */
export function withoutTraceback(lines: string[]): string[] {
  const out: string[] = [];
  let inFrame = false;
  for (const line of lines) {
    if (/^\s*Traceback \(most recent call last\)/.test(line)) continue;
    if (/^\s*File ".*", line \d+/.test(line)) {
      inFrame = true;
      continue;
    }
    if ((inFrame && /^\s{4,}\S/.test(line)) || /^\s*[\^~]+\s*$/.test(line)) continue;
    inFrame = false;
    out.push(line);
  }
  return out;
}
