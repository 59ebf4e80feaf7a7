// Before any planning: the dbt executable, the run path (the worker host, or one dbt process per invocation), deps
// once, one parse into a shared target, and the selection resolved with dbt's own grammar. On the worker host the
// parse stays in memory and `ls` reuses it; on the subprocess path one `dbt ls` parses and lists, and every chunk
// reuses its partial parse.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Settings } from '../inputs/settings.js';
import { InputError, UserError } from '../shared/errors.js';
import { DbtExecutableError } from '../dbt/errors.js';
import { resolveDbt } from '../dbt/executable.js';
import { DbtHost, HostUnavailable, pythonOf, type ProfileFacts } from '../dbt/host.js';
import { subprocessLauncher, type DbtLauncher } from '../dbt/process.js';
import { hasPackages, listSelected, parseProject, manifestOf, runDeps, type DbtCall } from '../dbt/prepare.js';
import type { ProjectArgs } from '../dbt/argv.js';
import {
  describeSavedParse,
  logOffset,
  PARTIAL_PARSE_FILE,
  savedParseOutcome,
  seedPartialParse,
  type SavedParseUse,
} from '../dbt/partial-parse.js';
import { manifestNodes, type Manifest } from '../dbt/manifest.js';
import { resourceTypesFor, runnableSelected } from '../plan/nodes.js';
import type { Logger } from '../shared/log.js';

/** How chunks are started, and why. */
export interface RunPath {
  kind: 'fork' | 'subprocess';
  why: string;
  launch: DbtLauncher;
  /** The worker host, when one runs (closed by closePrepared). */
  host?: DbtHost;
  /** Seconds a `dbt` process spends importing dbt, as the host measured it (subprocess path after a host ran). */
  importSeconds?: number;
  /** Forked workers can hold nodes at a gate for parents in other workers (this dbt's queue internals are the known ones). */
  nodeGates: boolean;
}

export interface Prepared {
  project: ProjectArgs;
  runPath: RunPath;
  /** The profile as dbt read it (worker host only). */
  profile?: ProfileFacts;
  /** The shared parse's target folder (its manifest.json is uploaded with the merged results). */
  parseTarget: string;
  parseSeconds: number;
  /** When the parse and the selection ended (epoch ms). */
  parsedAt: number;
  /** What the parse started from (a saved partial parse, or nothing) and what dbt made of it. */
  savedParse: SavedParseUse;
  /** This run's partial_parse.msgpack (the output partial-parse: the base branch caches it for later runs). */
  partialParseFile?: string;
  manifest: Manifest;
  /** Runnable selected nodes. */
  selected: string[];
  /** With groups: each group's runnable nodes (within select/exclude). */
  groupSets: Set<string>[];
  started: number;
}

