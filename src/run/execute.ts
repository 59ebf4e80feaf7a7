// Runs a plan: schemas once, then the chunks as concurrent dbt processes under the scheduler.
import * as core from '@actions/core';
import { join } from 'node:path';
import type { Settings } from '../inputs/settings.js';
import type { ProjectArgs } from '../dbt/argv.js';
import { createSchemas, type DbtCall } from '../dbt/prepare.js';
import type { DbtLogEvent, Manifest } from '../dbt/types.js';
import type { Plan } from '../plan/chunks.js';
import type { PlanGraph } from '../plan/graph.js';
import type { Budget } from '../plan/budget.js';
import { schemasOf } from '../plan/nodes.js';
import { runChunk, type ChunkOutcome } from './chunk.js';
import { runSchedule, type ChunkReport } from './scheduler.js';
import { SelectorIndex } from './selectors.js';
import { memoryUsedPercent } from './memory.js';

export interface ExecuteInput {
  settings: Settings;
  exe: string;
  cwd: string;
  env: Record<string, string | undefined>;
  project: ProjectArgs;
  manifest: Manifest;
  graph: PlanGraph;
  plan: Plan;
  budget: Budget;
  /** Threads per process, or undefined for the profile's. */
  threads?: number;
  partialParseFile?: string;
  parseDir: string;
  signal: AbortSignal;
  killSignal: AbortSignal;
  log: (line: string) => void;
  /** Masks known secrets in text that is printed. */
  mask: (text: string) => string;
}

export interface Execution {
  reports: ChunkReport[];
  outcomes: Map<number, ChunkOutcome>;
}

export async function executePlan(x: ExecuteInput): Promise<Execution> {
  const s = x.settings;
  const selectors = new SelectorIndex(x.manifest);
  const selected = x.plan.chunks.flatMap((c) => c.nodes);
  if (x.plan.chunks.length > 1 && x.budget.parallel > 1 && ['build', 'run', 'seed', 'snapshot'].includes(s.command)) {
    const schemas = schemasOf(x.manifest, selected);
    x.log(`Creating ${schemas.length} schema(s) once before the parallel run (concurrent CREATE SCHEMA can fail on PostgreSQL).`);
    const call: DbtCall = { exe: x.exe, cwd: x.cwd, env: x.env, signal: x.signal, log: x.log };
    await createSchemas(call, { ...x.project, targetPath: join(x.parseDir, 'schemas'), logPath: join(x.parseDir, 'logs'), partialParseFile: x.partialParseFile }, schemas);
  }
  const outcomes = new Map<number, ChunkOutcome>();
  const reports = await runSchedule({
    plan: x.plan, graph: x.graph, parallel: x.budget.parallel, signal: x.signal, failFast: s.failFast,
    staggerMs: s.staggerSeconds * 1000,
    admit: () => {
      const used = memoryUsedPercent();
      return used > s.memoryLimitPercent ? `memory use ${used.toFixed(0)}% is above memory-limit-percent ${s.memoryLimitPercent}%: waiting for a running chunk to finish before starting another` : undefined;
    },
    onWait: (reason) => x.log(`⏸ ${reason}`),
    onChunkStart: (c) => x.log(`▶ ${c.name}: ${c.nodes.length} node(s) started`),
    onChunkEnd: (r) => x.log(`■ ${r.chunk.name}: finished in ${(((r.endedAt ?? 0) - (r.startedAt ?? 0)) / 1000).toFixed(1)} s`),
    launch: async (chunk, { blocked, onNodeStatus, signal }) => {
      const out = await runChunk({
        exe: x.exe, command: s.command, project: x.project, cwd: x.cwd, env: x.env, partialParseFile: x.partialParseFile,
        threads: x.threads, state: s.state, defer: s.defer,
        timeoutMs: s.timeoutMinutes !== undefined ? s.timeoutMinutes * 60000 : undefined, graceMs: 4000,
        signal, killSignal: x.killSignal, retries: s.retries, retryOn: s.retryOn,
        parentsOf: (uid) => x.graph.nodes.get(uid)?.parents ?? [],
        selectors, onEvent: (name, ev) => logEvent(name, ev, x.mask), onNodeStatus,
      }, { name: chunk.name, nodes: chunk.nodes, dir: join(s.workDir, chunk.name) }, blocked);
      outcomes.set(chunk.index, out);
      return out.results;
    },
  });
  return { reports, outcomes };
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** One line per dbt info/warn/error event, prefixed by the chunk. */
function logEvent(chunk: string, ev: DbtLogEvent, mask: (t: string) => string): void {
  if (ev.info.level === 'debug') return;
  const msg = ev.info.msg.replace(ANSI, '');
  if (msg.trim() === '') return;
  core.info(mask(`[${chunk}] ${msg}`));
}
