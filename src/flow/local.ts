// One runner's share of the work, as a script: plan the selected nodes, run them, merge, report, upload.
// Used for the whole selection (mode all) and for one matrix shard (mode run).
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { UserError } from '../shared/errors.js';
import type { Masker } from '../shared/secrets.js';
import { maskedLogger } from '../shared/log.js';
import { buildPlanGraph, type PlanGraph } from '../plan/graph.js';
import { manifestNodes } from '../dbt/manifest.js';
import { planRun, type RunPlan } from '../plan/choose.js';
import { predictGrown, shapeThatRan, speedInHindsight, type Machine, type ShapeRequest } from '../plan/shape.js';
import { renderPlan } from '../plan/describe.js';
import { cpuPerNodeOf, executePlan, otherCpuShareOf, type ChunkRun, type Execution } from '../run/execute.js';
import { memoryUsedPercent } from '../run/memory.js';
import { failFastCause, stopReasonOf } from '../run/stop.js';
import { isFailure } from '../dbt/statuses.js';
import { mergeRunResults } from '../report/merge.js';
import { buildReport } from '../report/build.js';
import { nodeFacts } from '../report/model.js';
import { fatalLine, runNotes } from '../report/notes.js';
import { publish } from '../report/publish.js';
import { startGithubReporting, type GithubReporting } from '../report/github/index.js';
import { uploadRunFiles } from '../artifacts/run-files.js';
import { selectionArgs, type Prepared } from './prepare.js';
import { machineFor, orderedBecause, shapeRequest, timingsFor, weightsFor } from './planning.js';
import { executionSpan, runRecordOf, writeRunRecord } from './run-record.js';
import { publishOptions, runOptions, type Runner } from './runner.js';

export interface LocalRun {
  settings: Settings;
  prepared: Prepared;
  /** What this runner runs: the selection, or in a matrix job its shard's part of it. */
  nodes: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  killSignal: AbortSignal;
  masker: Masker;
  runner: Runner;
  /** In a matrix job: this shard's id (names artifacts, labels the summary). */
  shard?: string;
}

/** What planning decided, with what it was decided from. */
interface Planned extends RunPlan {
  graph: PlanGraph;
  machine: Machine;
  request: ShapeRequest;
  weight: (uid: string) => number;
  /** When the plan was made (epoch ms). */
  plannedAt: number;
}

export async function runLocal(r: LocalRun): Promise<void> {
  const { settings: s } = r;
  if (r.nodes.length === 0) return reportEmpty(r);
  const planned = planLocal(r);
  if (s.planOnly) {
    r.runner.output(
      'plan',
      JSON.stringify(
        planned.plan.chunks.map((c) => ({ index: c.index, name: c.name, nodes: c.nodes, dependsOn: c.dependsOn })),
      ),
    );
    return;
  }
  if (s.githubToken) r.runner.secret(s.githubToken);
  const github = await startGithubReporting({
    token: s.githubToken,
    checkName: s.checkName,
    prComment: s.prComment,
    command: s.command,
    env: r.env,
    log: r.runner,
    planSummary: `\`\`\`text\n${r.masker.mask(renderPlan(planned.plan, planned.budget.parallel, planned.budget.threads, planned.machine))}\n\`\`\``,
  });
  try {
    const run = await execute(r, planned);
    await reportRun(r, planned, run, github);
  } catch (e) {
    await github.abandon(
      r.masker.mask(`parallel-dbt failed: ${e instanceof Error ? e.message : String(e)}`),
      r.signal.aborted ? 'cancelled' : 'failure',
    );
    throw e;
  }
}

/** The selection matched nothing: say so (or fail, as if-no-nodes asks) and publish an empty report. */
async function reportEmpty(r: LocalRun): Promise<void> {
  const { settings: s, prepared: p } = r;
  const what = `The selection matched no node to ${s.command}.`;
  if (s.ifNoNodes === 'error') throw new UserError(`${what} (if-no-nodes: error)`);
  if (s.ifNoNodes === 'warn') r.runner.warning(`${what} Nothing to run; set if-no-nodes: error to fail instead.`);
  const report = buildReport({
    command: s.command,
    manifest: p.manifest,
    paths: s,
    chunks: [],
    planNotes: [],
    wallSeconds: (Date.now() - p.started) / 1000,
  });
  const merged = mergeRunResults({
    chunks: [],
    planned: [],
    elapsedSeconds: 0,
    command: s.command,
    dbtVersion: p.manifest.metadata.dbt_version,
    selection: selectionArgs(s),
  });
  await publish({
    options: publishOptions(s),
    mask: (t) => r.masker.mask(t),
    sink: r.runner,
    env: r.env,
    report,
    merged: merged.artifact,
  });
}

