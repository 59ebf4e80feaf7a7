// worker_host.py's pool without dbt (test/support/pool_probe.py): the run's node slots held across real processes,
// and how a worker sizes itself. Needs python3, not dbt.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROBE = join(import.meta.dirname, 'support', 'pool_probe.py');

function probe(...args: string[]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'pool-probe-'));
  try {
    return JSON.parse(execFileSync('python3', [PROBE, args[0], dir, ...args.slice(1)], { encoding: 'utf8' })) as Record<
      string,
      unknown
    >;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the run slots shared by a pool (PoolSlots)', () => {
  test('three processes of four threads each never hold one slot twice at once', () => {
    const out = probe('slots', '3', '3', '1.5');
    expect(out.doubled).toBe(0);
    expect(out.taken as number).toBeGreaterThan(100);
  });

  test('a worker that dies holding every slot frees them all (the kernel drops its locks)', () => {
    expect(probe('dead', '5')).toEqual({ free: 5 });
  });
});

describe('a pooled worker sizes itself by what it measures (WorkPool)', () => {
  test('one worker takes the 7 slots; the other joins only when the first is CPU-bound with ready nodes waiting', () => {
    expect(probe('sizing')).toEqual({
      start: [7, 0],
      'second live': [7, 0],
      'half a core': { caps: [7, 0], grown: false },
      'nothing waits': { caps: [7, 0], grown: false },
      'CPU-bound': { caps: [4, 3], grown: true },
      notices: [{ notice: 'grew', workers: 2, load: 0.95 }],
    });
  });

  test('a worker tells its CPU per node at 10, 20, 40, 80, 160 nodes of its own ended, for the run to predict again', () => {
    expect(probe('measure')).toEqual({
      ended: 210,
      notices: [
        { notice: 'measured', nodes: 10, cpu_per_node: 25 },
        { notice: 'measured', nodes: 20, cpu_per_node: 12.5 },
        { notice: 'measured', nodes: 40, cpu_per_node: 6.25 },
        { notice: 'measured', nodes: 80, cpu_per_node: 3.125 },
        { notice: 'measured', nodes: 160, cpu_per_node: 1.5625 },
      ],
    });
  });
});
