// parallel-dbt.json through its owner (src/flow/run-record.ts): the record of a run is written and read back as it
// was built, a file that is not a run record is one line naming it, and a plain `node` (as the benchmark runs) can
// import the module from its .ts source. No dbt, no PostgreSQL.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbtLauncher } from '../src/dbt/process.js';
import type { ChunkRun } from '../src/run/execute.js';
import {
  parseRunRecord,
  readRunRecord,
  RUN_RECORD_FILE,
  RunRecordError,
  runRecordOf,
  writeRunRecord,
  type RunFacts,
} from '../src/flow/run-record.js';

const MODULE = fileURLToPath(new URL('../src/flow/run-record.ts', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-record-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

/** A run of two chunks: the second depends on the first, retried a node once, and stopped for fail-fast. */
function facts(): RunFacts {
  const chunks = [
    {
      index: 1,
      name: 'chunk-1',
      nodes: ['seed.p.a', 'model.p.b'],
      dependsOn: [],
      work: 3,
      predicted: 4,
      predictedStart: 0,
    },
    { index: 2, name: 'chunk-2', nodes: ['model.p.c'], dependsOn: [1], work: 2, predicted: 2.5, predictedStart: 4 },
  ];
  const run = (i: number, attempts: number[], firstNodeAt: number): ChunkRun => ({
    chunk: chunks[i],
    results: [],
    startedAt: T0 + i * 4000,
    endedAt: T0 + i * 4000 + 3500,
    firstNodeAt,
    retried: attempts.length > 1 ? [{ uid: 'model.p.c', statuses: ['error', 'success'] }] : [],
    invocations: attempts.map((attempt) => ({
      attempt,
      targetPath: `/w/chunk/target-${attempt}`,
      logPath: `/w/chunk/logs-${attempt}`,
      outcome: {
        exitCode: attempt === 0 && attempts.length > 1 ? 1 : 0,
        signal: undefined,
        timedOut: false,
        cancelled: false,
        durationMs: 1750,
        tail: [],
      },
    })),
  });
  const launch = (() => Promise.reject(new Error('not launched'))) as unknown as DbtLauncher;
  return {
    plan: { chunks, makespan: 6.5, criticalPath: 5, totalWork: 5 },
    budget: { parallel: 2, threads: 3, peak: 8 },
    chunks: [run(0, [0], T0 + 700), run(1, [0, 1], T0 + 4600)],
    parseSeconds: 1.9,
    wallSeconds: 11,
    actualMakespan: 7.5,
    stop: { kind: 'fail-fast', message: 'Skipped: fail-fast.', after: { uid: 'model.p.b', status: 'error' } },
    runPath: { kind: 'fork', why: 'workers forked from one parsed dbt', launch, nodeGates: true },
    machine: { cores: 4, startup: 0.6, perNodeCpu: 0.02, warehouseCpuShare: 0.3, nodeGates: true },
  };
}

describe('a run record written and read back', () => {
  test('every field as built, in parallel-dbt.json in the given folder', () => {
    const record = runRecordOf(facts());
    const path = writeRunRecord(dir, record);
    expect(path).toBe(join(dir, RUN_RECORD_FILE));
    expect(readRunRecord(path)).toEqual(JSON.parse(JSON.stringify(record)));
    expect(record).toMatchObject({
      runPath: 'fork',
      parallel: 2,
      threads: 3,
      predictedMakespan: 6.5,
      stop: { kind: 'fail-fast' },
    });
    expect(record.chunks.map((c) => [c.name, c.nodes, c.firstNodeAt! - c.startedAt!, c.processes.length])).toEqual([
      ['chunk-1', 2, 700, 1],
      ['chunk-2', 1, 600, 2],
    ]);
    expect(record.chunks[1].retried).toEqual([{ uid: 'model.p.c', statuses: ['error', 'success'] }]);
    expect(record.chunks[1].processes[0]).toEqual({
      attempt: 0,
      exitCode: 1,
      timedOut: false,
      seconds: 1.75,
      targetPath: '/w/chunk/target-0',
      logPath: '/w/chunk/logs-0',
      signal: undefined,
    });
  });

  test('a pooled run: its pool, growth and calibration read back; a calibration that is not one names the pool', () => {
    const calibration = { at: T0 + 2000, workers: 2, nodes: 40, cpuPerNode: 0.011, predictedMakespan: 7.2 };
    const f: RunFacts = {
      ...facts(),
      plan: { ...facts().plan, pooled: { slots: 6, active: 2 } },
      growth: [],
      calibration,
    };
    const record = runRecordOf(f);
    expect(record.pool).toEqual({ slots: 6, active: 2, growth: [], calibration });
    const back = parseRunRecord(JSON.stringify(record), 'record');
    expect(back.pool).toEqual(record.pool);
    expect(runRecordOf({ ...f, calibration: undefined }).pool).toEqual({ slots: 6, active: 2, growth: [] });
    expect(() =>
      parseRunRecord(JSON.stringify({ ...record, pool: { ...record.pool, calibration: { at: 'soon' } } }), 'r'),
    ).toThrow('r is not a parallel-dbt run record ("pool" is not a pool)');
  });

  test('a run stopped before any chunk ran: no times, no stop reason left over', () => {
    const f = {
      ...facts(),
      chunks: facts().chunks.map((c) => ({
        ...c,
        startedAt: undefined,
        endedAt: undefined,
        firstNodeAt: undefined,
        invocations: [],
        retried: [],
      })),
      actualMakespan: undefined,
      stop: undefined,
    };
    const back = parseRunRecord(`${JSON.stringify(runRecordOf(f))}\n`, 'record');
    expect(back.chunks.map((c) => [c.startedAt, c.processes, c.retried])).toEqual([
      [undefined, [], []],
      [undefined, [], []],
    ]);
    expect('actualMakespan' in back || 'stop' in back).toBe(false);
  });
});

describe('a file that is not a run record: one line naming it', () => {
  const good = (): Record<string, unknown> & { chunks: Record<string, unknown>[] } =>
    JSON.parse(JSON.stringify(runRecordOf(facts())));
  test.each<[string, (d: ReturnType<typeof good>) => unknown, string]>([
    ['a list', () => [], 'not an object'],
    ['no chunks', (d) => ({ ...d, chunks: undefined }), 'no "chunks" list'],
    ['another run path', (d) => ({ ...d, runPath: 'thread' }), '"runPath" is not fork or subprocess'],
    ['a text makespan', (d) => ({ ...d, predictedMakespan: '6.5 s' }), '"predictedMakespan" is not a number'],
    [
      'a chunk without name',
      (d) => ({ ...d, chunks: [d.chunks[0], { ...d.chunks[1], name: 2 }] }),
      'chunks[1]: "name" is not a string',
    ],
    [
      'retried as text',
      (d) => ({ ...d, chunks: [{ ...d.chunks[0], retried: 'model.p.c' }] }),
      'chunks[0]: "retried" is not a list of retried nodes',
    ],
    [
      'a process without seconds',
      (d) => ({ ...d, chunks: [{ ...d.chunks[0], processes: [{ attempt: 0, timedOut: false }] }] }),
      'chunks[0]: "processes" is not a list of processes',
    ],
  ])('%s', (_, change, why) => {
    let message = '';
    try {
      parseRunRecord(JSON.stringify(change(good())), '/w/parallel-dbt.json');
    } catch (e) {
      expect(e).toBeInstanceOf(RunRecordError);
      message = (e as Error).message;
    }
    expect(message).toBe(`/w/parallel-dbt.json is not a parallel-dbt run record (${why})`);
  });

  test('not JSON, or no file', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"chunks": [');
    expect(() => readRunRecord(broken)).toThrow(new RegExp(`^${broken} is not JSON \\(.+\\)$`));
    expect(() => readRunRecord(join(dir, 'missing.json'))).toThrow(
      new RegExp(`^cannot read ${join(dir, 'missing.json')} \\(ENOENT`),
    );
  });
});

describe('the benchmark can import it', () => {
  test('a plain node (type stripping, no build) loads the .ts module and reads a record with it', () => {
    const path = writeRunRecord(dir, runRecordOf(facts()));
    const script =
      'const m = await import(process.env.MODULE); const r = m.readRunRecord(process.env.RECORD); console.log(JSON.stringify({ file: m.RUN_RECORD_FILE, chunks: r.chunks.map((c) => c.name), retried: r.chunks.flatMap((c) => c.retried) }));';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, MODULE, RECORD: path, NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      file: RUN_RECORD_FILE,
      chunks: ['chunk-1', 'chunk-2'],
      retried: [{ uid: 'model.p.c', statuses: ['error', 'success'] }],
    });
  });

  test('its imports are node builtins or erased types only (a value import of the project would not resolve there)', () => {
    const imports = [...readFileSync(MODULE, 'utf8').matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)].map(
      (m) => ({ type: m[1] !== undefined, from: m[2] }),
    );
    expect(imports.length).toBeGreaterThan(2);
    expect(imports.filter((i) => !i.type && !i.from.startsWith('node:'))).toEqual([]);
  });
});
