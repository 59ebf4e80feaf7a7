// Wires the one-way flow: inputs → plan → run → report. Every step lives in its own folder.
import * as core from '@actions/core';
import { mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSettings, type Settings } from './inputs/settings.js';
import { UserError } from './inputs/errors.js';
import { resolveDbt } from './dbt/executable.js';
import { hasPackages, listSelected, readManifest, runDeps, type DbtCall } from './dbt/prepare.js';
import type { ProjectArgs } from './dbt/argv.js';
import type { Manifest } from './dbt/types.js';
import { buildPlanGraph } from './plan/graph.js';
import { planChunks, type Plan } from './plan/chunks.js';
import { planGroups } from './plan/groups.js';
import { fitBudget } from './plan/budget.js';
import { resourceTypesFor, runnableSelected } from './plan/nodes.js';
import { renderPlan } from './plan/describe.js';
import { readTimings, weigher } from './plan/timings.js';
import { executePlan } from './run/execute.js';
import { stopReasonOf, type StopReason } from './run/stop.js';
import type { ChunkReport } from './run/scheduler.js';
import type { ChunkOutcome } from './run/chunk.js';
import { mergeRunResults } from './report/merge.js';
import { buildReport } from './report/build.js';
import { publish } from './report/publish.js';
import { Masker, secretsFromEnv, secretsFromProfiles } from './report/secrets.js';
import { homedir } from 'node:os';

export async function run(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<void> {
  // The runner cancels with SIGINT, then SIGTERM 7.5 s later, then kills everything 2.5 s after that.
  // First signal: SIGINT to every dbt (it cancels its queries and writes what finished); second: kill them now.
  const cancel = new AbortController();
  const kill = new AbortController();
  const onSignal = (sig: string) => () => {
    if (!cancel.signal.aborted) {
      core.warning(`Received ${sig}: interrupting every dbt process, then writing what ran.`);
      cancel.abort({ kind: 'cancel', message: 'Not run: the run was cancelled.' });
    } else if (!kill.signal.aborted) {
      core.warning(`Received ${sig} again: stopping every dbt process now.`);
      kill.abort();
    }
  };
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));
  const masker = new Masker(secretsFromEnv(env));
  try {
    await pipeline(env, cwd, cancel.signal, kill.signal, masker);
  } catch (e) {
    if (e instanceof UserError) core.setFailed(masker.mask(e.message));
    else {
      core.setFailed(masker.mask(`parallel-dbt failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`));
      core.debug(e instanceof Error && e.stack ? e.stack : String(e));
    }
  }
}