/** The graph, the machine, the weights, then the plan and shape (plan/choose.ts), each decision logged once. */
function planLocal(r: LocalRun): Planned {
  const { settings: s, prepared: p, runner: log } = r;
  const graph = buildPlanGraph(p.manifest, r.nodes, s.command);
  const { timings, perNodeCpu, otherCpuShare } = timingsFor(s, r.cwd);
  const weight = weightsFor(timings, s.timings, graph, log);
  const request = shapeRequest(s, p, log);
  // Node gates where the run path has them, unless the chunks must run in order after all.
  // PARALLEL_DBT_NODE_POOL=off: gated workers keep the chunks the plan gave them (for comparisons; not an input).
  const possible = machineFor(p, perNodeCpu, r.env.PARALLEL_DBT_NODE_POOL !== 'off', otherCpuShare);
  const ordered = possible.nodeGates ? orderedBecause(s, memoryUsedPercent()) : undefined;
  const machine = ordered === undefined ? possible : { ...possible, nodeGates: false };
  if (ordered !== undefined) log.info(ordered);
  log.info(`Run path: ${p.runPath.kind === 'fork' ? 'fork' : 'one dbt process per chunk'} — ${p.runPath.why}.`);
  if (request.oneProcess !== undefined) log.warning(`One process: ${request.oneProcess}.`);
  log.info(
    `Machine: ${machine.cores} core(s); chunk start-up ~${machine.startup.toFixed(1)} s; dbt's own CPU ~${Math.round(machine.perNodeCpu * 1000)} ms per node${timings?.runs.some((x) => x.cpuPerNode !== undefined) ? ' (measured by an earlier run)' : timings?.runs.length ? ' (from the timings)' : ' (estimate)'}; others on the same cores ~${machine.warehouseCpuShare.toFixed(2)} s per second of it${otherCpuShare !== undefined ? ' (measured by an earlier run)' : ' (estimate)'}.`,
  );
  const groups =
    s.groups.length > 0 && r.shard === undefined
      ? s.groups.map((g, i) => ({ name: g.name, members: p.groupSets[i] }))
      : undefined;
  const chosen = planRun({
    graph,
    weight,
    machine,
    request,
    groups,
    manifest: p.manifest,
    command: s.command,
    hooksOnce: p.runPath.kind === 'fork',
  });
  if (chosen.shapesLine !== undefined) log.info(chosen.shapesLine);
  if (chosen.budgetWarning !== undefined) log.warning(chosen.budgetWarning);
  if (chosen.connectionsLine !== undefined) log.info(chosen.connectionsLine);
  for (const n of chosen.notes) log.warning(n);
  log.info(renderPlan(chosen.plan, chosen.budget.parallel, chosen.budget.threads, machine));
  return { ...chosen, graph, machine, request, weight, plannedAt: Date.now() };
}

/** The chunks as concurrent dbt invocations (run/execute.ts). */
function execute(r: LocalRun, x: Planned): Promise<Execution> {
  const { settings: s, prepared: p } = r;
  const all = manifestNodes(p.manifest);
  const mask = (t: string): string => r.masker.mask(t);
  return executePlan({
    options: runOptions(s),
    launch: p.runPath.launch,
    cwd: r.cwd,
    env: r.env,
    project: p.project,
    manifest: p.manifest,
    graph: x.graph,
    plan: x.plan,
    budget: x.budget,
    // One process on an unknown profile runs with the profile's own threads, as plain dbt would.
    threads:
      x.budget.parallel === 1 &&
      p.profile?.threads === undefined &&
      s.threads === undefined &&
      s.maxConnections === undefined
        ? undefined
        : x.budget.threads,
    partialParseFile: p.partialParseFile,
    signal: r.signal,
    killSignal: r.killSignal,
    log: maskedLogger(r.runner, mask),
    mask,
    weight: x.weight,
    describe: (uid) => nodeFacts(all.get(uid), uid, s.projectDir, s.workspace, p.manifest.metadata.project_name),
    shared: p.runPath.kind === 'fork',
    repredict: (now) =>
      x.plan.pooled !== undefined ? predictGrown(x.graph, x.weight, x.machine, x.plan.pooled, now) : undefined,
  });
}