export async function prepare(
  s: Settings,
  env: NodeJS.ProcessEnv,
  cwd: string,
  signal: AbortSignal,
  log: Logger,
): Promise<Prepared> {
  const exe = dbtExecutable(s, env, cwd);
  if (exe.engine === 'fusion') {
    throw new UserError(
      `Input 'dbt': ${exe.path} is dbt Fusion (v2), which parallelises itself and does not read a shared partial parse. parallel-dbt runs dbt-core 1.8–1.x: point 'dbt' at a dbt-core install, or run Fusion directly.`,
    );
  }
  const started = Date.now();
  rmSync(s.workDir, { recursive: true, force: true });
  const parseDir = join(s.workDir, 'parse');
  mkdirSync(parseDir, { recursive: true });
  const project: ProjectArgs = { projectDir: s.projectDir, profilesDir: s.profilesDir, target: s.target, vars: s.vars };
  const { host, why: noHost } = await startHost(s, exe.path, env, cwd, log);
  const subprocess = subprocessLauncher(exe.path);
  const call: DbtCall = host
    ? {
        launch: (o) => host.invoke(o),
        parse: (o) => host.invoke(o, true, s.command),
        cwd,
        env,
        signal,
        log: (l) => log.info(l),
      }
    : { launch: subprocess, cwd, env, signal, log: (l) => log.info(l) };
  const parseTarget = join(parseDir, 'target');
  try {
    return await resolveSelection();
  } catch (e) {
    await host?.close();
    throw e;
  }

  async function resolveSelection(): Promise<Prepared> {
    if (hasPackages(s.projectDir)) {
      log.info('dbt deps: installing packages once for every chunk');
      await runDeps(call, project, join(parseDir, 'logs'));
    }

    // Where plain dbt would start: a saved partial parse (the input, else the project's own target's), copied to
    // where the action's parse reads it. dbt checks it and parses cold when it does not fit.
    const looked = savedParseOf(s, env);
    const seeded = seedPartialParse(looked, parseTarget);
    const parseLog = join(parseDir, 'logs', 'dbt.log');
    const parseLogStart = logOffset(parseLog);
    const t0 = Date.now();
    const listBase = {
      ...project,
      targetPath: parseTarget,
      logPath: join(parseDir, 'logs'),
      state: s.state,
      resourceTypes: resourceTypesFor(s.command),
    };
    const needsUserList = s.groups.length === 0 || s.select.length > 0 || s.exclude.length > 0;
    const lists = [
      ...(needsUserList ? [{ select: s.select, exclude: s.exclude, selector: s.selector }] : []),
      ...s.groups.map((g) => ({ select: g.select, exclude: s.exclude, selector: undefined })),
    ];
    // Nothing to select (the whole project): `dbt parse` gives the same manifest faster than `dbt ls`.
    const wholeProject =
      s.groups.length === 0 && s.select.length === 0 && s.exclude.length === 0 && s.selector === undefined;
    let allIds: string[][];
    let partialParseFile: string | undefined;
    let manifest: Manifest | undefined;
    const parseArgs = { ...project, targetPath: parseTarget, logPath: join(parseDir, 'logs') };
    const listTarget = (i: number) => ({
      targetPath: join(parseDir, `list-${i + 1}`),
      logPath: join(parseDir, `list-${i + 1}-logs`),
    });
    if (wholeProject) {
      await parseProject(call, parseArgs);
      partialParseFile = partialParseOf(parseTarget);
      manifest = manifestOf(parseTarget);
      allIds = [allOfTypes(manifest, resourceTypesFor(s.command))];
    } else if (host) {
      // The host parses once and keeps the manifest; each list then selects from it in-process, one after another.
      // The first list's state (state:modified's production manifest) is read meanwhile, on the other core.
      const ahead =
        s.state === undefined
          ? undefined
          : { state: s.state, target: listTarget(0).targetPath, project_root: s.projectDir, dir: parseDir };
      await parseProject({ ...call, parse: (o) => host.invoke(o, true, s.command, ahead) }, parseArgs);
      partialParseFile = partialParseOf(parseTarget);
      allIds = [];
      for (const [i, l] of lists.entries())
        allIds.push(await listSelected(call, { ...listBase, ...l, ...listTarget(i) }));
    } else {
      const firstIds = await listSelected(call, { ...listBase, ...lists[0] });
      partialParseFile = partialParseOf(parseTarget);
      // The group lists reuse the first one's parse, side by side (ls is read-only).
      const restIds = await Promise.all(
        lists.slice(1).map((l, i) => listSelected(call, { ...listBase, ...l, partialParseFile, ...listTarget(i + 1) })),
      );
      allIds = [firstIds, ...restIds];
    }
    const parseSeconds = (Date.now() - t0) / 1000;
    const savedParse: SavedParseUse =
      seeded === undefined ? { kind: 'none', looked } : savedParseOutcome(seeded, parseLog, parseLogStart);
    const userIds = needsUserList ? allIds[0] : undefined;
    const groupIds = needsUserList ? allIds.slice(1) : allIds;
    manifest ??= manifestOf(parseTarget);
    checkVersion(manifest);
    const shown = (path: string): string => relative(s.workspace, path) || path;
    log.info(
      `dbt ${manifest.metadata.dbt_version}: parsed and selected in ${parseSeconds.toFixed(1)} s (${describeSavedParse(savedParse, shown)})${partialParseFile ? '' : '; no partial_parse.msgpack: each chunk parses on its own'}`,
    );
    if (savedParse.kind === 'rejected')
      log.notice(
        `The saved partial parse ${shown(savedParse.from)} was not used: ${savedParse.reason}. dbt parsed the project cold (${parseSeconds.toFixed(1)} s).`,
      );

    const userSet = userIds ? new Set(runnableSelected(manifest, userIds)) : undefined;
    const groupSets = groupIds.map(
      (ids) => new Set(runnableSelected(manifest, ids).filter((u) => userSet === undefined || userSet.has(u))),
    );
    const selected = s.groups.length > 0 ? [...new Set(groupSets.flatMap((g) => [...g]))] : [...(userSet ?? [])];
    const runPath = await choosePath(host, noHost, subprocess, manifest);
    return {
      project,
      runPath,
      profile: host?.profile,
      parseTarget,
      parseSeconds,
      parsedAt: t0 + parseSeconds * 1000,
      savedParse,
      partialParseFile,
      manifest,
      selected,
      groupSets,
      started,
    };
  }
}

/** The dbt input resolved to an executable; a bad one names the input. */
function dbtExecutable(s: Settings, env: NodeJS.ProcessEnv, cwd: string): ReturnType<typeof resolveDbt> {
  try {
    return resolveDbt(s.dbt, env, cwd);
  } catch (e) {
    throw e instanceof DbtExecutableError ? new InputError('dbt', e.message) : e;
  }
}

