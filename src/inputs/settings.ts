// Reads the action's inputs the way the runner passes them (INPUT_* variables) into one typed object.
// Throws InputError on the first bad value, naming the input, what was given and what is allowed.
import { isAbsolute, join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { COMMANDS, Input, type DbtCommand, type InputName } from './names.js';
import { InputError } from '../shared/errors.js';
import { statusesOf } from '../dbt/statuses.js';
import type { RunFlags } from '../dbt/argv.js';
import { parseGroups, type GroupSpec } from './groups.js';

export type IfNoNodes = 'warn' | 'error' | 'ignore';
export type Mode = 'all' | 'plan' | 'run' | 'report';
export type FailOn = 'any' | 'new';
export type CommentMode = 'always' | 'changes' | 'failures';

export interface Settings {
  /** all: plan and run here; plan / run / report: the three jobs of a matrix fan-out. */
  mode: Mode;
  /** mode plan: at most this many matrix shards. */
  shards: number;
  /** mode run: which shard this job runs. */
  shard?: string;
  /** mode run/report: a shard-plan.json path instead of the plan artifact. */
  shardPlan?: string;
  command: DbtCommand;
  select: string[];
  exclude: string[];
  selector?: string;
  groups: GroupSpec[];
  /** Number of automatic chunks; undefined = as many as `parallel`. */
  chunks?: number;
  /** dbt processes at once; undefined = the machine's cores. */
  parallel?: number;
  threads?: number;
  maxConnections?: number;
  /** Absolute. */
  projectDir: string;
  /** Absolute; undefined = dbt's default lookup. */
  profilesDir?: string;
  target?: string;
  /** The YAML text passed to --vars, validated. */
  vars?: string;
  /** Absolute. */
  state?: string;
  defer: boolean;
  /** --favor-state, --full-refresh, --empty for every invocation. */
  flags: RunFlags;
  dbt: string;
  timeoutMinutes?: number;
  uploadArtifacts: boolean;
  ifNoNodes: IfNoNodes;
  /** Absolute folder for per-chunk targets and logs and the merged results. */
  workDir: string;
  planOnly: boolean;
  /** Paths or globs of earlier run_results.json files. */
  timings: string[];
  /**
   * A saved partial_parse.msgpack to start the parse from (absolute; it may not exist: a first run). Unset: the
   * project's own, where plain dbt would read it (see flow/prepare.ts savedParseOf).
   */
  partialParse?: string;
  retries: number;
  /** Statuses that are retried: error always; fail when asked. */
  retryOn: Set<string>;
  failFast: boolean;
  staggerSeconds: number;
  /** No new process starts while the machine's memory use is above this percentage. */
  memoryLimitPercent: number;
  /** Token for the check run and the PR comment; '' = neither. */
  githubToken: string;
  /** '' = "<job id> / dbt <command>". */
  checkName: string;
  prComment: boolean;
  /** Prefix of artifact names. */
  artifactName: string;
  retentionDays?: number;
  /** Repository root: annotations are relative to it. */
  workspace: string;
  /** auto: chunks are forked from one parsed dbt where that is safe; off: one `dbt` process per chunk. */
  workerHost: 'auto' | 'off';
  /** Absolute paths or globs of the base branch's run_results.json files. */
  compareTo: string[];
  /** any: every failure fails the step; new: only failures the base did not have. */
  failOn: FailOn;
  /** When the PR comment is written: always, when its problems changed, or once something failed. */
  commentMode: CommentMode;
  /** Not an input: PARALLEL_DBT_STALL_SECONDS (tests, diagnosis) overrides how long a gated node may stall. */
  stallSeconds?: number;
}

type Env = Record<string, string | undefined>;

/** The raw value of an input as @actions/core reads it (INPUT_<NAME>, spaces to _, upper-case), trimmed. */
export function rawInput(env: Env, name: InputName): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

function integer(env: Env, name: InputName, min: number, max: number): number | undefined {
  const raw = rawInput(env, name);
  if (raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InputError(name, `must be a whole number from ${min} to ${max}, got '${raw}'.`);
  }
  return Number(raw);
}

function positiveNumber(env: Env, name: InputName, max: number): number | undefined {
  const raw = rawInput(env, name);
  if (raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0) || n > max) {
    throw new InputError(name, `must be a number greater than 0 and at most ${max}, got '${raw}'.`);
  }
  return n;
}

