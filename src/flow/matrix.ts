// Fan-out over GitHub's matrix: `mode: plan` splits the selection into shards and sets the `matrix` output,
// `mode: run` (with `shard`) runs one shard like a normal run, `mode: report` merges every shard's results.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { UserError } from '../shared/errors.js';
import { readManifest, type Manifest } from '../dbt/manifest.js';
import { readRunResults, syntheticResult, type RunResult, type RunResultsArtifact } from '../dbt/run-results.js';
import { buildPlanGraph } from '../plan/graph.js';
import { planShards } from '../plan/shards.js';
import { mergeRunResults } from '../report/merge.js';
import { buildReport } from '../report/build.js';
import { publish } from '../report/publish.js';
import { localArtifactsDir } from '../artifacts/run-files.js';
import { artifactName, uploadArtifactSets } from '../artifacts/upload.js';
import { fetchArtifacts, latestAttempts } from '../artifacts/download.js';
import { selectionArgs, type Prepared } from './prepare.js';
import { weightsFor, timingsFor } from './planning.js';
import { publishOptions, type Runner } from './runner.js';
import { readRunRecord, RUN_RECORD_FILE, RunRecordError } from './run-record.js';

export interface ShardPlanFile {
  version: 1;
  command: string;
  dbtVersion: string;
  selection: Record<string, unknown>;
  shards: { shard: string; nodes: string[] }[];
}

function planArtifactBase(s: Settings): string {
  return `${s.artifactName}-plan`;
}

export async function planMatrix(i: {
  settings: Settings;
  prepared: Prepared;
  env: NodeJS.ProcessEnv;
  cwd: string;
  runner: Runner;
}): Promise<void> {
  const { settings: s, prepared: p, runner } = i;
  const graph = buildPlanGraph(p.manifest, p.selected, s.command);
  const sp = planShards(graph, weightsFor(timingsFor(s, i.cwd).timings, s.timings, graph, runner), s.shards, s.command);
  for (const n of sp.notes) runner.warning(n);
  const file: ShardPlanFile = {
    version: 1,
    command: s.command,
    dbtVersion: p.manifest.metadata.dbt_version,
    selection: selectionArgs(s),
    shards: sp.shards.map(({ shard, nodes }) => ({ shard, nodes })),
  };
  const path = join(s.workDir, 'shard-plan.json');
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  runner.info(`Matrix plan: ${sp.shards.length} shard(s) for ${p.selected.length} node(s)`);
  for (const sh of sp.shards)
    runner.info(`  shard ${sh.shard}: ${sh.nodes.length} node(s), ~${sh.work.toFixed(1)} s of work`);
  const name = artifactName({
    prefix: planArtifactBase(s),
    job: 'matrix',
    runAttempt: i.env.GITHUB_RUN_ATTEMPT ?? '1',
  });
  const [up] = await uploadArtifactSets([{ name, rootDirectory: s.workDir, files: [path] }], {
    localDir: localArtifactsDir(s.workDir),
    env: i.env,
    log: runner,
    retentionDays: s.retentionDays,
  });
  if (!up?.ok)
    throw new UserError(
      `mode plan: the shard plan could not be stored as artifact ${name} (${up?.error}); the shard jobs need it.`,
    );
  runner.output('matrix', JSON.stringify({ shard: sp.shards.map((x) => x.shard) }));
  runner.output('shard-plan', path);
  runner.output('shards', sp.shards.length);
}

async function loadShardPlan(s: Settings, env: NodeJS.ProcessEnv): Promise<ShardPlanFile> {
  let path = s.shardPlan;
  if (path === undefined) {
    const found = await fetchArtifacts(
      new RegExp(`^${escape(planArtifactBase(s))}-matrix-attempt-\\d+`),
      join(s.workDir, 'downloads'),
      env,
      localArtifactsDir(s.workDir),
    );
    const latest = latestAttempts(found, () => 'plan').get('plan');
    if (latest === undefined)
      throw new UserError(
        `mode ${s.mode}: no shard plan found (artifact ${planArtifactBase(s)}-matrix-attempt-N from the plan job). Run a job with mode: plan first and make this job need it, with the same artifact-name.`,
      );
    path = join(latest.dir, 'shard-plan.json');
  }
  if (!existsSync(path)) throw new UserError(`Input 'shard-plan': ${path} does not exist.`);
  const plan = JSON.parse(readFileSync(path, 'utf8')) as ShardPlanFile;
  if (plan.version !== 1 || !Array.isArray(plan.shards))
    throw new UserError(`${path} is not a parallel-dbt shard plan.`);
  return plan;
}

