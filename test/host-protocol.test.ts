// The worker-host protocol's contract: worker_host.py's real framing, request handling, notices and control pipe
// (through test/support/host_contract.py, which replaces only what needs dbt) against the TypeScript side
// (src/dbt/host-protocol.ts, and DbtHost itself for the requests). Needs python3, not dbt.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FrameReader,
  NoticeReader,
  START_UID,
  type Frame,
  type HostMessage,
  type WorkerNotice,
} from '../src/dbt/host-protocol.js';
import { DbtHost } from '../src/dbt/host.js';
import type { CachedRelationKey, PeerStatus } from '../src/dbt/process.js';

const SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), 'support', 'host_contract.py');

/** What SAMPLE_NOTICES in host_contract.py says, as the TypeScript types say it. */
const NOTICES: WorkerNotice[] = [
  { notice: 'started', ok: false },
  { notice: 'running', cpu: 1.25 },
  {
    notice: 'dropped',
    relations: [
      [null, 'analytics', 'orders_v'],
      ['db', 'analytics', 'Ünïcode'],
    ],
  },
  { notice: 'grew', workers: 2, load: 0.95, cpu_per_node: 0.021 },
  { notice: 'measured', nodes: 50, cpu_per_node: 0.0125 },
];

describe('frames written by worker_host.py, read by host-protocol.ts', () => {
  const stream = execFileSync('python3', [SCRIPT, 'frames'], { maxBuffer: 1 << 24 });
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  for (let i = 0; i < stream.length; i += 4096) reader.push(stream.subarray(i, i + 4096)); // cut as a pipe cuts it

  test('a message of every event decodes to its typed value, with its frame id', () => {
    const messages: [number, HostMessage][] = frames.flatMap((f) =>
      f.kind === 'M' ? [[f.id, f.message] as [number, HostMessage]] : [],
    );
    const expected: [number, HostMessage][] = [
      [0, { event: 'ready', pid: 4242, seconds: 1.5 }],
      [0, { event: 'failed', error: "ModuleNotFoundError: No module named 'dbt'" }],
      [7, { event: 'started', id: 7, pid: 4243 }],
      [
        7,
        {
          event: 'exit',
          id: 7,
          code: 0,
          signal: null,
          seconds: 2.25,
          profile: { threads: 4, adapter_type: 'postgres', host: '127.0.0.1' },
        },
      ],
      [8, { event: 'exit', id: 8, code: 0, signal: null, seconds: 0.5, profile: {} }],
      [9, { event: 'exit', id: 9, code: 2, signal: null, error: 'the host has no parsed manifest' }],
      [10, { event: 'exit', id: 10, code: null, signal: 'SIGKILL' }],
      [13, { event: 'exit', id: 13, code: 0, signal: null, cpu: 3.5 }],
      [11, { event: 'fork_check', id: 11, ok: true, why: '', gate: true }],
      [12, { event: 'error', id: 12, error: "unknown request 'rewind'" }],
    ];
    expect(messages).toEqual(expected);
  });

  test('output frames carry the bytes of each stream whole (one over 64 KiB), notices split across frames join up', () => {
    const bytes = (kind: 'O' | 'E' | 'N'): Buffer =>
      Buffer.concat(frames.flatMap((f) => (f.kind === kind && f.id === 7 ? [f.bytes] : [])));
    expect(frames.filter((f) => f.kind === 'O').length).toBe(2);
    expect(bytes('O').toString('utf8')).toBe(`line one\nlïne two\n${'x'.repeat(70_000)}\n`);
    const traceback = 'Traceback (most recent call last):\n';
    expect(frames.flatMap((f) => (f.kind === 'E' ? [f.bytes.length] : []))).toEqual([0, Buffer.byteLength(traceback)]);
    expect(bytes('E').toString('utf8')).toBe(traceback);
    const notices: WorkerNotice[] = [];
    const lines = new NoticeReader((n) => notices.push(n));
    for (const f of frames) if (f.kind === 'N') lines.push(f.bytes);
    lines.end();
    expect(frames.filter((f) => f.kind === 'N').length).toBe(2);
    expect(notices).toEqual(NOTICES);
  });
});