function positiveOrZero(env: Env, name: InputName, max: number): number | undefined {
  const raw = rawInput(env, name);
  if (raw === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > max) {
    throw new InputError(name, `must be a number from 0 to ${max}, got '${raw}'.`);
  }
  return Number(raw);
}

function boolean(env: Env, name: InputName, fallback: boolean): boolean {
  const raw = rawInput(env, name).toLowerCase();
  if (raw === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(raw)) return true;
  if (['false', 'no', '0', 'off'].includes(raw)) return false;
  throw new InputError(name, `must be true or false, got '${rawInput(env, name)}'.`);
}

function oneOf<T extends string>(env: Env, name: InputName, allowed: readonly T[], fallback: T): T {
  const raw = rawInput(env, name);
  if (raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new InputError(name, `must be one of ${allowed.join(', ')}; got '${raw}'.`);
  }
  return raw as T;
}

/** Splits a selection input on whitespace and newlines, as dbt splits --select values. */
function selection(env: Env, name: InputName): string[] {
  return rawInput(env, name)
    .split(/\s+/)
    .filter((s) => s !== '');
}

function directory(env: Env, name: InputName, base: string, fallback?: string): string | undefined {
  const raw = rawInput(env, name) || fallback;
  if (raw === undefined) return undefined;
  const abs = isAbsolute(raw) ? raw : resolve(base, raw);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new InputError(name, `directory '${raw}' does not exist (resolved to ${abs}).`);
  }
  return abs;
}

/** dbt's own flags for PR runs, each checked against the command that takes it (dbt-core's cli/main.py). */
function readFlags(env: Env, command: DbtCommand, defer: boolean): RunFlags {
  const favorState = boolean(env, Input.FavorState, false);
  if (favorState && !defer)
    throw new InputError(
      Input.FavorState,
      `needs 'defer: true' (and 'state'): it chooses the state's relations over this run's for unselected parents.`,
    );
  const fullRefresh = boolean(env, Input.FullRefresh, false);
  if (fullRefresh && !['build', 'run', 'seed'].includes(command))
    throw new InputError(
      Input.FullRefresh,
      `dbt ${command} has no --full-refresh; use it with command build, run or seed.`,
    );
  const empty = boolean(env, Input.Empty, false);
  if (empty && !['build', 'run', 'snapshot'].includes(command))
    throw new InputError(
      Input.Empty,
      `dbt ${command} has no --empty; use it with command build or run (snapshot on dbt 1.9+).`,
    );
  return { favorState, fullRefresh, empty };
}

