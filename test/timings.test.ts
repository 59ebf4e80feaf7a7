// Node weights from earlier runs (src/plan/timings.ts): reading run_results.json files through the timings input
// (src/flow/timings-input.ts; real ones from the captured fixtures and hand-written ones in a temp dir), dbt's CPU
// per node, the warehouse share and the weight function.
// Pure code and files: no dbt, no database.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { otherCpuShareOf, perNodeCpuOf, warehouseSeconds, weigher, type Timings } from '../src/plan/timings.js';
import { readTimings } from '../src/flow/timings-input.js';
import { runResultsJson } from './support/run-results.js';
import { InputError } from '../src/shared/errors.js';
import { nodeStatus } from '../src/dbt/statuses.js';
import { weightsFor } from '../src/flow/planning.js';
import { keptLines } from './support/log.js';
import { graphOf } from './support/graphs.js';

const CAPTURED = fileURLToPath(new URL('./fixtures/captured/', import.meta.url));

interface Result {
  unique_id: string;
  execution_time: number;
  status?: string;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'timings-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a run_results.json under the temp dir (every field dbt writes) and returns its absolute path. */
function runResults(
  rel: string,
  results: Result[],
  extra: { elapsed_time?: number; threads?: number; args?: Record<string, unknown> } = {},
): string {
  const path = join(dir, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(
    path,
    runResultsJson(
      results.map((r) => ({ ...r, status: nodeStatus(r.status ?? 'success') })),
      {
        elapsed: extra.elapsed_time,
        args: { ...(extra.threads === undefined ? {} : { threads: extra.threads }), ...extra.args },
      },
    ),
  );
  return path;
}

describe('readTimings on the captured run_results.json files', () => {
  test('every non-skipped result is a recorded time; the run gives seconds per node and defaults to 1 thread', () => {
    const copy = join(dir, 'captured', 'red.json');
    mkdirSync(join(dir, 'captured'), { recursive: true });
    copyFileSync(join(CAPTURED, 'red', 'run_results.json'), copy);
    const raw = JSON.parse(readFileSync(copy, 'utf8')) as { elapsed_time: number; results: Result[] };
    const ran = raw.results.filter((r) => r.status !== 'skipped');
    expect(ran.length).toBeLessThan(raw.results.length); // the red run skips a node: the test below means something

    const t = readTimings(['captured/red.json'], dir);
    expect(t.files).toEqual([copy]);
    expect(t.seconds.size).toBe(ran.length);
    for (const r of ran) expect(t.seconds.get(r.unique_id)).toBe(r.execution_time);
    for (const r of raw.results.filter((x) => x.status === 'skipped')) expect(t.seconds.has(r.unique_id)).toBe(false);
    expect(t.runs).toEqual([{ file: copy, threads: 1, secondsPerNode: raw.elapsed_time / ran.length }]);
    expect(t.recorded).toHaveLength(1);
    expect(t.recorded[0].exec).toEqual(t.seconds);
  });

  test('both captured runs through a glob: a node in both gets the mean of its two times', () => {
    const green = JSON.parse(readFileSync(join(CAPTURED, 'green', 'run_results.json'), 'utf8')) as {
      results: Result[];
    };
    const red = JSON.parse(readFileSync(join(CAPTURED, 'red', 'run_results.json'), 'utf8')) as { results: Result[] };
    mkdirSync(join(dir, 'both', 'green'), { recursive: true });
    mkdirSync(join(dir, 'both', 'red'), { recursive: true });
    copyFileSync(join(CAPTURED, 'green', 'run_results.json'), join(dir, 'both', 'green', 'run_results.json'));
    copyFileSync(join(CAPTURED, 'red', 'run_results.json'), join(dir, 'both', 'red', 'run_results.json'));

    const t = readTimings([join(dir, 'both', '*', 'run_results.json')], '/elsewhere');
    expect(t.files).toEqual([
      join(dir, 'both', 'green', 'run_results.json'),
      join(dir, 'both', 'red', 'run_results.json'),
    ]);
    const shared = green.results.find((g) =>
      red.results.some((r) => r.unique_id === g.unique_id && r.status !== 'skipped'),
    )!;
    const other = red.results.find((r) => r.unique_id === shared.unique_id)!;
    expect(t.seconds.get(shared.unique_id)).toBeCloseTo((shared.execution_time + other.execution_time) / 2, 12);
    expect(t.runs.map((r) => r.file)).toEqual(t.files);
  });
});

describe('readTimings on hand-written files', () => {
  test('relative paths and globs resolve against cwd; files are read in sorted order; missing paths are ignored', () => {
    const b = runResults('rel/b.json', [{ unique_id: 'model.p.x', execution_time: 3 }]);
    const a = runResults('rel/a.json', [{ unique_id: 'model.p.x', execution_time: 1 }]);
    const t = readTimings(['rel/*.json', 'rel/missing.json', 'nowhere/*.json'], dir);
    expect(t.files).toEqual([a, b]);
    expect(t.seconds.get('model.p.x')).toBe(2);
    expect(t.recorded.map((r) => r.exec.get('model.p.x'))).toEqual([1, 3]);
  });

  test('nothing matched: empty timings, not an error', () => {
    const t = readTimings(['no-such-dir/run_results.json'], dir);
    expect(t).toEqual({ seconds: new Map(), files: [], runs: [], recorded: [] });
  });

  test('skipped and negative times are left out; threads come from args; no elapsed time, no run entry', () => {
    const f = runResults(
      'filter/run_results.json',
      [
        { unique_id: 'model.p.ok', execution_time: 0.5 },
        { unique_id: 'model.p.zero', execution_time: 0 },
        { unique_id: 'model.p.skipped', execution_time: 0, status: 'skipped' },
        { unique_id: 'model.p.negative', execution_time: -1 },
      ],
      { threads: 6 },
    );
    const t = readTimings([f], '/');
    expect([...t.seconds]).toEqual([
      ['model.p.ok', 0.5],
      ['model.p.zero', 0],
    ]);
    expect(t.recorded).toEqual([
      {
        threads: 6,
        exec: new Map([
          ['model.p.ok', 0.5],
          ['model.p.zero', 0],
        ]),
      },
    ]);
    expect(t.runs).toEqual([]);
  });

  test("seconds per node is the run's elapsed time over the nodes it recorded", () => {
    const f = runResults(
      'elapsed/run_results.json',
      [
        { unique_id: 'model.p.a', execution_time: 1 },
        { unique_id: 'model.p.b', execution_time: 2 },
      ],
      { elapsed_time: 3, threads: 4 },
    );
    expect(readTimings([f], '/').runs).toEqual([{ file: f, threads: 4, secondsPerNode: 1.5 }]);
  });

  test('a file that is not JSON, or not a run_results.json, is an input error naming it, on one line', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ not json');
    expect(() => readTimings([broken], '/')).toThrow(InputError);
    expect(() => readTimings([broken], '/')).toThrow(
      new RegExp(
        `^Input 'timings': ${broken} is not JSON \\(.+\\); give run_results.json files of earlier runs, or remove the input.$`,
      ),
    );
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ nodes: {} }));
    expect(() => readTimings([manifest], '/')).toThrow(
      `Input 'timings': ${manifest} is not a dbt run_results.json (no "results" list); give run_results.json files of earlier runs, or remove the input.`,
    );
    const text = runResults('text/run_results.json', [
      { unique_id: 'model.p.text', execution_time: 'slow' as unknown as number },
    ]);
    expect(() => readTimings([text], '/')).toThrow(
      `Input 'timings': ${text} is not a dbt run_results.json (results[0] (model.p.text): "execution_time" is not a number); give`,
    );
  });
});

