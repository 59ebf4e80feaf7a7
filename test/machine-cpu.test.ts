// What the run measures of the machine's CPU (src/run/machine-cpu.ts) and what it makes of it (otherCpuShareOf,
// cpuPerNodeOf in src/run/execute.ts). Real counters of this machine; no dbt.
import { describe, expect, test } from '@jest/globals';
import { machineBusySeconds } from '../src/run/machine-cpu.js';
import { cpuPerNodeOf, otherCpuShareOf, type ChunkRun, type Execution } from '../src/run/execute.js';
import { syntheticResult } from '../src/dbt/run-results.js';

describe('machineBusySeconds', () => {
  test("the cores' busy time grows by at least the CPU this process burns", () => {
    const before = machineBusySeconds();
    if (before === undefined) return; // a container that sees other machines' CPUs: nothing to measure
    // Burn a quarter of a CPU-second (not of wall time: a busy machine gives this process less of it).
    const start = process.cpuUsage();
    const used = (): number => {
      const u = process.cpuUsage(start);
      return (u.user + u.system) / 1e6;
    };
    const deadline = Date.now() + 30_000;
    let x = 0;
    while (used() < 0.25 && Date.now() < deadline) for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    const burnt = used();
    const after = machineBusySeconds()!;
    expect(burnt).toBeGreaterThanOrEqual(0.25);
    expect(after - before).toBeGreaterThanOrEqual(burnt - 0.05); // ticks of 10 ms
  });
});

describe('otherCpuShareOf and cpuPerNodeOf', () => {
  const chunk = (index: number, nodes: number, cpu?: { seconds: number; startup: number }): ChunkRun => ({
    chunk: { index, name: `chunk-${index}`, nodes: [], dependsOn: [], work: 0, predicted: 0 },
    results: Array.from({ length: nodes }, (_, i) => syntheticResult(`model.p.m${index}_${i}`, 'skipped', '')),
    invocations:
      nodes > 0
        ? [
            {
              targetPath: '',
              logPath: '',
              attempt: 1,
              outcome: { exitCode: 0, signal: undefined, timedOut: false, cancelled: false, durationMs: 1, tail: [] },
            },
          ]
        : [],
    retried: [],
    cpu,
  });
  const run = (chunks: ChunkRun[], machineBusySeconds?: number): Execution => ({
    chunks,
    hooks: [],
    growth: [],
    machineBusySeconds,
  });

  test("the machine's busy time beyond the workers', per second of theirs; per node, theirs past their start-ups", () => {
    const r = run([chunk(1, 60, { seconds: 3, startup: 0.6 }), chunk(2, 40, { seconds: 2, startup: 0.4 })], 8);
    expect(otherCpuShareOf(r)).toBeCloseTo(3 / 5, 9);
    expect(cpuPerNodeOf(r.chunks)).toBeCloseTo(4 / 100, 9);
  });

  test('nothing measured, or a worker that ran without a measure: no share', () => {
    expect(otherCpuShareOf(run([chunk(1, 10, { seconds: 1, startup: 0.1 })]))).toBeUndefined();
    expect(otherCpuShareOf(run([chunk(1, 10, { seconds: 1, startup: 0.1 }), chunk(2, 10)], 5))).toBeUndefined();
    expect(cpuPerNodeOf([chunk(1, 10)])).toBeUndefined();
    // A spare that never started is not a worker that ran.
    expect(otherCpuShareOf(run([chunk(1, 10, { seconds: 2, startup: 0.2 }), chunk(2, 0)], 3))).toBeCloseTo(0.5, 9);
  });
});
