// One runner's share of the work: plan the selected nodes into chunks, run them, merge, report, upload.
// Used for the whole selection (mode all) and for one matrix shard (mode run).
import * as core from '@actions/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { UserError } from '../inputs/errors.js';
import { buildPlanGraph, type PlanGraph } from '../plan/graph.js';
import type { Plan } from '../plan/chunks.js';
import { planGroups } from '../plan/groups.js';
import type { Budget } from '../plan/budget.js';
import { budgetNote, chooseShape, DEFAULT_IMPORT_SECONDS, forkStartup, shapeCandidates, subprocessStartup, DEFAULT_PER_NODE_CPU, LOCAL_WAREHOUSE_CPU_SHARE, type Machine, type ShapeChoice, type ShapeRequest } from '../plan/shape.js';
import { renderPlan } from '../plan/describe.js';
import { perNodeCpuOf, readTimings, warehouseSeconds, weigher, type Timings } from '../plan/timings.js';
import { executePlan } from '../run/execute.js';
import { memoryUsedPercent } from '../run/memory.js';
import { stopReasonOf, type StopReason } from '../run/stop.js';
import type { ChunkReport } from '../run/scheduler.js';
import type { ChunkOutcome } from '../run/chunk.js';
import { mergeRunResults } from '../report/merge.js';
import { buildReport } from '../report/build.js';
import { publish, uploadRunArtifacts } from '../report/publish.js';
import { startGithubReporting } from '../report/github/index.js';
import type { Masker } from '../report/secrets.js';
import type { Manifest } from '../dbt/types.js';
import { selectionArgs, type Prepared } from './prepare.js';
import { availableParallelism } from 'node:os';

export interface LocalRun {
  settings: Settings;
  prepared: Prepared;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  killSignal: AbortSignal;
  masker: Masker;
  /** In a matrix job: this shard's id (names artifacts, labels the summary). */
  shard?: string;
}

/** The profile's threads when dbt could not tell them (no worker host): dbt's usual CI setting. */
const PROFILE_THREADS_UNKNOWN = 4;

/** The weight of each node: recorded warehouse seconds from the timings input, else an estimate. */
export function weightsFor(timings: Timings | undefined, spec: string[], graph: PlanGraph): (uid: string) => number {
  const w = weigher(timings, (uid) => graph.nodes.get(uid)?.resourceType ?? uid.split('.')[0]);
  for (const uid of graph.nodes.keys()) w.weight(uid);
  if (timings !== undefined) {
    core.info(timings.files.length === 0
      ? `Timings: no run_results.json matched ${spec.join(', ')}; balancing by estimates (models 1 s, tests 0.2 s).`
      : `Timings: ${w.known} of ${graph.nodes.size} selected nodes have a recorded time in ${timings.files.length} file(s); the rest get the median of their resource type.`);
  }
  return w.weight;
}

/** The timings input, with each recorded time split into dbt's CPU and the warehouse's part. */
export function timingsFor(s: Settings, cwd: string): { timings?: Timings; perNodeCpu: number } {
  const raw = s.timings.length > 0 ? readTimings(s.timings, cwd) : undefined;
  const perNodeCpu = perNodeCpuOf(raw, DEFAULT_PER_NODE_CPU);
  return { timings: raw && warehouseSeconds(raw, perNodeCpu), perNodeCpu };
}

/** What the shape choice may use: processes, threads and the connection budget, and what the warehouse allows. */
export function shapeRequest(s: Settings, p: Prepared, log: (line: string) => void): ShapeRequest {
  const profileThreads = p.profile?.threads;
  if (profileThreads === undefined && s.threads === undefined && s.maxConnections === undefined) {
    log(`The profile's threads are not known on this path; assuming ${PROFILE_THREADS_UNKNOWN} (set threads or max-connections to decide).`);
  }
  return {
    parallel: s.parallel ?? availableParallelism(), threads: s.threads, maxConnections: s.maxConnections,
    profileThreads: profileThreads ?? PROFILE_THREADS_UNKNOWN, chunks: s.chunks, oneProcess: oneProcessReason(p),
  };
}

/** A warehouse that allows one writing process: a local DuckDB file (DBT-FACTS §9). */
function oneProcessReason(p: Prepared): string | undefined {
  const adapter = p.profile?.adapter_type ?? (p.manifest.metadata as { adapter_type?: string }).adapter_type;
  if (adapter !== 'duckdb') return undefined;
  const path = p.profile?.path ?? '';
  if (/^(md|motherduck):/i.test(path)) return undefined;
  return `the target is DuckDB${path ? ` (${path})` : ''}: a local DuckDB file allows one writing process, so the action runs one process and spreads the work over its threads`;
}