/** Timings with one run per entry: threads, seconds per node and each node's time. */
function timings(runs: { threads: number; secondsPerNode?: number; exec: [string, number][] }[]): Timings {
  const sums = new Map<string, number[]>();
  for (const r of runs) for (const [u, x] of r.exec) sums.set(u, [...(sums.get(u) ?? []), x]);
  return {
    seconds: new Map([...sums].map(([u, xs]) => [u, xs.reduce((a, b) => a + b, 0) / xs.length])),
    files: runs.map((_, i) => `run${i}.json`),
    runs: runs
      .filter((r) => r.secondsPerNode !== undefined)
      .map((r, i) => ({ file: `run${i}.json`, threads: r.threads, secondsPerNode: r.secondsPerNode! })),
    recorded: runs.map((r) => ({ threads: r.threads, exec: new Map(r.exec) })),
  };
}

describe('perNodeCpuOf', () => {
  test("the fastest run per node, when it is fast enough to be dbt's own work", () => {
    expect(
      perNodeCpuOf(
        timings([
          { threads: 1, secondsPerNode: 0.03, exec: [] },
          { threads: 1, secondsPerNode: 0.012, exec: [] },
        ]),
        0.02,
      ),
    ).toBe(0.012);
    expect(perNodeCpuOf(timings([{ threads: 1, secondsPerNode: 0.05, exec: [] }]), 0.02)).toBe(0.05); // the limit itself counts
  });

  test("a run the action merged: the median of the CPU per node its workers measured, before any run's elapsed / nodes", () => {
    const nodes = (n: number): Result[] =>
      Array.from({ length: n }, (_, i) => ({ unique_id: `model.p.m${i}`, execution_time: 0.1 }));
    // Two processes ran 100 nodes in 2 s: elapsed / nodes (0.02) is half of what each node cost its process.
    runResults('measured/a.json', nodes(100), {
      elapsed_time: 2,
      args: { parallel_dbt: { cpu_per_node: 0.041, other_cpu_share: 0.7 } },
    });
    runResults('measured/b.json', nodes(100), { elapsed_time: 2.2, args: { parallel_dbt: { cpu_per_node: 0.035 } } });
    runResults('measured/c.json', nodes(100), {
      elapsed_time: 2.4,
      args: { parallel_dbt: { cpu_per_node: 0.052, other_cpu_share: 0.5 } },
    });
    runResults('measured/plain.json', nodes(100), { elapsed_time: 1 });
    const t = readTimings(['measured/*.json'], dir);
    expect(t.runs.map((r) => r.cpuPerNode)).toEqual([0.041, 0.035, 0.052, undefined]);
    expect(perNodeCpuOf(t, 0.02)).toBe(0.041);
    // What else took the cores per second of dbt's CPU: the median of the runs that measured it.
    expect(otherCpuShareOf(t)).toBe(0.5);
    expect(otherCpuShareOf(readTimings(['measured/plain.json'], dir))).toBeUndefined();
    expect(otherCpuShareOf(undefined)).toBeUndefined();
    // Only dbt's own files: the fastest elapsed / nodes, as before.
    expect(perNodeCpuOf(readTimings(['measured/plain.json'], dir), 0.02)).toBe(0.01);
  });

  test('slower than 0.05 s per node: the warehouse bound that run, so the fallback counts', () => {
    expect(perNodeCpuOf(timings([{ threads: 8, secondsPerNode: 0.0501, exec: [] }]), 0.02)).toBe(0.02);
    expect(perNodeCpuOf(timings([]), 0.02)).toBe(0.02);
    expect(perNodeCpuOf(undefined, 0.03)).toBe(0.03);
  });

  test('never below 2 ms per node', () => {
    expect(perNodeCpuOf(timings([{ threads: 1, secondsPerNode: 0.0001, exec: [] }]), 0.02)).toBe(0.002);
  });
});

