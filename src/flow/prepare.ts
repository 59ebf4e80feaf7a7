// Before any planning: the dbt executable, deps once, and one `dbt ls` that resolves the selection with dbt's own
// grammar and parses the project into a shared target (the partial parse every chunk reuses).
import * as core from '@actions/core';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { UserError } from '../inputs/errors.js';
import { resolveDbt } from '../dbt/executable.js';
import { hasPackages, listSelected, parseProject, readManifest, runDeps, type DbtCall } from '../dbt/prepare.js';
import type { ProjectArgs } from '../dbt/argv.js';
import type { Manifest } from '../dbt/types.js';
import { resourceTypesFor, runnableSelected } from '../plan/nodes.js';
import { manifestNodes } from '../plan/graph.js';

export interface Prepared {
  exe: string;
  project: ProjectArgs;
  call: DbtCall;
  parseDir: string;
  parseTarget: string;
  parseSeconds: number;
  partialParseFile?: string;
  manifest: Manifest;
  /** Runnable selected nodes. */
  selected: string[];
  /** With groups: each group's runnable nodes (within select/exclude). */
  groupSets: Set<string>[];
  started: number;
}

export async function prepare(s: Settings, env: NodeJS.ProcessEnv, cwd: string, signal: AbortSignal): Promise<Prepared> {
  const exe = resolveDbt(s.dbt, env, cwd);
  if (exe.engine === 'fusion') {
    throw new UserError(`Input 'dbt': ${exe.path} is dbt Fusion (v2), which parallelises itself and does not read a shared partial parse. parallel-dbt runs dbt-core 1.8–1.x: point 'dbt' at a dbt-core install, or run Fusion directly.`);
  }
  const started = Date.now();
  rmSync(s.workDir, { recursive: true, force: true });
  const parseDir = join(s.workDir, 'parse');
  mkdirSync(parseDir, { recursive: true });
  const project: ProjectArgs = { projectDir: s.projectDir, profilesDir: s.profilesDir, target: s.target, vars: s.vars };
  const call: DbtCall = { exe: exe.path, cwd, env, signal, log: (l) => core.info(l) };
  const parseTarget = join(parseDir, 'target');

  if (hasPackages(s.projectDir)) {
    core.info('dbt deps: installing packages once for every chunk');
    await runDeps(call, project, join(parseDir, 'logs'));
  }

  const t0 = Date.now();
  const listBase = { ...project, targetPath: parseTarget, logPath: join(parseDir, 'logs'), state: s.state, resourceTypes: resourceTypesFor(s.command) };
  // The first list parses into parseTarget; the group lists reuse that parse, side by side (ls is read-only).
  const needsUserList = s.groups.length === 0 || s.select.length > 0 || s.exclude.length > 0;
  const lists = [
    ...(needsUserList ? [{ select: s.select, exclude: s.exclude, selector: s.selector }] : []),
    ...s.groups.map((g) => ({ select: g.select, exclude: s.exclude, selector: undefined })),
  ];
  // Nothing to select (the whole project): `dbt parse` gives the same manifest faster than `dbt ls`.
  const wholeProject = s.groups.length === 0 && s.select.length === 0 && s.exclude.length === 0 && s.selector === undefined;
  let firstIds: string[];
  if (wholeProject) {
    await parseProject(call, { ...project, targetPath: parseTarget, logPath: join(parseDir, 'logs') });
    firstIds = allOfTypes(readManifest(parseTarget), resourceTypesFor(s.command));
  } else firstIds = await listSelected(call, { ...listBase, ...lists[0] });
  const parseSeconds = (Date.now() - t0) / 1000;
  const partialParseFile = existsSync(join(parseTarget, 'partial_parse.msgpack')) ? join(parseTarget, 'partial_parse.msgpack') : undefined;
  const restIds = await Promise.all(lists.slice(1).map((l, i) =>
    listSelected(call, { ...listBase, ...l, partialParseFile, targetPath: join(parseDir, `list-${i + 2}`), logPath: join(parseDir, `list-${i + 2}-logs`) })));
  const allIds = [firstIds, ...restIds];
  const userIds = needsUserList ? allIds[0] : undefined;
  const groupIds = needsUserList ? allIds.slice(1) : allIds;
  const manifest = readManifest(parseTarget);
  checkVersion(manifest);
  core.info(`dbt ${manifest.metadata.dbt_version}: parsed and selected in ${parseSeconds.toFixed(1)} s${partialParseFile ? '' : ' (no partial_parse.msgpack: each chunk parses on its own)'}`);

  const userSet = userIds ? new Set(runnableSelected(manifest, userIds)) : undefined;
  const groupSets = groupIds.map((ids) => new Set(runnableSelected(manifest, ids).filter((u) => userSet === undefined || userSet.has(u))));
  const selected = s.groups.length > 0 ? [...new Set(groupSets.flatMap((g) => [...g]))] : [...(userSet ?? [])];
  return { exe: exe.path, project, call, parseDir, parseTarget, parseSeconds, partialParseFile, manifest, selected, groupSets, started };
}

function checkVersion(m: Manifest): void {
  const v = /^(\d+)\.(\d+)/.exec(m.metadata.dbt_version ?? '');
  if (!v) return;
  const [major, minor] = [Number(v[1]), Number(v[2])];
  if (major >= 2) throw new UserError(`Input 'dbt': this is dbt ${m.metadata.dbt_version} (Fusion). parallel-dbt runs dbt-core 1.8–1.x; run Fusion directly (it parallelises itself).`);
  if (major === 1 && minor < 8) throw new UserError(`Input 'dbt': dbt-core ${m.metadata.dbt_version} is too old; parallel-dbt needs dbt-core 1.8 or newer (pip install 'dbt-core>=1.8').`);
}

/** What the merged run_results.json records as the selection. */
export function selectionArgs(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.select = s.groups.length > 0 ? s.groups.map((g) => `${g.name}: ${g.select.join(' ')}`) : s.select;
  out.exclude = s.exclude;
  if (s.selector) out.selector = s.selector;
  return out;
}

/** Every node of the given resource types (all when none are given; runnableSelected drops what cannot run). */
function allOfTypes(m: Manifest, types: string[]): string[] {
  return [...manifestNodes(m)].filter(([, n]) => types.length === 0 || types.includes(n.resource_type)).map(([uid]) => uid);
}
