// What flow/planning.ts tells the planner, from the settings (read the way the runner passes inputs, INPUT_*) and
// what prepare found. No dbt: the prepared run is built here, with a launcher that must never be called.
import { describe, expect, test } from '@jest/globals';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSettings } from '../src/inputs/settings.js';
import { machineFor, orderedBecause, shapeRequest, subprocessOneRun } from '../src/flow/planning.js';
import type { Prepared, RunPath } from '../src/flow/prepare.js';
import type { ProfileFacts } from '../src/dbt/host.js';
import {
  DEFAULT_IMPORT_SECONDS,
  forkStartup,
  LOCAL_WAREHOUSE_CPU_SHARE,
  subprocessStartup,
} from '../src/plan/shape.js';
import { manifestNode, manifestOf } from './support/graphs.js';
import { keptLines } from './support/log.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const settings = (inputs: Record<string, string> = {}) =>
  readSettings(
    Object.fromEntries(
      Object.entries({ 'project-dir': 'example', ...inputs }).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
    ),
    ROOT,
  );
const never = (): never => {
  throw new Error('planning must not start dbt');
};

function prepared(
  o: { profile?: ProfileFacts; path?: Partial<RunPath>; nodes?: number; parseSeconds?: number } = {},
): Prepared {
  const manifest = manifestOf(Array.from({ length: o.nodes ?? 10 }, (_, i) => manifestNode(`model.p.m${i}`)));
  return {
    project: { projectDir: join(ROOT, 'example') },
    runPath: { kind: 'fork', why: 'test', launch: never, nodeGates: true, ...o.path },
    profile: o.profile,
    parseTarget: '/nowhere',
    parseSeconds: o.parseSeconds ?? 3,
    parsedAt: 3000,
    savedParse: { kind: 'none', looked: '/nowhere/partial_parse.msgpack' },
    manifest,
    selected: [],
    groupSets: [],
    started: 0,
  };
}

describe('subprocessOneRun: what only forked workers can share', () => {
  const withHooks = (): Prepared => {
    const p = prepared({ path: { kind: 'subprocess', why: 'worker-host: off', nodeGates: false } });
    p.manifest.nodes['operation.p.p-on-run-end-0'] = manifestNode('operation.p.p-on-run-end-0', {
      resourceType: 'operation',
    });
    return p;
  };

  test('project hooks on the subprocess path: one process, saying why; a command without hooks or the fork path: chunks', () => {
    expect(subprocessOneRun(settings(), withHooks())).toBe(
      'the project has 0 on-run-start and 1 on-run-end hook(s), which several dbt processes would each run (once per process, each on-run-end seeing only its own results); on this run path (worker-host: off) the action runs one process, as plain dbt. Forked workers (Linux, worker-host: auto) share one run and keep the chunks',
    );
    expect(shapeRequest(settings({ threads: '2' }), withHooks(), keptLines()).oneProcess).toBe(
      subprocessOneRun(settings(), withHooks()),
    );
    expect(subprocessOneRun(settings({ command: 'run' }), withHooks())).toBeDefined();
    const forked = withHooks();
    forked.runPath = { ...forked.runPath, kind: 'fork', nodeGates: true };
    expect(subprocessOneRun(settings(), forked)).toBeUndefined();
    expect(
      subprocessOneRun(settings(), prepared({ path: { kind: 'subprocess', why: 'off', nodeGates: false } })),
    ).toBeUndefined();
  });

  test('favor-state on the subprocess path: one process', () => {
    const p = prepared({ path: { kind: 'subprocess', why: 'worker-host: off', nodeGates: false } });
    const s = { ...settings(), flags: { favorState: true } };
    expect(subprocessOneRun(s, p)).toMatch(
      /^with favor-state each dbt process would read the other processes' parents from the state/,
    );
  });
});