/** Merge, notes, the run record, the report and its publication, then the artifacts. */
async function reportRun(r: LocalRun, x: Planned, run: Execution, github: GithubReporting): Promise<void> {
  const { settings: s, prepared: p } = r;
  // The project hooks, as dbt reports them (dbt ≥ 1.9), count as nodes of the run: with the first chunk.
  const chunks = run.chunks.map((c, i) =>
    i === 0 && run.hooks.length > 0 ? { ...c, results: [...run.hooks, ...c.results] } : c,
  );
  const mask = (t: string): string => r.masker.mask(t);
  const wallSeconds = (Date.now() - p.started) / 1000;
  const span = executionSpan(chunks);
  const stop = stopReasonOf(r.signal);
  const cpuPerNode = cpuPerNodeOf(run.chunks);
  const otherCpuShare = otherCpuShareOf(run);
  const merged = mergeRunResults({
    chunks: chunks.map((c) => ({ results: c.results, artifacts: c.invocations.map((a) => a.runResults) })),
    // dbt's elapsed_time is the run's execution, not its parse: the chunks' span (so that a later run reading this
    // file as timings sees dbt's per-node pace, not the parse spread over the nodes).
    planned: [...run.hooks.map((h) => h.unique_id), ...x.plan.chunks.flatMap((c) => c.nodes)],
    elapsedSeconds: span ?? wallSeconds,
    command: s.command,
    dbtVersion: p.manifest.metadata.dbt_version,
    selection: selectionArgs(s),
    facts: {
      ...(cpuPerNode !== undefined ? { cpu_per_node: Number(cpuPerNode.toFixed(4)) } : {}),
      ...(otherCpuShare !== undefined ? { other_cpu_share: Number(otherCpuShare.toFixed(3)) } : {}),
    },
  });
  const retried = chunks.flatMap((c) => c.retried);
  const notes = runNotes({
    planNotes: x.notes,
    duplicates: merged.duplicates,
    cancelled: stop?.kind === 'cancel',
    retried,
    failFast: run.stoppedBy?.kind === 'fail-fast' ? failFastCause(run.stoppedBy.after) : undefined,
    shard:
      r.shard !== undefined ? { id: r.shard, nodes: x.plan.chunks.reduce((n, c) => n + c.nodes.length, 0) } : undefined,
  });
  const recordPath = writeRunRecord(
    s.workDir,
    runRecordOf({
      plan: x.plan,
      budget: x.budget,
      chunks,
      parseSeconds: p.parseSeconds,
      startedAt: p.started,
      parsedAt: p.parsedAt,
      plannedAt: x.plannedAt,
      wallSeconds,
      actualMakespan: span,
      stop,
      shard: r.shard,
      runPath: p.runPath,
      machine: x.machine,
      choice: x.choice,
      growth: run.growth,
      calibration: run.calibration,
      cpuPerNode,
      otherCpuShare,
    }),
  );
  // The speed figure, re-costed with the node times this run measured (a first run's weights are defaults).
  const measured = new Map(
    chunks
      .flatMap((c) => c.results)
      .filter((res) => res.execution_time > 0)
      .map((res) => [res.unique_id, res.execution_time]),
  );
  const speedEstimate =
    x.choice !== undefined
      ? speedInHindsight(
          x.graph,
          x.weight,
          measured,
          { ...x.machine, perNodeCpu: cpuPerNode ?? x.machine.perNodeCpu },
          x.request,
          {
            shape: shapeThatRan(x.budget, x.plan.pooled, run.growth),
            chunks: x.plan.chunks.length,
          },
        )
      : undefined;
  const report = buildReport({
    command: s.command,
    manifest: p.manifest,
    paths: s,
    chunks: chunks.map((c) => ({ ...c, predicted: c.chunk.predicted })),
    planNotes: notes,
    wallSeconds,
    speedEstimate,
    retried,
  });
  const fatal = fatalLine(firstFatal(chunks), report.nodes, s.command);
  await publish({
    options: publishOptions(s),
    mask,
    sink: r.runner,
    env: r.env,
    report,
    merged: merged.artifact,
    github,
    cancelled: r.signal.aborted,
    fatal,
  });
  if (!s.uploadArtifacts && r.shard === undefined) return;
  await uploadRunFiles({
    prefix: s.artifactName,
    workDir: s.workDir,
    retentionDays: s.retentionDays,
    env: r.env,
    mask,
    cancelled: r.signal.aborted,
    log: r.runner,
    shard: r.shard,
    chunks: chunks.map((c) => ({
      name: c.chunk.name,
      invocations: c.invocations,
      failing: report.nodes.filter((n) => n.chunk === c.chunk.name && isFailure(n.bucket)).map((n) => n.name),
    })),
    merged: {
      'run_results.json': join(s.workDir, 'run_results.json'),
      'junit.xml': join(s.workDir, 'junit.xml'),
      'parallel-dbt.json': recordPath,
      'manifest.json': join(p.parseTarget, 'manifest.json'),
    },
  });
}

/** The first chunk to end that found dbt unable to run: its error. */
function firstFatal(chunks: ChunkRun[]): string | undefined {
  return chunks.filter((c) => c.fatal !== undefined).sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0))[0]?.fatal;
}