/** The machine model: cores, the start-up of a chunk on this run path, dbt's CPU per node. */
export function machineFor(p: Prepared, perNodeCpu: number): Machine {
  const size = Object.keys(p.manifest.nodes).length;
  const startup = p.runPath.kind === 'fork' ? forkStartup(size) : subprocessStartup(p.runPath.importSeconds ?? DEFAULT_IMPORT_SECONDS, p.parseSeconds);
  const host = p.profile?.host;
  const local = host !== undefined && /^(localhost|127\.\d+\.\d+\.\d+|::1|0\.0\.0\.0)$/i.test(host);
  return { cores: availableParallelism(), startup, perNodeCpu, warehouseCpuShare: local ? LOCAL_WAREHOUSE_CPU_SHARE : 0, gated: p.runPath.kind === 'fork' && p.runPath.gate };
}

export async function runLocal(r: LocalRun): Promise<void> {
  const { settings: s, prepared: p, masker } = r;
  const mask = (t: string): string => masker.mask(t);

  if (p.selected.length === 0) {
    const what = `The selection matched no node to ${s.command}.`;
    if (s.ifNoNodes === 'error') throw new UserError(`${what} (if-no-nodes: error)`);
    if (s.ifNoNodes === 'warn') core.warning(`${what} Nothing to run; set if-no-nodes: error to fail instead.`);
    const report = buildReport({ command: s.command, manifest: p.manifest, settings: s, chunks: [], planNotes: [], wallSeconds: (Date.now() - p.started) / 1000 });
    const merged = mergeRunResults({ chunks: [], planned: [], elapsedSeconds: 0, command: s.command, dbtVersion: p.manifest.metadata.dbt_version, selection: selectionArgs(s) });
    await publish({ settings: s, mask, report, merged: merged.artifact });
    return;
  }

  const graph = buildPlanGraph(p.manifest, p.selected, s.command);
  const { timings, perNodeCpu } = timingsFor(s, r.cwd);
  const weight = weightsFor(timings, s.timings, graph);
  const request = shapeRequest(s, p, (l) => core.info(l));
  const machine = machineFor(p, perNodeCpu);
  // Gated workers must all run at once, and a node's status must be final when another worker sees it: with memory
  // already short (the memory gate must hold some back) or with retries (a failure may still turn green, and a
  // worker would wait for a retry that waits for it), chunks run in order instead.
  const memory = memoryUsedPercent();
  if (machine.gated && memory > s.memoryLimitPercent) {
    machine.gated = false;
    core.info(`Memory use ${memory.toFixed(0)}% is above memory-limit-percent ${s.memoryLimitPercent}%: chunks run in order, so that later ones can wait for memory.`);
  } else if (machine.gated && s.retries > 0) {
    machine.gated = false;
    core.info(`retries ${s.retries}: chunks run in order (a worker must not wait for a node whose failure may still be retried).`);
  }
  core.info(`Run path: ${p.runPath.kind === 'fork' ? 'fork' : 'one dbt process per chunk'} — ${p.runPath.why}.`);
  if (request.oneProcess !== undefined) core.warning(`One process: ${request.oneProcess}.`);
  core.info(`Machine: ${machine.cores} core(s); chunk start-up ~${machine.startup.toFixed(1)} s; dbt's own CPU ~${Math.round(machine.perNodeCpu * 1000)} ms per node${timings?.runs.length ? ' (from the timings)' : ' (estimate)'}.`);
  let plan: Plan;
  let budget: Budget;
  let choice: ShapeChoice | undefined;
  const planNotes: string[] = [];
  if (s.groups.length > 0 && r.shard === undefined) {
    const gp = planGroups(graph, s.groups.map((g, i) => ({ name: g.name, members: p.groupSets[i] })), weight);
    plan = gp;
    planNotes.push(...gp.notes);
    const shapes = shapeCandidates({ ...request, chunks: gp.chunks.length });
    budget = shapes[shapes.length - 1];
  } else {
    choice = chooseShape(graph, weight, machine, request);
    plan = choice.plan;
    budget = choice.shape;
    if (choice.tried.length > 1) {
      core.info(`Shapes (processes × threads): ${choice.tried.map((t) => `${t.shape.parallel}×${t.shape.threads} → ~${t.makespan.toFixed(1)} s`).join(', ')}; using ${budget.parallel} × ${budget.threads}${budget.parallel === 1 ? ' (one process, as plain dbt: no wider shape is predicted at least 5 % faster)' : ''}.`);
    }
  }
  const note = budgetNote(request, budget);
  if (note !== undefined) core.warning(note);
  if (s.maxConnections !== undefined) core.info(`Connections: at most ${budget.peak} of max-connections ${s.maxConnections} (processes × (threads + 1)).`);
  const hooks = projectHooks(p.manifest);
  if (plan.chunks.length > 1 && hooks.start + hooks.end > 0 && ['build', 'run', 'seed', 'snapshot', 'test'].includes(s.command)) {
    planNotes.push(`The project has ${hooks.start} on-run-start and ${hooks.end} on-run-end hook(s): every dbt process runs them, so they run ${plan.chunks.length} times (once per chunk; dbt has no switch to skip them). Keep them idempotent, or use chunks: 1.`);
  }
  for (const n of planNotes) core.warning(n);
  core.info(renderPlan(plan, budget.parallel, budget.threads, machine));
  if (s.planOnly) {
    core.setOutput('plan', JSON.stringify(plan.chunks.map((c) => ({ index: c.index, name: c.name, nodes: c.nodes, dependsOn: c.dependsOn }))));
    return;
  }

  if (s.githubToken) core.setSecret(s.githubToken);
  const github = await startGithubReporting({
    token: s.githubToken, checkName: s.checkName, prComment: s.prComment, command: s.command, env: r.env,
    log: { info: (m) => core.info(m), warning: (m) => core.warning(m) },
    planSummary: `\`\`\`text\n${mask(renderPlan(plan, budget.parallel, budget.threads, machine))}\n\`\`\``,
  });
  try {
    const { reports, outcomes, firstNodeAt } = await executePlan({
      settings: s, launch: p.runPath.launch, cwd: r.cwd, env: r.env, project: p.project, manifest: p.manifest, graph, plan, budget,
      // One process on an unknown profile runs with the profile's own threads, as plain dbt would.
      threads: budget.parallel === 1 && p.profile?.threads === undefined && s.threads === undefined && s.maxConnections === undefined ? undefined : budget.threads,
      partialParseFile: p.partialParseFile, signal: r.signal, killSignal: r.killSignal,
      log: (l) => core.info(mask(l)), mask, weight,
    });

    const wallSeconds = (Date.now() - p.started) / 1000;
    const merged = mergeRunResults({
      chunks: reports.map((c) => ({ results: c.results, artifacts: (outcomes.get(c.chunk.index)?.invocations ?? []).map((a) => a.runResults) })),
      // dbt's elapsed_time is the run's execution, not its parse: the chunks' span (so that a later run reading this
      // file as timings sees dbt's per-node pace, not the parse spread over the nodes).
      planned: plan.chunks.flatMap((c) => c.nodes), elapsedSeconds: executionSpan(reports) ?? wallSeconds, command: s.command,
      dbtVersion: p.manifest.metadata.dbt_version, selection: selectionArgs(s),
    });
    if (merged.duplicates.length > 0) planNotes.push(`${merged.duplicates.length} node(s) were reported by two chunks; the first result is kept: ${merged.duplicates.slice(0, 5).join(', ')}`);
    const stop = stopReasonOf(r.signal);
    if (stop?.kind === 'cancel') planNotes.push('The run was cancelled: nodes that had not finished are reported as errors, those that never started as skipped.');
    const retried = [...outcomes.values()].flatMap((o) => o.retried);
    if (retried.length > 0) planNotes.push(`${retried.length} node(s) needed a retry: ${retried.slice(0, 10).map((x) => `${x.uid} (${x.statuses.join(' → ')})`).join(', ')}${retried.length > 10 ? ', …' : ''}`);
    const ffStop = reports.flatMap((c) => c.results).find((x) => typeof x.message === 'string' && x.message.startsWith('Skipped: fail-fast'));
    if (ffStop) planNotes.push(`fail-fast: ${ffStop.message!.replace(/^Skipped: /, '')} Everything not yet run was skipped.`);
    if (r.shard !== undefined) planNotes.unshift(`Matrix shard ${r.shard}: ${plan.chunks.reduce((n, c) => n + c.nodes.length, 0)} node(s) of the selection.`);
    writeRunRecord(s.workDir, { plan, budget, reports, outcomes, firstNodeAt, parseSeconds: p.parseSeconds, wallSeconds, stop: stopReasonOf(r.signal), shard: r.shard, runPath: p.runPath, machine, choice });
    const speedEstimate = choice !== undefined ? { chosen: choice.plan.makespan, oneProcess: choice.oneProcessMakespan } : undefined;
    const report = buildReport({ command: s.command, manifest: p.manifest, settings: s, chunks: reports.map((c) => ({ ...c, predicted: c.chunk.predicted })), planNotes, wallSeconds, speedEstimate, retried });
    // dbt could not run at all (every chunk stopped before its first node): one error line, not one per node.
    const fatal = [...outcomes.values()].find((o) => o.fatal !== undefined)?.fatal;
    const anyRan = report.nodes.some((n) => n.bucket !== 'errored' && n.bucket !== 'skipped');
    const fatalLine = fatal !== undefined && !anyRan ? `dbt could not run: ${fatal}. Fix the project, profile or connection so that 'dbt ${s.command}' works on its own.` : undefined;
    await publish({ settings: s, mask, report, merged: merged.artifact, github, cancelled: r.signal.aborted, fatal: fatalLine });
    if (s.uploadArtifacts || r.shard !== undefined) {
      await uploadRunArtifacts({
        settings: s, env: r.env, mask, cancelled: r.signal.aborted, log: (l) => core.info(l), warn: (l) => core.warning(l), shard: r.shard,
        chunks: reports.map((c) => ({
          name: c.chunk.name,
          invocations: outcomes.get(c.chunk.index)?.invocations ?? [],
          failing: report.nodes.filter((n) => n.chunk === c.chunk.name && (n.bucket === 'errored' || n.bucket === 'failed')).map((n) => n.name),
        })),
        merged: { 'run_results.json': join(s.workDir, 'run_results.json'), 'junit.xml': join(s.workDir, 'junit.xml'), 'parallel-dbt.json': join(s.workDir, 'parallel-dbt.json'), 'manifest.json': join(p.parseTarget, 'manifest.json') },
      });
    }
  } catch (e) {
    await github.abandon(mask(`parallel-dbt failed: ${e instanceof Error ? e.message : String(e)}`), r.signal.aborted ? 'cancelled' : 'failure');
    throw e;
  }
}