function checkVersion(m: Manifest): void {
  const v = /^(\d+)\.(\d+)/.exec(m.metadata.dbt_version ?? '');
  if (!v) return;
  const [major, minor] = [Number(v[1]), Number(v[2])];
  if (major >= 2)
    throw new UserError(
      `Input 'dbt': this is dbt ${m.metadata.dbt_version} (Fusion). parallel-dbt runs dbt-core 1.8–1.x; run Fusion directly (it parallelises itself).`,
    );
  if (major === 1 && minor < 8)
    throw new UserError(
      `Input 'dbt': dbt-core ${m.metadata.dbt_version} is too old; parallel-dbt needs dbt-core 1.8 or newer (pip install 'dbt-core>=1.8').`,
    );
}

/** What the merged run_results.json records as the selection. */
export function selectionArgs(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.select = s.groups.length > 0 ? s.groups.map((g) => `${g.name}: ${g.select.join(' ')}`) : s.select;
  out.exclude = s.exclude;
  if (s.selector) out.selector = s.selector;
  return out;
}

/**
 * Where to look for a saved partial parse: the partial-parse input, else where plain dbt in this project would read
 * one — its target path (DBT_TARGET_PATH, else dbt_project.yml's target-path, else 'target', relative to the project).
 */
export function savedParseOf(s: Pick<Settings, 'partialParse' | 'projectDir'>, env: NodeJS.ProcessEnv): string {
  if (s.partialParse !== undefined) return s.partialParse;
  const target = env.DBT_TARGET_PATH || projectTargetPath(s.projectDir) || 'target';
  return join(isAbsolute(target) ? target : join(s.projectDir, target), PARTIAL_PARSE_FILE);
}

function projectTargetPath(projectDir: string): string | undefined {
  try {
    const doc = parseYaml(readFileSync(join(projectDir, 'dbt_project.yml'), 'utf8')) as {
      'target-path'?: unknown;
    } | null;
    const t = doc?.['target-path'];
    return typeof t === 'string' && t.trim() !== '' && !t.includes('{{') ? t.trim() : undefined;
  } catch {
    return undefined; // dbt reports a broken dbt_project.yml itself, in the parse
  }
}

function partialParseOf(target: string): string | undefined {
  const path = join(target, 'partial_parse.msgpack');
  return existsSync(path) ? path : undefined;
}

/** Starts the worker host where it can run (Linux, dbt-core, not turned off); otherwise says why not. */
async function startHost(
  s: Settings,
  dbtPath: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  log: Logger,
): Promise<{ host?: DbtHost; why: string }> {
  if (s.workerHost === 'off') return { why: 'worker-host: off' };
  if (process.platform !== 'linux')
    return { why: `fork is not reliable on ${process.platform} (Python bpo-33725 on macOS; none on Windows)` };
  const python = pythonOf(dbtPath, env);
  if (python === undefined) return { why: `could not tell the Python interpreter of ${dbtPath} from its first line` };
  try {
    const host = await DbtHost.start({ python, cwd, env, log: (l) => log.debug(l) });
    return { host, why: '' };
  } catch (e) {
    return { why: `the worker host did not start (${e instanceof HostUnavailable ? e.message : String(e)})` };
  }
}

/** Fork where the host says it is safe; otherwise one `dbt` process per chunk, with the reason for the log. */
async function choosePath(
  host: DbtHost | undefined,
  noHost: string,
  subprocess: DbtLauncher,
  m: Manifest,
): Promise<RunPath> {
  const adapter = adapterOf(host?.profile, m);
  if (host === undefined) return { kind: 'subprocess', why: noHost, launch: subprocess, nodeGates: false };
  const check = await host.forkCheck();
  if (!check.ok) {
    await host.close();
    return {
      kind: 'subprocess',
      why: check.why,
      launch: subprocess,
      nodeGates: false,
      importSeconds: host.importSeconds,
    };
  }
  const gate = check.gate ? '' : "; this dbt's queue is not the one the node gate knows, so chunks run in order";
  return {
    kind: 'fork',
    why: `workers forked from one parsed dbt${adapter ? ` (${adapter})` : ''}${gate}`,
    launch: host.launcher(),
    host,
    nodeGates: check.gate,
  };
}

/** The warehouse adapter: as dbt read the profile (worker host), else as the manifest records it. */
export function adapterOf(profile: ProfileFacts | undefined, m: Manifest): string | undefined {
  return profile?.adapter_type ?? m.metadata.adapter_type;
}

/** Ends what prepare started (the worker host). */
export async function closePrepared(p: Prepared | undefined): Promise<void> {
  await p?.runPath.host?.close();
}

/** Every node of the given resource types (all when none are given; runnableSelected drops what cannot run). */
function allOfTypes(m: Manifest, types: string[]): string[] {
  return [...manifestNodes(m)]
    .filter(([, n]) => types.length === 0 || types.includes(n.resource_type))
    .map(([uid]) => uid);
}