describe('shapeRequest', () => {
  test("the profile's threads are the shared budget; parallel defaults to the cores", () => {
    const lines: string[] = [];
    const r = shapeRequest(settings(), prepared({ profile: { threads: 8, adapter_type: 'postgres' } }), {
      ...keptLines(),
      info: (l) => lines.push(l),
    });
    expect(r).toMatchObject({
      parallel: availableParallelism(),
      profileThreads: 8,
      threads: undefined,
      maxConnections: undefined,
      oneProcess: undefined,
    });
    expect(lines).toEqual([]);
  });

  test('threads unknown (no worker host) and no budget given: 4 assumed, and the log says so', () => {
    const lines: string[] = [];
    const r = shapeRequest(settings({ parallel: '3' }), prepared(), { ...keptLines(), info: (l) => lines.push(l) });
    expect(r.profileThreads).toBe(4);
    expect(r.parallel).toBe(3);
    expect(lines).toEqual([
      "The profile's threads are not known on this path; assuming 4 (set threads or max-connections to decide).",
    ]);
    lines.length = 0;
    shapeRequest(settings({ 'max-connections': '10' }), prepared(), { ...keptLines(), info: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  test('a local DuckDB file is one process; MotherDuck is not', () => {
    const local = shapeRequest(
      settings(),
      prepared({ profile: { threads: 4, adapter_type: 'duckdb', path: '/data/dev.duckdb' } }),
      keptLines(),
    );
    expect(local.oneProcess).toBe(
      'the target is DuckDB (/data/dev.duckdb): a local DuckDB file allows one writing process, so the action runs one process and spreads the work over its threads',
    );
    expect(
      shapeRequest(
        settings(),
        prepared({ profile: { threads: 4, adapter_type: 'duckdb', path: 'md:analytics' } }),
        keptLines(),
      ).oneProcess,
    ).toBeUndefined();
  });
});

describe('machineFor', () => {
  test('fork path: start-up from the manifest size; gated and pooled as the host said', () => {
    const m = machineFor(prepared({ nodes: 500 }), 0.03);
    expect(m).toEqual({
      cores: availableParallelism(),
      startup: forkStartup(500),
      perNodeCpu: 0.03,
      warehouseCpuShare: 0,
      nodeGates: true,
      pool: true,
    });
    expect(machineFor(prepared({ nodes: 500 }), 0.03, false).pool).toBe(false);
    const ungated = machineFor(prepared({ path: { nodeGates: false } }), 0.02);
    expect([ungated.nodeGates, ungated.pool]).toEqual([false, false]);
  });

  test('subprocess path: imports plus loading the parse, never gated', () => {
    const m = machineFor(prepared({ path: { kind: 'subprocess', nodeGates: false }, parseSeconds: 6 }), 0.02);
    expect(m.startup).toBe(subprocessStartup(DEFAULT_IMPORT_SECONDS, 6));
    expect(
      machineFor(prepared({ path: { kind: 'subprocess', nodeGates: false, importSeconds: 2 }, parseSeconds: 6 }), 0.02)
        .startup,
    ).toBe(subprocessStartup(2, 6));
    expect(m.nodeGates).toBe(false);
  });

  test('a warehouse on this machine shares its cores; a remote one does not', () => {
    for (const host of ['localhost', '127.0.0.1', '::1'])
      expect(machineFor(prepared({ profile: { host } }), 0.02).warehouseCpuShare).toBe(LOCAL_WAREHOUSE_CPU_SHARE);
    for (const host of ['db.example.com', '10.0.0.5'])
      expect(machineFor(prepared({ profile: { host } }), 0.02).warehouseCpuShare).toBe(0);
  });
});

describe('orderedBecause', () => {
  test('memory above the limit first, then retries; otherwise gated workers may run', () => {
    expect(orderedBecause(settings(), 50)).toBeUndefined();
    expect(orderedBecause(settings({ 'memory-limit-percent': '80' }), 85)).toBe(
      'Memory use 85% is above memory-limit-percent 80%: chunks run in order, so that later ones can wait for memory.',
    );
    expect(orderedBecause(settings({ retries: '2' }), 50)).toBe(
      'retries 2: chunks run in order (a worker must not wait for a node whose failure may still be retried).',
    );
    expect(orderedBecause(settings({ retries: '2', 'memory-limit-percent': '80' }), 95)).toMatch(/^Memory use 95%/);
  });
});
