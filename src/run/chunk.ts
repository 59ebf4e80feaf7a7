// Runs one chunk: one dbt process (or several in a row when the node list would not fit in one argv) with its
// own target and log folders, then collects a result for every node it was given.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { argvBytes, chunkArgv, type ProjectArgs } from '../dbt/argv.js';
import { runDbt, type DbtRunOutcome } from '../dbt/process.js';
import { readRunResults, syntheticResult } from '../dbt/results.js';
import type { DbtLogEvent, RunResult, RunResultsArtifact } from '../dbt/types.js';
import type { SelectorIndex } from './selectors.js';
import { nodeResultOf, type NodeEventResult } from '../dbt/events.js';
import type { Blocked } from './scheduler.js';

/** Stay well under Linux's ARG_MAX (2 MiB for argv + environment). */
export const ARGV_BUDGET_BYTES = 1024 * 1024;

export interface ChunkJob {
  name: string;
  /** Nodes to run, in a topological order. */
  nodes: string[];
  dir: string;
}

export interface ChunkContext {
  exe: string;
  command: string;
  project: ProjectArgs;
  cwd: string;
  env: Record<string, string | undefined>;
  partialParseFile?: string;
  threads: number;
  state?: string;
  defer: boolean;
  timeoutMs?: number;
  graceMs?: number;
  signal?: AbortSignal;
  selectors: SelectorIndex;
  onEvent?: (chunk: string, ev: DbtLogEvent) => void;
  onText?: (chunk: string, line: string) => void;
  /** A node's final status, as soon as dbt's result event announces it. */
  onNodeStatus?: (uid: string, status: string) => void;
}

export interface ChunkOutcome {
  results: RunResult[];
  /** run_results.json of each invocation (one unless the node list was split). */
  artifacts: { targetPath: string; logPath: string; runResults?: RunResultsArtifact }[];
  processes: DbtRunOutcome[];
  durationMs: number;
}

/** Splits nodes (kept in order) into batches whose argv fits the budget. */
export function batchesFor(ctx: ChunkContext, job: ChunkJob): string[][] {
  const base = argvBytes(chunkArgv({ ...ctx.project, command: ctx.command, targetPath: join(job.dir, 'target-00'), logPath: join(job.dir, 'logs-00'), partialParseFile: ctx.partialParseFile, threads: ctx.threads, select: [], exclude: [], state: ctx.state, defer: ctx.defer })) + envBytes(ctx.env);
  const batches: string[][] = [];
  let cur: string[] = [];
  let size = base;
  for (const uid of job.nodes) {
    const sel = ctx.selectors.selectionFor([uid]);
    const bytes = argvBytes([...sel.select, ...sel.exclude]);
    if (cur.length > 0 && size + bytes > ARGV_BUDGET_BYTES) {
      batches.push(cur);
      cur = [];
      size = base;
    }
    cur.push(uid);
    size += bytes;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

function envBytes(env: Record<string, string | undefined>): number {
  return Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v ?? '') + 2 + 8, 0);
}

export async function runChunk(ctx: ChunkContext, job: ChunkJob, blocked: Blocked): Promise<ChunkOutcome> {
  const started = Date.now();
  rmSync(job.dir, { recursive: true, force: true });
  mkdirSync(job.dir, { recursive: true });
  const byUid = new Map<string, RunResult>();
  const artifacts: ChunkOutcome['artifacts'] = [];
  const processes: DbtRunOutcome[] = [];
  const batches = batchesFor(ctx, job);
  for (const [i, planned] of batches.entries()) {
    // Nodes downstream of a failure in an earlier batch (or chunk) are skipped, as dbt would.
    const batch: string[] = [];
    for (const uid of planned) {
      const why = blocked(uid, byUid);
      if (why !== undefined) byUid.set(uid, syntheticResult(uid, 'skipped', why));
      else batch.push(uid);
    }
    if (batch.length === 0) continue;
    if (ctx.signal?.aborted) {
      for (const uid of batch) byUid.set(uid, syntheticResult(uid, 'skipped', 'Not run: the run was cancelled.'));
      continue;
    }
    const suffix = batches.length > 1 ? `-${String(i + 1).padStart(2, '0')}` : '';
    const targetPath = join(job.dir, `target${suffix}`);
    const logPath = join(job.dir, `logs${suffix}`);
    const sel = ctx.selectors.selectionFor(batch);
    const wantedNow = new Set(batch);
    const seen = new Map<string, NodeEventResult>();
    const argv = chunkArgv({ ...ctx.project, command: ctx.command, targetPath, logPath, partialParseFile: ctx.partialParseFile, threads: ctx.threads, select: sel.select, exclude: sel.exclude, state: ctx.state, defer: ctx.defer });
    const outcome = await runDbt({
      exe: ctx.exe, argv, cwd: ctx.cwd, env: ctx.env, timeoutMs: ctx.timeoutMs, graceMs: ctx.graceMs, signal: ctx.signal,
      onEvent: (ev) => {
        const r = nodeResultOf(ev);
        if (r !== undefined && wantedNow.has(r.uid)) {
          seen.set(r.uid, r);
          ctx.onNodeStatus?.(r.uid, r.status);
        }
        ctx.onEvent?.(job.name, ev);
      },
      onText: (line) => ctx.onText?.(job.name, line),
    });
    processes.push(outcome);
    const runResults = readRunResults(join(targetPath, 'run_results.json'));
    artifacts.push({ targetPath, logPath, runResults });
    const wanted = new Set(batch);
    for (const r of runResults?.results ?? []) if (wanted.has(r.unique_id)) byUid.set(r.unique_id, r);
    // No run_results.json entry (dbt crashed, was killed, or timed out): keep what the events said, else an error.
    const reason = missingReason(outcome, ctx.timeoutMs);
    for (const uid of batch) {
      if (byUid.has(uid)) continue;
      const ev = seen.get(uid);
      if (ev !== undefined) byUid.set(uid, { ...syntheticResult(uid, 'error', ev.message), status: ev.status, execution_time: ev.seconds ?? 0, message: ev.status === 'error' ? ev.message : null });
      else byUid.set(uid, syntheticResult(uid, 'error', reason));
    }
  }
  return { results: job.nodes.map((u) => byUid.get(u)!).filter((r) => r !== undefined), artifacts, processes, durationMs: Date.now() - started };
}

function missingReason(o: DbtRunOutcome, timeoutMs?: number): string {
  if (o.spawnError) return `dbt could not be started: ${o.spawnError}`;
  if (o.timedOut) return `Timed out: the chunk ran longer than ${Math.round((timeoutMs ?? 0) / 60000 * 10) / 10} minute(s) (timeout-minutes) and was interrupted before this node finished.`;
  if (o.cancelled) return 'Cancelled: the run was cancelled before this node finished.';
  const last = o.tail.filter((l) => l.trim() !== '').slice(-3).join(' | ');
  const how = o.signal ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
  return `dbt ${how} without a result for this node${last ? `: ${last}` : ''}`;
}