async function pipeline(env: NodeJS.ProcessEnv, cwd: string, signal: AbortSignal, killSignal: AbortSignal, envMasker: Masker): Promise<void> {
  const s = readSettings(env, cwd);
  const masker = new Masker([...envMasker.secrets, ...secretsFromProfiles(profilesDirUsed(s, env))]);
  for (const secret of masker.secrets) core.setSecret(secret);
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

  // Selection and the shared parse, in one dbt ls.
  const t0 = Date.now();
  const listBase = { ...project, targetPath: parseTarget, logPath: join(parseDir, 'logs'), state: s.state, resourceTypes: resourceTypesFor(s.command) };
  // The first list parses into parseTarget; the group lists reuse that parse, side by side (ls is read-only).
  const needsUserList = s.groups.length === 0 || s.select.length > 0 || s.exclude.length > 0;
  const lists = [
    ...(needsUserList ? [{ select: s.select, exclude: s.exclude, selector: s.selector }] : []),
    ...s.groups.map((g) => ({ select: g.select, exclude: s.exclude, selector: undefined })),
  ];
  const firstIds = await listSelected(call, { ...listBase, ...lists[0] });
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

  const budget = fitBudget({ parallel: s.parallel, threads: s.threads, maxConnections: s.maxConnections, defaultThreads: 4 });
  if (budget.note) core.warning(budget.note);
  core.info(`Processes at once: ${budget.parallel}; threads per process: ${s.threads === undefined && s.maxConnections === undefined ? "the profile's" : budget.threads}${s.maxConnections !== undefined ? `; at most ${budget.peak} of ${s.maxConnections} warehouse connections` : ''}.`);

  if (selected.length === 0) {
    const what = `The selection matched no node to ${s.command}.`;
    if (s.ifNoNodes === 'error') throw new UserError(`${what} (if-no-nodes: error)`);
    if (s.ifNoNodes === 'warn') core.warning(`${what} Nothing to run; set if-no-nodes: error to fail instead.`);
    await publish({ settings: s, mask: (t) => masker.mask(t), report: buildReport({ command: s.command, manifest, settings: s, chunks: [], planNotes: [], wallSeconds: (Date.now() - started) / 1000 }), merged: mergeRunResults({ chunks: [], planned: [], elapsedSeconds: 0, command: s.command, dbtVersion: manifest.metadata.dbt_version, selection: selectionArgs(s) }).artifact });
    return;
  }

  const graph = buildPlanGraph(manifest, selected, s.command);
  const timings = s.timings.length > 0 ? readTimings(s.timings, cwd) : undefined;
  const w = weigher(timings, (uid) => graph.nodes.get(uid)?.resourceType ?? uid.split('.')[0]);
  const weight = w.weight;
  for (const uid of graph.nodes.keys()) weight(uid);
  if (timings !== undefined) {
    core.info(timings.files.length === 0
      ? `Timings: no run_results.json matched ${s.timings.join(', ')}; balancing by estimates (models 1 s, tests 0.2 s).`
      : `Timings: ${w.known} of ${graph.nodes.size} selected nodes have a recorded time in ${timings.files.length} file(s); the rest get the median of their resource type.`);
  }
  let plan: Plan;
  const planNotes: string[] = [];
  if (s.groups.length > 0) {
    const gp = planGroups(graph, s.groups.map((g, i) => ({ name: g.name, members: groupSets[i] })), weight);
    plan = gp;
    planNotes.push(...gp.notes);
  } else {
    plan = planChunks(graph, weight, { chunks: s.chunks, maxChunks: s.chunks ?? budget.parallel, threads: budget.threads, fixedCost: Math.max(1, parseSeconds), perNodeCost: 0.05 });
  }
  for (const n of planNotes) core.warning(n);
  core.info(renderPlan(plan, budget.parallel));
  if (s.planOnly) {
    core.setOutput('plan', JSON.stringify(plan.chunks.map((c) => ({ index: c.index, name: c.name, nodes: c.nodes, dependsOn: c.dependsOn }))));
    return;
  }

  const { reports, outcomes } = await executePlan({
    settings: s, exe: exe.path, cwd, env, project, manifest, graph, plan, budget,
    threads: s.threads === undefined && s.maxConnections === undefined ? undefined : budget.threads,
    partialParseFile, parseDir, signal, killSignal, log: (l) => core.info(masker.mask(l)), mask: (t) => masker.mask(t),
  });

  const wallSeconds = (Date.now() - started) / 1000;
  const merged = mergeRunResults({
    chunks: reports.map((r) => ({ results: r.results, artifacts: (outcomes.get(r.chunk.index)?.invocations ?? []).map((a) => a.runResults) })),
    planned: plan.chunks.flatMap((c) => c.nodes), elapsedSeconds: wallSeconds, command: s.command,
    dbtVersion: manifest.metadata.dbt_version, selection: selectionArgs(s),
  });
  if (merged.duplicates.length > 0) planNotes.push(`${merged.duplicates.length} node(s) were reported by two chunks; the first result is kept: ${merged.duplicates.slice(0, 5).join(', ')}`);
  const stop = stopReasonOf(signal);
  if (stop?.kind === 'cancel') planNotes.push('The run was cancelled: nodes that had not finished are reported as errors, those that never started as skipped.');
  const retried = [...outcomes.values()].flatMap((o) => o.retried);
  if (retried.length > 0) planNotes.push(`${retried.length} node(s) needed a retry: ${retried.slice(0, 10).map((r) => `${r.uid} (${r.statuses.join(' → ')})`).join(', ')}${retried.length > 10 ? ', …' : ''}`);
  const ffStop = [...reports].flatMap((r) => r.results).find((r) => typeof r.message === 'string' && r.message.startsWith('Skipped: fail-fast'));
  if (ffStop) planNotes.push(`fail-fast: ${ffStop.message!.replace(/^Skipped: /, '')} Everything not yet run was skipped.`);
  writeRunRecord(s.workDir, { plan, budget, reports, outcomes, parseSeconds, wallSeconds, stop: stopReasonOf(signal) });
  const report = buildReport({ command: s.command, manifest, settings: s, chunks: reports.map((r) => ({ ...r, predicted: r.chunk.predicted })), planNotes, wallSeconds });
  await publish({ settings: s, mask: (t) => masker.mask(t), report, merged: merged.artifact });
}