function stallSecondsOf(env: Env): number | undefined {
  const n = Number(env.PARALLEL_DBT_STALL_SECONDS);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Reads and validates all inputs. `cwd` resolves relative paths (the runner's working directory). */
export function readSettings(env: Env, cwd: string): Settings {
  const { mode, shards, shard, shardPlan } = readMatrix(env, cwd);
  const command = oneOf(env, Input.Command, COMMANDS, 'build');
  const { select, exclude, selector, groups } = readSelection(env);
  const parallel = integer(env, Input.Parallel, 1, 64);
  const chunks = integer(env, Input.Chunks, 1, 256);
  const threads = integer(env, Input.Threads, 1, 256);
  const maxConnections = integer(env, Input.MaxConnections, 2, 100000);

  const workspace = env.GITHUB_WORKSPACE && isAbsolute(env.GITHUB_WORKSPACE) ? env.GITHUB_WORKSPACE : cwd;
  const projectDir = directory(env, Input.ProjectDir, cwd, '.')!;
  if (mode !== 'report' && !existsSync(join(projectDir, 'dbt_project.yml'))) {
    throw new InputError(
      Input.ProjectDir,
      `'${rawInput(env, Input.ProjectDir) || '.'}' has no dbt_project.yml (looked in ${projectDir}); point project-dir at your dbt project's folder.`,
    );
  }
  const profilesDir = directory(env, Input.ProfilesDir, cwd);

  const vars = readVars(env);

  const state = directory(env, Input.State, cwd);
  const defer = boolean(env, Input.Defer, false);
  if (defer && state === undefined) {
    throw new InputError(Input.Defer, `needs 'state' (the folder of the production manifest.json to defer to).`);
  }
  const flags = readFlags(env, command, defer);
  const dbt = rawInput(env, Input.Dbt) || 'dbt';
  const timeoutMinutes = positiveNumber(env, Input.TimeoutMinutes, 10080);
  const uploadArtifacts = boolean(env, Input.UploadArtifacts, false);
  const ifNoNodes = oneOf(env, Input.IfNoNodes, ['warn', 'error', 'ignore'] as const, 'warn');
  const planOnly = boolean(env, Input.PlanOnly, false);
  const retries = integer(env, Input.Retries, 0, 5) ?? 0;
  const retryOn = readRetryOn(env);
  const failFast = boolean(env, Input.FailFast, false);
  const staggerSeconds = positiveOrZero(env, Input.StaggerSeconds, 600) ?? 0;
  const memoryLimitPercent = integer(env, Input.MemoryLimit, 1, 100) ?? 90;
  const timings = lines(env, Input.Timings);
  const partialParseRaw = rawInput(env, Input.PartialParse);
  const partialParse =
    partialParseRaw === '' ? undefined : isAbsolute(partialParseRaw) ? partialParseRaw : resolve(cwd, partialParseRaw);
  const compareTo = lines(env, Input.CompareTo).map((l) => (isAbsolute(l) ? l : resolve(cwd, l)));
  const failOn = oneOf(env, Input.FailOn, ['any', 'new'] as const, 'any');
  const commentMode = oneOf(env, Input.CommentMode, ['always', 'changes', 'failures'] as const, 'always');
  const workDir = workDirOf(env, cwd, projectDir);

  return {
    mode,
    shards,
    shard,
    shardPlan,
    command,
    select,
    exclude,
    selector,
    groups,
    chunks,
    parallel,
    threads,
    maxConnections,
    projectDir,
    profilesDir,
    target: rawInput(env, Input.Target) || undefined,
    vars,
    state,
    defer,
    flags,
    dbt,
    timeoutMinutes,
    uploadArtifacts,
    ifNoNodes,
    workDir,
    planOnly,
    workspace,
    timings,
    partialParse,
    retries,
    retryOn,
    failFast,
    staggerSeconds,
    memoryLimitPercent,
    artifactName: rawInput(env, Input.ArtifactName) || 'parallel-dbt',
    retentionDays: integer(env, Input.RetentionDays, 1, 90),
    githubToken: rawInput(env, Input.GithubToken),
    checkName: rawInput(env, Input.CheckName),
    prComment: boolean(env, Input.PrComment, false),
    workerHost: oneOf(env, Input.WorkerHost, ['auto', 'off'] as const, 'auto'),
    compareTo,
    failOn,
    commentMode,
    stallSeconds: stallSecondsOf(env),
  };
}

/** mode, and for the matrix: shards (plan), this job's shard (run), where the shard plan is. */
function readMatrix(env: Env, cwd: string): Pick<Settings, 'mode' | 'shards' | 'shard' | 'shardPlan'> {
  const mode = oneOf(env, Input.Mode, ['all', 'plan', 'run', 'report'] as const, 'all');
  const shards = integer(env, Input.Shards, 1, 256) ?? 4;
  const shard = rawInput(env, Input.Shard) || undefined;
  if (mode === 'run' && shard === undefined)
    throw new InputError(
      Input.Shard,
      `is needed with mode: run — pass the matrix value, e.g. 'shard: \${{ matrix.shard }}'.`,
    );
  if (shard !== undefined && !/^[0-9]{1,3}$/.test(shard))
    throw new InputError(Input.Shard, `must be a shard number from the plan job's matrix output, got '${shard}'.`);
  const shardPlanRaw = rawInput(env, Input.ShardPlan);
  const shardPlan = shardPlanRaw ? (isAbsolute(shardPlanRaw) ? shardPlanRaw : resolve(cwd, shardPlanRaw)) : undefined;
  return { mode, shards, shard, shardPlan };
}

/** select / exclude / selector / groups, and the combinations dbt would silently ignore. */
function readSelection(env: Env): Pick<Settings, 'select' | 'exclude' | 'selector' | 'groups'> {
  const select = selection(env, Input.Select);
  const exclude = selection(env, Input.Exclude);
  const selector = rawInput(env, Input.Selector) || undefined;
  const groups = parseGroups(rawInput(env, Input.Groups));
  if (selector !== undefined && (select.length > 0 || exclude.length > 0)) {
    throw new InputError(
      Input.Selector,
      `cannot be combined with 'select' or 'exclude' (dbt ignores them when --selector is given); put the whole selection in the selector, or drop it.`,
    );
  }
  if (groups.length > 0 && selector !== undefined) {
    throw new InputError(
      Input.Groups,
      `cannot be combined with 'selector': each group line is its own selection. Use 'select'/'exclude' to narrow every group, or drop 'selector'.`,
    );
  }
  if (groups.length > 0 && rawInput(env, Input.Chunks) !== '') {
    throw new InputError(Input.Chunks, `cannot be combined with 'groups': with groups, each group is one chunk.`);
  }
  return { select, exclude, selector, groups };
}

/** vars, passed to dbt as written once it is known to be a YAML mapping. */
function readVars(env: Env): string | undefined {
  const varsRaw = rawInput(env, Input.Vars);
  if (varsRaw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = parseYaml(varsRaw);
  } catch (e) {
    throw new InputError(
      Input.Vars,
      `is not valid YAML (${firstLine(e)}); give a YAML or JSON mapping such as '{"key": "value"}'.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(
      Input.Vars,
      `must be a YAML mapping such as 'key: value' or '{"key": "value"}', got '${varsRaw.slice(0, 80).replace(/\s+/g, ' ')}'.`,
    );
  }
  return varsRaw;
}

/** retry-on: the words error and fail, as the statuses they stand for. */
function readRetryOn(env: Env): Set<string> {
  const retryOnRaw = rawInput(env, Input.RetryOn) || 'error';
  const retryOn = new Set<string>();
  for (const word of retryOnRaw.split(/[\s,]+/).filter((w) => w !== '')) {
    if (word === 'error' || word === 'fail')
      statusesOf(word === 'error' ? 'errored' : 'failed').forEach((x) => retryOn.add(x));
    else throw new InputError(Input.RetryOn, `must list error and/or fail (e.g. 'error, fail'), got '${retryOnRaw}'.`);
  }
  return retryOn;
}

/** A multi-line input: one entry per line, blank lines and # comments left out. */
function lines(env: Env, name: InputName): string[] {
  return rawInput(env, name)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** work-dir, else RUNNER_TEMP/parallel-dbt on a runner, else the project's target/parallel-dbt. */
function workDirOf(env: Env, cwd: string, projectDir: string): string {
  const raw = rawInput(env, Input.WorkDir);
  if (raw) return isAbsolute(raw) ? raw : resolve(cwd, raw);
  return resolve(
    env.RUNNER_TEMP && isAbsolute(env.RUNNER_TEMP) ? env.RUNNER_TEMP : projectDir,
    env.RUNNER_TEMP ? 'parallel-dbt' : 'target/parallel-dbt',
  );
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