/** Seconds from the first chunk's start to the last chunk's end, when any ran. */
function executionSpan(reports: ChunkReport[]): number | undefined {
  const starts = reports.map((c) => c.startedAt).filter((x): x is number => x !== undefined);
  const ends = reports.map((c) => c.endedAt).filter((x): x is number => x !== undefined);
  return starts.length > 0 && ends.length > 0 ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
}

/** parallel-dbt.json beside the merged results: the plan and what each chunk really did (for people and the benchmark). */
function writeRunRecord(dir: string, r: { plan: Plan; budget: Budget; reports: ChunkReport[]; outcomes: Map<number, ChunkOutcome>; firstNodeAt: Map<number, number>; parseSeconds: number; wallSeconds: number; stop?: StopReason; shard?: string; runPath: Prepared['runPath']; machine: Machine; choice?: ShapeChoice }): void {
  const record = {
    shard: r.shard,
    runPath: r.runPath.kind,
    runPathReason: r.runPath.why,
    machine: r.machine,
    shapes: r.choice?.tried,
    oneProcessMakespan: r.choice?.oneProcessMakespan,
    actualMakespan: executionSpan(r.reports),
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
        predictedStart: c.chunk.predictedStart, predicted: c.chunk.predicted, startedAt: c.startedAt, firstNodeAt: r.firstNodeAt.get(c.chunk.index), endedAt: c.endedAt,
        processes: (o?.invocations ?? []).map((i) => ({ attempt: i.attempt, exitCode: i.outcome.exitCode, signal: i.outcome.signal, timedOut: i.outcome.timedOut, seconds: i.outcome.durationMs / 1000, targetPath: i.targetPath, logPath: i.logPath })),
        retried: o?.retried ?? [],
      };
    }),
  };
  writeFileSync(join(dir, 'parallel-dbt.json'), `${JSON.stringify(record, null, 2)}\n`);
}

/** on-run-start / on-run-end hooks of the project and its packages (manifest operation nodes). */
export function projectHooks(m: Manifest): { start: number; end: number } {
  let start = 0;
  let end = 0;
  for (const [uid, n] of Object.entries(m.nodes)) {
    if (n.resource_type !== 'operation') continue;
    if (/on-run-start/.test(uid)) start++;
    else if (/on-run-end/.test(uid)) end++;
  }
  return { start, end };
}