describe("DbtHost's requests, served by worker_host.py's Host (its dbt steps stood in for)", () => {
  const cwd = mkdtempSync(join(tmpdir(), 'parallel-dbt-protocol-'));
  /** The JSON lines the stand-in wrote to an invocation's stdout: what the host understood it was asked. */
  const told = (lines: string[]): unknown[] =>
    lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as unknown);

  test('invoke, fork_check, fork with and without a share, notify, signal INT and KILL, shutdown', async () => {
    const log: string[] = [];
    // A host that never says ready (framing broken) fails here, not after the action's two minutes.
    const host = await DbtHost.start({
      python: 'python3',
      script: SCRIPT,
      cwd,
      env: process.env,
      log: (l) => log.push(l),
      readyTimeoutMs: 10_000,
    });
    try {
      expect(host.pid).toBeGreaterThan(0);

      const parseLines: string[] = [];
      const ahead = { state: '/prod/target', target: '/work/parse/target', project_root: '/repo', dir: '/work/parse' };
      const parsed = await host.invoke(
        { argv: ['parse', '--quiet'], cwd, env: {}, onText: (l) => parseLines.push(l) },
        true,
        'build',
        ahead,
      );
      expect(parsed).toMatchObject({ exitCode: 0, signal: undefined, spawnError: undefined, lost: undefined });
      // The selection's state, read while the parse runs (state_ahead), as the host understood it.
      expect(told(parseLines)).toEqual([
        { call: 'invoke', argv: ['parse', '--quiet'], keep_manifest: true, state_ahead: ahead },
      ]);
      // After answering the kept parse, the host linked the graph for the workers' command (link_for).
      const lsLines: string[] = [];
      await host.invoke({ argv: ['ls'], cwd, env: {}, onText: (l) => lsLines.push(l) });
      expect(told(lsLines)).toEqual([{ call: 'invoke', argv: ['ls'], keep_manifest: false, linked_for: [['build']] }]);
      expect(host.profile).toEqual({ threads: 4, adapter_type: 'postgres', host: '127.0.0.1' });

      // A real fork_check on a host with a manifest and one thread; no dbt here, so no gated workers.
      expect(await host.forkCheck()).toEqual({ ok: true, why: '', gate: false });

      const lines: string[] = [];
      const notices: WorkerNotice[] = [];
      let tell: (uid: string, status: PeerStatus) => void = () => {};
      let drop: (relations: CachedRelationKey[]) => void = () => {};
      const cancel = new AbortController();
      const claims = mkdtempSync(join(tmpdir(), 'pdbt-claims-'));
      const forked = host.fork({
        argv: ['build', '--select', 'b'],
        cwd,
        env: {},
        onText: (l) => lines.push(l),
        signal: cancel.signal,
        share: {
          runNodes: ['model.p.b', 'model.p.a'],
          start: 'wait',
          end: 'skip',
          results: '/tmp/run_results.json',
          waitsFor: { 'model.p.b': ['model.p.x', 'model.p.y'] },
          known: [
            [START_UID, 0],
            ['model.p.y', 0],
          ],
          pool: { claims, worker: 'chunk-1', rank: 0, workers: 1, slots: 0, active: 1 },
          subscribe: (l) => {
            tell = l;
            return () => {};
          },
          subscribeDrops: (l) => {
            drop = l;
            return () => {};
          },
          onNotice: (n) => notices.push(n),
        },
      });
      tell('model.p.x', 1);
      drop([[null, 'analytics', 'orders_v']]);
      cancel.abort();
      const outcome = await forked;
      expect(outcome).toMatchObject({ exitCode: undefined, signal: 'SIGINT', cancelled: true, lost: undefined });
      expect(told(lines)).toEqual([
        {
          call: 'fork',
          argv: ['build', '--select', 'b'],
          share: {
            nodes: ['model.p.a', 'model.p.b'],
            start: 'wait',
            end: 'skip',
            results: '/tmp/run_results.json',
            // y is known to have succeeded: b waits for x alone, y is in the cache's list of peer relations.
            waiting: { 'model.p.b': ['model.p.x'] },
            start_settled: true,
            start_ok: true,
            built: ['model.p.y'],
            pool: { claims },
          },
        },
        // x blocks: b is released as failed (dbt skips it).
        {
          call: 'notify',
          lines: [{ kind: 'status', uid: 'model.p.x', status: 1 }],
          waiting: {},
          failed: { 'model.p.b': 'model.p.x' },
        },
        {
          call: 'notify',
          lines: [{ kind: 'dropped', relations: [[null, 'analytics', 'orders_v']] }],
          waiting: {},
          failed: { 'model.p.b': 'model.p.x' },
        },
        { call: 'signal', sig: 'INT' },
      ]);
      expect(notices).toEqual(NOTICES);
      // The pooled worker's claims log is opened at once (the action reads it to learn what a worker claimed).
      expect(readdirSync(claims)).toEqual(['chunk-1.claims']);

      const plainLines: string[] = [];
      const kill = new AbortController();
      const plain = host.fork({
        argv: ['run'],
        cwd,
        env: {},
        onText: (l) => plainLines.push(l),
        killSignal: kill.signal,
      });
      kill.abort();
      expect(await plain).toMatchObject({ exitCode: undefined, signal: 'SIGKILL', cancelled: false });
      expect(told(plainLines)).toEqual([
        { call: 'fork', argv: ['run'], share: null },
        { call: 'signal', sig: 'KILL' },
      ]);
    } finally {
      await host.close();
    }
    expect(log).toEqual(['worker host: shutdown requested']);
  });
});