/** mode run: the nodes of this job's shard, checked against this job's own selection. */
export async function shardNodes(i: {
  settings: Settings;
  prepared: Prepared;
  env: NodeJS.ProcessEnv;
  runner: Runner;
}): Promise<string[]> {
  const { settings: s, prepared: p } = i;
  const plan = await loadShardPlan(s, i.env);
  const mine = plan.shards.find((x) => x.shard === s.shard);
  if (mine === undefined)
    throw new UserError(
      `Input 'shard': '${s.shard}' is not in the plan (shards: ${plan.shards.map((x) => x.shard).join(', ')}).`,
    );
  const here = new Set(p.selected);
  const missing = mine.nodes.filter((u) => !here.has(u));
  if (missing.length > 0)
    throw new UserError(
      `shard ${s.shard}: ${missing.length} planned node(s) are not selected in this job (e.g. ${missing[0]}): give every matrix job the same project, selection and state as the plan job.`,
    );
  i.runner.info(`Matrix shard ${s.shard} of ${plan.shards.length}: ${mine.nodes.length} node(s).`);
  return mine.nodes;
}

/** mode report: every shard's merged results into one run_results.json, summary, annotations and outputs. */
export async function reportMatrix(i: {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  mask: (t: string) => string;
  runner: Runner;
}): Promise<void> {
  const { settings: s, env, runner } = i;
  mkdirSync(s.workDir, { recursive: true });
  const plan = await loadShardPlan(s, env);
  const pattern = new RegExp(`^${escape(s.artifactName)}-.+-shard-(\\d+)-attempt-\\d+(-[0-9a-f]{8})?$`);
  const found = await fetchArtifacts(pattern, join(s.workDir, 'downloads'), env, localArtifactsDir(s.workDir));
  const byShard = latestAttempts(found, (n) => pattern.exec(n)?.[1]);
  const chunks: {
    chunk: { index: number; name: string; nodes: string[]; dependsOn: number[]; work: number; predicted: number };
    results: RunResult[];
    startedAt?: number;
    endedAt?: number;
  }[] = [];
  const artifacts: (RunResultsArtifact | undefined)[] = [];
  let manifest: Manifest | undefined;
  const notes: string[] = [];
  const retried: { uid: string; statuses: string[] }[] = [];
  for (const [idx, sh] of plan.shards.entries()) {
    const a = byShard.get(sh.shard);
    const resultsPath = a ? join(a.dir, 'merged', 'run_results.json') : undefined;
    let results: RunResult[];
    let seconds = 0;
    if (resultsPath !== undefined && existsSync(resultsPath)) {
      const rr = readRunResults(resultsPath);
      artifacts.push(rr);
      const wanted = new Set(sh.nodes);
      const got = new Map(rr.results.filter((r) => wanted.has(r.unique_id)).map((r) => [r.unique_id, r]));
      results = sh.nodes.map(
        (u) => got.get(u) ?? syntheticResult(u, 'error', `Shard ${sh.shard} reported no result for this node.`),
      );
      seconds = rr.elapsed_time;
      retried.push(...shardRetries(join(a!.dir, 'merged', RUN_RECORD_FILE)));
      const mpath = join(a!.dir, 'merged', 'manifest.json');
      if (manifest === undefined && existsSync(mpath)) manifest = readManifest(mpath);
    } else {
      notes.push(
        `Shard ${sh.shard} left no results (its job failed before reporting, was cancelled, or did not upload): its ${sh.nodes.length} node(s) count as errors.`,
      );
      results = sh.nodes.map((u) =>
        syntheticResult(
          u,
          'error',
          `Shard ${sh.shard} left no results: its job failed before reporting or was cancelled.`,
        ),
      );
    }
    chunks.push({
      chunk: { index: idx + 1, name: `shard-${sh.shard}`, nodes: sh.nodes, dependsOn: [], work: 0, predicted: 0 },
      results,
      startedAt: 0,
      endedAt: seconds * 1000,
    });
  }
  for (const n of notes) runner.warning(n);
  const merged = mergeRunResults({
    chunks: chunks.map((c, k) => ({ results: c.results, artifacts: [artifacts[k]] })),
    planned: plan.shards.flatMap((x) => x.nodes),
    elapsedSeconds: Math.max(0, ...chunks.map((c) => (c.endedAt ?? 0) / 1000)),
    command: plan.command,
    dbtVersion: plan.dbtVersion,
    selection: plan.selection,
  });
  const report = buildReport({
    command: plan.command,
    manifest: manifest ?? { metadata: { dbt_version: plan.dbtVersion }, nodes: {} },
    paths: s,
    chunks,
    planNotes: [`${plan.shards.length} matrix shard(s) merged.`, ...notes],
    wallSeconds: merged.artifact.elapsed_time,
    retried,
  });
  await publish({ options: publishOptions(s), mask: i.mask, sink: runner, env, report, merged: merged.artifact });
  if (notes.length > 0 && report.ok) runner.fail(`${notes.length} shard(s) left no results.`);
}

/** The retried nodes a shard recorded in its parallel-dbt.json (none when the file is missing or unreadable). */
function shardRetries(path: string): { uid: string; statuses: string[] }[] {
  try {
    return readRunRecord(path).chunks.flatMap((c) => c.retried);
  } catch (e) {
    if (e instanceof RunRecordError) return [];
    throw e;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
