// One runner's share of the work: plan the selected nodes into chunks, run them, merge, report, upload.
// Used for the whole selection (mode all) and for one matrix shard (mode run).
import * as core from '@actions/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { UserError } from '../inputs/errors.js';
import { buildPlanGraph, type PlanGraph } from '../plan/graph.js';
import { planChunks, type Plan } from '../plan/chunks.js';
import { planGroups } from '../plan/groups.js';
import { candidateShapes, fitBudget, type Budget } from '../plan/budget.js';
import { renderPlan } from '../plan/describe.js';
import { readTimings, weigher } from '../plan/timings.js';
import { executePlan } from '../run/execute.js';
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

/** Serial seconds dbt spends per node in one process (Python work that threads do not spread). */
const PER_NODE_SECONDS = 0.02;
/** Up to this many chunks per process: a later chunk can start where an earlier one's parents end (pipelining). */
const CHUNKS_PER_PROCESS = 2;

export function budgetFor(s: Settings): Budget {
  const budget = fitBudget({ parallel: s.parallel, threads: s.threads, maxConnections: s.maxConnections, defaultThreads: 4 });
  if (budget.note) core.warning(budget.note);
  core.info(`Processes at once: ${budget.parallel}; threads per process: ${s.threads === undefined && s.maxConnections === undefined ? "the profile's" : budget.threads}${s.maxConnections !== undefined ? `; at most ${budget.peak} of ${s.maxConnections} warehouse connections` : ''}.`);
  return budget;
}

/** The weight of each node: recorded seconds from the timings input, else an estimate. */
export function weightsFor(s: Settings, graph: PlanGraph, cwd: string): (uid: string) => number {
  const timings = s.timings.length > 0 ? readTimings(s.timings, cwd) : undefined;
  const w = weigher(timings, (uid) => graph.nodes.get(uid)?.resourceType ?? uid.split('.')[0]);
  for (const uid of graph.nodes.keys()) w.weight(uid);
  if (timings !== undefined) {
    core.info(timings.files.length === 0
      ? `Timings: no run_results.json matched ${s.timings.join(', ')}; balancing by estimates (models 1 s, tests 0.2 s).`
      : `Timings: ${w.known} of ${graph.nodes.size} selected nodes have a recorded time in ${timings.files.length} file(s); the rest get the median of their resource type.`);
  }
  return w.weight;
}

export async function runLocal(r: LocalRun): Promise<void> {
  const { settings: s, prepared: p, masker } = r;
  const mask = (t: string): string => masker.mask(t);
  let budget = budgetFor(s);

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
  const weight = weightsFor(s, graph, r.cwd);
  let plan: Plan;
  const planNotes: string[] = [];
  if (s.groups.length > 0 && r.shard === undefined) {
    const gp = planGroups(graph, s.groups.map((g, i) => ({ name: g.name, members: p.groupSets[i] })), weight);
    plan = gp;
    planNotes.push(...gp.notes);
  } else {
    // A chunk's start-up with the shared parse costs about half a cold parse (measured by the benchmark).
    const fixedCost = Math.max(1, 0.5 * p.parseSeconds);
    const shapes = s.chunks !== undefined ? [budget] : candidateShapes({ parallel: s.parallel, threads: s.threads, maxConnections: s.maxConnections, defaultThreads: 4 });
    const tried = shapes.map((shape) => ({ shape, plan: planChunks(graph, weight, { chunks: s.chunks, maxChunks: s.chunks ?? CHUNKS_PER_PROCESS * shape.parallel, slots: shape.parallel, threads: shape.threads, fixedCost, perNodeCost: PER_NODE_SECONDS }) }));
    const best = tried.reduce((a, b) => (b.plan.makespan < a.plan.makespan - 1e-9 ? b : a));
    plan = best.plan;
    if (tried.length > 1) {
      core.info(`Shapes under max-connections ${s.maxConnections}: ${tried.map((t) => `${t.shape.parallel}×${t.shape.threads} → ~${t.plan.makespan.toFixed(1)} s`).join(', ')}; using ${best.shape.parallel} process(es) × ${best.shape.threads} thread(s).`);
      budget = best.shape;
    }
  }
  const hooks = projectHooks(p.manifest);
  if (plan.chunks.length > 1 && hooks.start + hooks.end > 0 && ['build', 'run', 'seed', 'snapshot', 'test'].includes(s.command)) {
    planNotes.push(`The project has ${hooks.start} on-run-start and ${hooks.end} on-run-end hook(s): every dbt process runs them, so they run ${plan.chunks.length} times (once per chunk; dbt has no switch to skip them). Keep them idempotent, or use chunks: 1.`);
  }
  for (const n of planNotes) core.warning(n);
  core.info(renderPlan(plan, budget.parallel, budget.threads));
  if (s.planOnly) {
    core.setOutput('plan', JSON.stringify(plan.chunks.map((c) => ({ index: c.index, name: c.name, nodes: c.nodes, dependsOn: c.dependsOn }))));
    return;
  }

  if (s.githubToken) core.setSecret(s.githubToken);
  const github = await startGithubReporting({
    token: s.githubToken, checkName: s.checkName, prComment: s.prComment, command: s.command, env: r.env,
    log: { info: (m) => core.info(m), warning: (m) => core.warning(m) },
    planSummary: `\`\`\`text\n${mask(renderPlan(plan, budget.parallel, budget.threads))}\n\`\`\``,
  });
  try {
    const { reports, outcomes } = await executePlan({
      settings: s, exe: p.exe, cwd: r.cwd, env: r.env, project: p.project, manifest: p.manifest, graph, plan, budget,
      threads: s.threads === undefined && s.maxConnections === undefined ? undefined : budget.threads,
      partialParseFile: p.partialParseFile, signal: r.signal, killSignal: r.killSignal,
      log: (l) => core.info(mask(l)), mask, weight,
    });

    const wallSeconds = (Date.now() - p.started) / 1000;
    const merged = mergeRunResults({
      chunks: reports.map((c) => ({ results: c.results, artifacts: (outcomes.get(c.chunk.index)?.invocations ?? []).map((a) => a.runResults) })),
      planned: plan.chunks.flatMap((c) => c.nodes), elapsedSeconds: wallSeconds, command: s.command,
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
    writeRunRecord(s.workDir, { plan, budget, reports, outcomes, parseSeconds: p.parseSeconds, wallSeconds, stop: stopReasonOf(r.signal), shard: r.shard });
    const report = buildReport({ command: s.command, manifest: p.manifest, settings: s, chunks: reports.map((c) => ({ ...c, predicted: c.chunk.predicted })), planNotes, wallSeconds, retried });
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

/** parallel-dbt.json beside the merged results: the plan and what each chunk really did (for people and the benchmark). */
function writeRunRecord(dir: string, r: { plan: Plan; budget: Budget; reports: ChunkReport[]; outcomes: Map<number, ChunkOutcome>; parseSeconds: number; wallSeconds: number; stop?: StopReason; shard?: string }): void {
  const record = {
    shard: r.shard,
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
