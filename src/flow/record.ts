// parallel-dbt.json beside the merged results: the plan, the machine model and what each chunk really did, for
// people reading a slow run and for the benchmark.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../plan/chunks.js';
import type { Budget } from '../plan/budget.js';
import type { Machine, ShapeChoice } from '../plan/shape.js';
import type { StopReason } from '../run/stop.js';
import type { ChunkReport } from '../run/scheduler.js';
import type { ChunkRun } from '../run/execute.js';
import type { Prepared } from './prepare.js';

/** Seconds from the first chunk's start to the last chunk's end, when any ran (dbt's own elapsed_time). */
export function executionSpan(reports: ChunkReport[]): number | undefined {
  const starts = reports.map((c) => c.startedAt).filter((x): x is number => x !== undefined);
  const ends = reports.map((c) => c.endedAt).filter((x): x is number => x !== undefined);
  return starts.length > 0 && ends.length > 0 ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
}

/** parallel-dbt.json beside the merged results: the plan and what each chunk really did (for people and the benchmark). */
export function writeRunRecord(dir: string, r: { plan: Plan; budget: Budget; chunks: ChunkRun[]; parseSeconds: number; wallSeconds: number; actualMakespan?: number; stop?: StopReason; shard?: string; runPath: Prepared['runPath']; machine: Machine; choice?: ShapeChoice }): void {
  const record = {
    shard: r.shard,
    runPath: r.runPath.kind,
    runPathReason: r.runPath.why,
    machine: r.machine,
    shapes: r.choice?.tried,
    oneProcessMakespan: r.choice?.oneProcessMakespan,
    actualMakespan: r.actualMakespan,
    parallel: r.budget.parallel,
    threads: r.budget.threads,
    parseSeconds: r.parseSeconds,
    wallSeconds: r.wallSeconds,
    predictedMakespan: r.plan.makespan,
    criticalPath: r.plan.criticalPath,
    totalWork: r.plan.totalWork,
    stop: r.stop,
    chunks: r.chunks.map((c) => ({
      index: c.chunk.index, name: c.chunk.name, nodes: c.chunk.nodes.length, dependsOn: c.chunk.dependsOn,
      predictedStart: c.chunk.predictedStart, predicted: c.chunk.predicted, startedAt: c.startedAt, firstNodeAt: c.firstNodeAt, endedAt: c.endedAt,
      processes: c.invocations.map((i) => ({ attempt: i.attempt, exitCode: i.outcome.exitCode, signal: i.outcome.signal, timedOut: i.outcome.timedOut, seconds: i.outcome.durationMs / 1000, targetPath: i.targetPath, logPath: i.logPath })),
      retried: c.retried,
    })),
  };
  writeFileSync(join(dir, 'parallel-dbt.json'), `${JSON.stringify(record, null, 2)}\n`);
}
