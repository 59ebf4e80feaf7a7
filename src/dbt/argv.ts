// Builds dbt argument vectors. Every user value is one argv item: nothing is ever run through a shell.

/** What every invocation against the project shares (the partial-parse check needs them identical). */
export interface ProjectArgs {
  projectDir: string;
  profilesDir?: string;
  target?: string;
  vars?: string;
}

function projectFlags(p: ProjectArgs): string[] {
  const out = ['--project-dir', p.projectDir];
  if (p.profilesDir !== undefined) out.push('--profiles-dir', p.profilesDir);
  if (p.target !== undefined) out.push('--target', p.target);
  if (p.vars !== undefined) out.push('--vars', p.vars);
  return out;
}

/** Flags that must stand before the subcommand on older dbt versions. */
function globalFlags(opts: { json: boolean; partialParseFile?: string; jsonLogFile?: boolean }): string[] {
  const out = ['--no-use-colors', '--no-send-anonymous-usage-stats'];
  if (opts.json) out.push('--log-format', 'json', '--log-format-file', 'debug', '--log-level-file', 'debug');
  else out.push('--quiet');
  // The parse's log file as JSON events: what dbt did with a saved partial parse is read from it (dbt/partial-parse.ts).
  if (opts.jsonLogFile) out.push('--log-format-file', 'json', '--log-level-file', 'debug');
  if (opts.partialParseFile !== undefined) out.push('--partial-parse-file-path', opts.partialParseFile);
  return out;
}

export function depsArgv(p: ProjectArgs, logPath: string): string[] {
  return [...globalFlags({ json: true }), 'deps', ...projectFlags(p), '--log-path', logPath];
}

/** `dbt parse`: the shared parse when there is nothing to select (the whole project): cheaper than `ls`. */
export function parseArgv(a: ProjectArgs & { targetPath: string; logPath: string }): string[] {
  return [
    ...globalFlags({ json: false, jsonLogFile: true }),
    'parse',
    ...projectFlags(a),
    '--target-path',
    a.targetPath,
    '--log-path',
    a.logPath,
  ];
}

export interface ListArgs extends ProjectArgs {
  targetPath: string;
  logPath: string;
  select: string[];
  exclude: string[];
  selector?: string;
  state?: string;
  resourceTypes: string[];
  partialParseFile?: string;
}

/**
 * `dbt ls` resolves the user's selection with dbt's own grammar and, as a side effect, parses the project into
 * targetPath (manifest.json, partial_parse.msgpack) — the shared pre-parse every chunk reuses.
 */
export function listArgv(a: ListArgs): string[] {
  const out = [
    ...globalFlags({ json: false, partialParseFile: a.partialParseFile, jsonLogFile: true }),
    'ls',
    ...projectFlags(a),
    '--target-path',
    a.targetPath,
    '--log-path',
    a.logPath,
    '--output',
    'json',
    '--output-keys',
    'unique_id',
  ];
  for (const t of a.resourceTypes) out.push('--resource-type', t);
  if (a.selector !== undefined) out.push('--selector', a.selector);
  if (a.select.length > 0) out.push('--select', ...a.select);
  if (a.exclude.length > 0) out.push('--exclude', ...a.exclude);
  if (a.state !== undefined) out.push('--state', a.state);
  return out;
}

/** dbt flags a PR run passes to every invocation of the run, as one `dbt <command>` would get them. */
export interface RunFlags {
  /** --favor-state (with --defer): unselected parents resolve to the state's relations even where ours exist. */
  favorState?: boolean;
  /** --full-refresh: incremental models and seeds rebuilt from scratch. */
  fullRefresh?: boolean;
  /** --empty: models built with no rows (refs limited to zero rows). */
  empty?: boolean;
}

export interface ChunkArgs extends ProjectArgs {
  command: string;
  targetPath: string;
  logPath: string;
  partialParseFile?: string;
  threads?: number;
  /**
   * A folder holding a run_results.json (run-results.ts selectionStateFile) that lists exactly this invocation's nodes with status `success`:
   * `--state <it> --select result:success` selects them in one pass over the graph, whatever their number
   * (one FQN selector per node costs dbt ~15 ms each on a 2,000-node project, and argv space).
   */
  selectionState: string;
  /** Extra selectors (unit tests, which the result method does not reach). */
  select: string[];
  exclude: string[];
  /** The user's state, for --defer (passed as --defer-state, since --state carries the selection). */
  state?: string;
  defer: boolean;
  flags?: RunFlags;
}

/**
 * One chunk: the exact nodes, with indirect selection off so that dbt adds no test of its own
 * (the planner placed every test, exactly once, in a chunk after all its parents).
 */
export function chunkArgv(a: ChunkArgs): string[] {
  const out = [
    ...globalFlags({ json: true, partialParseFile: a.partialParseFile }),
    a.command,
    ...projectFlags(a),
    '--target-path',
    a.targetPath,
    '--log-path',
    a.logPath,
  ];
  if (a.threads !== undefined) out.push('--threads', String(a.threads));
  out.push('--state', a.selectionState);
  if (a.defer && a.state !== undefined) out.push('--defer', '--defer-state', a.state);
  if (a.defer && a.flags?.favorState) out.push('--favor-state');
  if (a.flags?.fullRefresh) out.push('--full-refresh');
  if (a.flags?.empty) out.push('--empty');
  out.push('--indirect-selection', 'empty', '--select', 'result:success', ...a.select);
  if (a.exclude.length > 0) out.push('--exclude', ...a.exclude);
  return out;
}

/** Bytes an argv takes in the kernel's accounting (each string plus its NUL and pointer). */
export function argvBytes(argv: string[]): number {
  return argv.reduce((n, s) => n + Buffer.byteLength(s) + 1 + 8, 0);
}