function selectionArgs(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.select = s.groups.length > 0 ? s.groups.map((g) => `${g.name}: ${g.select.join(' ')}`) : s.select;
  out.exclude = s.exclude;
  if (s.selector) out.selector = s.selector;
  return out;
}

function checkVersion(m: Manifest): void {
  const v = /^(\d+)\.(\d+)/.exec(m.metadata.dbt_version ?? '');
  if (!v) return;
  const [major, minor] = [Number(v[1]), Number(v[2])];
  if (major >= 2) throw new UserError(`Input 'dbt': this is dbt ${m.metadata.dbt_version} (Fusion). parallel-dbt runs dbt-core 1.8–1.x; run Fusion directly (it parallelises itself).`);
  if (major === 1 && minor < 8) throw new UserError(`Input 'dbt': dbt-core ${m.metadata.dbt_version} is too old; parallel-dbt needs dbt-core 1.8 or newer (pip install 'dbt-core>=1.8').`);
}

/** The folder dbt reads profiles.yml from: the input, DBT_PROFILES_DIR, the project dir if it has one, ~/.dbt. */
function profilesDirUsed(s: Settings, env: NodeJS.ProcessEnv): string {
  if (s.profilesDir !== undefined) return s.profilesDir;
  if (env.DBT_PROFILES_DIR) return env.DBT_PROFILES_DIR;
  if (existsSync(join(s.projectDir, 'profiles.yml'))) return s.projectDir;
  return join(homedir(), '.dbt');
}

/** parallel-dbt.json beside the merged results: the plan and what each chunk really did (for people and the benchmark). */
function writeRunRecord(dir: string, r: { plan: Plan; budget: { parallel: number; threads: number }; reports: ChunkReport[]; outcomes: Map<number, ChunkOutcome>; parseSeconds: number; wallSeconds: number; stop?: StopReason }): void {
  const record = {
    parallel: r.budget.parallel,
    threads: r.budget.threads,
    parseSeconds: r.parseSeconds,
    wallSeconds: r.wallSeconds,
    predictedMakespan: r.plan.makespan,
    criticalPath: r.plan.criticalPath,
    totalWork: r.plan.totalWork,
    stop: r.stop,
    chunks: r.reports.map((c) => {
      const o = r.outcomes.get(c.chunk.index);
      return {
        index: c.chunk.index, name: c.chunk.name, nodes: c.chunk.nodes.length, dependsOn: c.chunk.dependsOn,
        predictedStart: c.chunk.predictedStart, predicted: c.chunk.predicted, startedAt: c.startedAt, endedAt: c.endedAt,
        processes: (o?.invocations ?? []).map((i) => ({ attempt: i.attempt, exitCode: i.outcome.exitCode, signal: i.outcome.signal, timedOut: i.outcome.timedOut, seconds: i.outcome.durationMs / 1000, targetPath: i.targetPath, logPath: i.logPath })),
        retried: o?.retried ?? [],
      };
    }),
  };
  writeFileSync(join(dir, 'parallel-dbt.json'), `${JSON.stringify(record, null, 2)}\n`);
}