describe('warehouseSeconds', () => {
  test("each recorded time less its run's threads × per-node CPU, floored at 0, averaged over the runs", () => {
    const t = timings([
      {
        threads: 4,
        exec: [
          ['model.p.a', 1],
          ['model.p.b', 0.05],
        ],
      },
      { threads: 1, exec: [['model.p.a', 2]] },
    ]);
    const w = warehouseSeconds(t, 0.1);
    expect(w.warehouse!.get('model.p.a')).toBeCloseTo((1 - 0.4 + (2 - 0.1)) / 2, 12);
    expect(w.warehouse!.get('model.p.b')).toBe(0);
    expect(w.seconds).toBe(t.seconds); // the rest is kept as is
    expect(t.warehouse).toBeUndefined(); // a new object: the input is not changed
  });
});

describe('weigher', () => {
  const typeOf = (uid: string): string => uid.split('.')[0];

  test("recorded seconds; otherwise the lower median of the type's recorded nodes; otherwise the default by type", () => {
    const t = timings([
      {
        threads: 1,
        exec: [
          ['model.p.a', 4],
          ['model.p.b', 1],
          ['model.p.c', 2],
          ['model.p.d', 8],
          ['test.p.t', 0.5],
        ],
      },
    ]);
    const w = weigher(t, typeOf);
    expect(w.fallbackByType).toEqual(
      new Map([
        ['model', 2],
        ['test', 0.5],
      ]),
    );
    expect(w.weight('model.p.a')).toBe(4);
    expect(w.weight('model.p.new')).toBe(2);
    expect(w.weight('test.p.new')).toBe(0.5);
    expect(w.weight('seed.p.new')).toBe(1);
    expect(w.weight('unit_test.p.new')).toBe(0.2);
  });

  test('warehouse seconds win over raw seconds when they are known', () => {
    const t = warehouseSeconds(timings([{ threads: 10, exec: [['model.p.a', 3]] }]), 0.1);
    expect(weigher(t, typeOf).weight('model.p.a')).toBe(2);
    expect(weigher({ ...t, warehouse: undefined }, typeOf).weight('model.p.a')).toBe(3);
  });

  test('no node weighs less than 1 ms', () => {
    const w = weigher(timings([{ threads: 1, exec: [['model.p.instant', 0]] }]), typeOf);
    expect(w.weight('model.p.instant')).toBe(0.001);
  });

  test('known counts each recorded node asked for once', () => {
    const w = weigher(
      timings([
        {
          threads: 1,
          exec: [
            ['model.p.a', 1],
            ['model.p.b', 1],
          ],
        },
      ]),
      typeOf,
    );
    expect(w.known).toBe(0);
    w.weight('model.p.a');
    w.weight('model.p.a');
    w.weight('model.p.unknown');
    expect(w.known).toBe(1);
    w.weight('model.p.b');
    expect(w.known).toBe(2);
  });

  test('without timings: the defaults by type, nothing known', () => {
    const w = weigher(undefined, typeOf);
    expect([w.weight('model.p.a'), w.weight('snapshot.p.s'), w.weight('test.p.t')]).toEqual([1, 1, 0.2]);
    expect(w.known).toBe(0);
    expect(w.fallbackByType.size).toBe(0);
  });
});

describe('the log says when the predictions are guesses', () => {
  const graph = graphOf([
    ['model.p.a', []],
    ['model.p.b', ['model.p.a']],
  ]);
  test('no timings input, or nothing matched: rough, and what would make them measured', () => {
    for (const [timings, spec] of [
      [undefined, []],
      [{ files: [], runs: [], durations: new Map() } as unknown as Timings, ['base/*.json']],
    ] as const) {
      const log = keptLines();
      weightsFor(timings, [...spec], graph, log);
      expect(log.infos.join('\n')).toMatch(
        /weighed by estimates \(models 1 s, tests 0\.2 s\), so the predicted times below are rough/,
      );
    }
  });
});
