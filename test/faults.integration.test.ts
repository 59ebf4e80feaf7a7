// Nothing lost under faults: timeouts, cancellation, a killed dbt, retries, fail-fast, stagger, the memory limit,
// secrets. Real dbt, real PostgreSQL; a fake dbt only for huge output.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  DBT_BIN,
  ROOT,
  dbEnv,
  exampleCopy,
  freshDatabase,
  processesMentioning,
  queriesIn,
  readResults,
  runAction,
  usePostgres,
} from './support/harness.js';
import { readRunRecord, RUN_RECORD_FILE, type RecordedChunk, type RunRecord } from '../src/flow/run-record.js';

// client_connection_check_interval: PostgreSQL notices a client that died (kill -9) while its query runs.
const pg = usePostgres({ client_connection_check_interval: '500' });
let expectedIds: Set<string>;
beforeAll(() => {
  const green = JSON.parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'captured', 'green', 'run_results.json'), 'utf8'),
  ) as { results: { unique_id: string }[] };
  expectedIds = new Set(green.results.map((r) => r.unique_id));
});

const SLOW = 'payment_reconciliation';

function inputs(proj: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'project-dir': proj, 'profiles-dir': proj, ...extra };
}

/** The run record, every chunk of which ran (one that never started fails the test here). */
function record(
  runnerTemp: string,
): Omit<RunRecord, 'chunks'> & { chunks: (RecordedChunk & { startedAt: number; endedAt: number })[] } {
  const r = readRunRecord(join(runnerTemp, 'parallel-dbt', RUN_RECORD_FILE));
  for (const c of r.chunks)
    expect([c.name, typeof c.startedAt, typeof c.endedAt]).toEqual([c.name, 'number', 'number']);
  return { ...r, chunks: r.chunks.map((c) => ({ ...c, startedAt: c.startedAt ?? NaN, endedAt: c.endedAt ?? NaN })) };
}

/** Every node exactly once, and the set the example's full build has. */
function expectEveryNodeOnce(
  resultsPath: string,
  expected: Set<string> = expectedIds,
): Map<string, { status: string; message: string | null }> {
  const results = readResults(resultsPath).results;
  const ids = results.map((r) => r.unique_id);
  expect(ids.length).toBe(new Set(ids).size);
  expect(new Set(ids)).toEqual(expected);
  return new Map(results.map((r) => [r.unique_id, { status: r.status, message: r.message }]));
}

async function expectNothingLeft(runnerTemp: string, db: string): Promise<void> {
  expect(processesMentioning(runnerTemp)).toEqual([]);
  let left: string[] = [];
  for (let i = 0; i < 20; i++) {
    left = (await queriesIn(pg, db)).filter((q) => q.includes('pg_sleep'));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(left).toEqual([]);
}

/** Calls `then` once when stdout shows the slow model starting. */
function whenSlowStarts(then: (line: string) => void): (s: string) => void {
  let fired = false;
  let buf = '';
  return (s) => {
    buf += s;
    const line = buf.split('\n').find((l) => l.includes('START') && l.includes(SLOW));
    if (!fired && line) {
      fired = true;
      then(line);
    }
  };
}

describe('process control', () => {
  test('timeout-minutes interrupts a chunk; its unfinished nodes are reported timed out, nothing is left running', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(
      inputs(proj, { parallel: '2', chunks: '2', 'timeout-minutes': '0.15', vars: '{demo_sleep_seconds: 60}' }),
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(45);
    const st = expectEveryNodeOnce(run.outputs.results);
    const slow = [...st].find(([u]) => u.endsWith(`.${SLOW}`))![1];
    expect(slow.status).toBe('error');
    expect(slow.message).toMatch(/^Timed out: the chunk ran longer than its 0\.15 minute\(s\)/);
    expect(run.summary).toContain('Timed out');
    await expectNothingLeft(run.runnerTemp, db);
  });

  test('cancelling the action (SIGINT) interrupts every dbt, writes the results and the summary, leaves nothing behind', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    let child: ChildProcess | undefined;
    let signalledAt = 0;
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', vars: '{demo_sleep_seconds: 60}' }), {
      env: dbEnv(pg, db),
      cwd: proj,
      onSpawn: (c) => (child = c),
      onStdout: whenSlowStarts(() =>
        setTimeout(() => {
          signalledAt = Date.now();
          child!.kill('SIGINT');
        }, 1500),
      ),
    });
    expect(signalledAt).toBeGreaterThan(0);
    const afterSignal = (Date.now() - signalledAt) / 1000;
    expect(afterSignal).toBeLessThan(10); // the runner kills the step 10 s after its SIGINT
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Received SIGINT: interrupting every dbt process');
    const st = expectEveryNodeOnce(run.outputs.results);
    expect(st.get([...st.keys()].find((u) => u.endsWith(`.${SLOW}`))!)!.status).toBe('error');
    expect([...st.values()].some((r) => r.status === 'success')).toBe(true);
    expect(run.summary).toMatch(/cancelled/);
    await expectNothingLeft(run.runnerTemp, db);
  });

  test('a dbt killed with SIGKILL: finished nodes keep their status, the rest are errors saying so', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const runnerTemp = mkdtempSync(join(tmpdir(), 'parallel-dbt-kill-'));
    let killed = '';
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', vars: '{demo_sleep_seconds: 20}' }), {
      env: dbEnv(pg, db),
      cwd: proj,
      runnerTemp,
      onStdout: whenSlowStarts((line) =>
        setTimeout(() => {
          const chunk = /^\[(chunk-\d+)\]/.exec(line)![1];
          // The chunk's dbt: a `dbt build` process, or a worker forked from the host (it holds the chunk's dbt.log open).
          const victim = processesMentioning(join(runnerTemp, 'parallel-dbt', chunk, 'logs')).find((p) =>
            / build |worker_host\.py/.test(p.args),
          );
          if (victim) {
            killed = chunk;
            process.kill(victim.pid, 'SIGKILL');
          }
        }, 1000),
      ),
    });
    expect(killed).not.toBe('');
    expect(run.code).toBe(1);
    const st = expectEveryNodeOnce(run.outputs.results);
    const slow = st.get([...st.keys()].find((u) => u.endsWith(`.${SLOW}`))!)!;
    expect(slow.status).toBe('error');
    expect(slow.message).toMatch(/dbt was killed by SIGKILL/);
    // Nodes the killed process had finished (announced by its result events) kept their real status.
    expect([...st.values()].filter((r) => r.status === 'success' || r.status === 'pass').length).toBeGreaterThan(20);
    await expectNothingLeft(run.runnerTemp, db);
  });
});

describe('retries and fail-fast', () => {
  test('retries re-run an errored node and what it skipped; the last attempt counts; the summary says so', async () => {
    const proj = exampleCopy('flaky');
    const db = await freshDatabase(pg);
    const c = await pg.client(db);
    await c.query('create sequence public.flaky_attempts');
    await c.end();
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', retries: '1' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(run.code).toBe(0);
    const st = expectEveryNodeOnce(
      run.outputs.results,
      new Set([...expectedIds, 'model.parallel_dbt_example.flaky_orders', 'model.parallel_dbt_example.flaky_child']),
    );
    expect(st.get('model.parallel_dbt_example.flaky_orders')!.status).toBe('success');
    expect(st.get('model.parallel_dbt_example.flaky_child')!.status).toBe('success');
    const retried = record(run.runnerTemp).chunks.flatMap((ch) => ch.retried);
    expect(retried).toContainEqual({ uid: 'model.parallel_dbt_example.flaky_orders', statuses: ['error', 'success'] });
    expect(retried).toContainEqual({ uid: 'model.parallel_dbt_example.flaky_child', statuses: ['skipped', 'success'] });
    expect(run.summary).toContain('needed a retry');
  });

  test('a persistent error stays an error after retries, and a failing test is not retried unless asked', async () => {
    const proj = exampleCopy('red');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', retries: '2' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(run.code).toBe(1);
    const retried = record(run.runnerTemp).chunks.flatMap((ch) => ch.retried);
    expect(retried).toContainEqual({
      uid: 'model.parallel_dbt_example.order_unit_margin',
      statuses: ['error', 'error', 'error'],
    });
    expect(retried.map((r) => r.uid)).not.toContain('test.parallel_dbt_example.assert_every_campaign_is_profitable');
    const results = readResults(run.outputs.results).results;
    expect(results.find((r) => r.unique_id === 'model.parallel_dbt_example.order_unit_margin')!.status).toBe('error');
    expect(
      results.find((r) => r.unique_id === 'test.parallel_dbt_example.assert_every_campaign_is_profitable')!.status,
    ).toBe('fail');
  });

  test('fail-fast: after the first error nothing new starts, running chunks stop, the rest is skipped with the reason', async () => {
    const proj = exampleCopy('red');
    const db = await freshDatabase(pg);
    const run = await runAction(
      inputs(proj, { parallel: '2', chunks: '3', 'fail-fast': 'true', vars: '{demo_sleep_seconds: 30}' }),
      { env: dbEnv(pg, db), cwd: proj },
    );
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(40);
    const results = readResults(run.outputs.results).results;
    const ids = results.map((r) => r.unique_id);
    expect(ids.length).toBe(new Set(ids).size);
    const ff = results.filter((r) => r.status === 'skipped' && /fail-fast after/.test(String(r.message)));
    expect(ff.length).toBeGreaterThan(0);
    expect(run.summary).toMatch(/fail-fast/);
    await expectNothingLeft(run.runnerTemp, db);
  });
});

describe('stagger and the memory limit', () => {
  test('stagger-seconds spaces process starts', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { parallel: '3', chunks: '3', 'stagger-seconds': '2' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(run.code).toBe(0);
    const starts = record(run.runnerTemp)
      .chunks.map((c) => c.startedAt)
      .sort((a, b) => a - b);
    expect(starts.length).toBe(3);
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(2000);
  });

  test('the memory limit holds new processes back while memory use is above the limit, and says so', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(inputs(proj, { parallel: '3', chunks: '3', 'memory-limit-percent': '1' }), {
      env: dbEnv(pg, db),
      cwd: proj,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^⏸ memory use \d+% is above memory-limit-percent 1%/m);
    const chunks = record(run.runnerTemp).chunks.sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i].startedAt).toBeGreaterThanOrEqual(chunks[i - 1].endedAt);
  });
});

describe('secrets and output', () => {
  test('the warehouse password is never printed or written, even in a failing run', async () => {
    const proj = exampleCopy('red');
    const db = await freshDatabase(pg);
    const secret = 'S3cr3t-Pa55word-xyz';
    const admin = await pg.client(db);
    await admin.query(`create role secret_user login password '${secret}'`);
    await admin.query(`grant all on database ${db} to secret_user`);
    await admin.end();
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2' }), {
      env: dbEnv(pg, db, { PARALLEL_DBT_PG_USER: 'secret_user', PARALLEL_DBT_PG_PASSWORD: secret }),
      cwd: proj,
    });
    expect(run.code).toBe(1);
    // The runner learns the mask from ::add-mask:: (and hides it); nothing else may carry the value.
    expect(run.stdout).toContain(`::add-mask::${secret}`);
    expect(
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain(secret);
    expect(run.summary).not.toContain(secret);
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(join(run.runnerTemp, 'parallel-dbt'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => readFileSync(f).includes(secret))).toEqual([]);
  });

  test('100 MB of dbt output, some of it not UTF-8: the action streams it and its memory stays flat', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const bin = mkdtempSync(join(tmpdir(), 'fake-dbt-'));
    const fake = join(bin, 'dbt');
    // A real dbt behind a wrapper that first floods stdout when a chunk runs (a fault real dbt will not produce).
    writeFileSync(
      fake,
      `#!/usr/bin/env bash
for a in "$@"; do
  if [ "$a" = build ]; then
    head -c 75000000 /dev/zero | tr '\\0' 'x' | fold -w 1000
    printf 'not utf-8: \\xff\\xfe\\xc3\\x28\\n'
    head -c 3000000 /dev/zero | tr '\\0' 'y'; echo
    break
  fi
done
exec "${join(DBT_BIN, 'dbt')}" "$@"
`,
    );
    chmodSync(fake, 0o755);
    let peakKb = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const run = await runAction(inputs(proj, { parallel: '2', chunks: '2', dbt: fake }), {
      env: dbEnv(pg, db),
      cwd: proj,
      onSpawn: (c) => {
        timer = setInterval(() => {
          try {
            const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'))?.[1] ?? 0);
            peakKb = Math.max(peakKb, kb);
          } catch {
            /* exited */
          }
        }, 100);
      },
    });
    clearInterval(timer);
    expect(run.code).toBe(0);
    expectEveryNodeOnce(run.outputs.results);
    expect(peakKb).toBeGreaterThan(0);
    console.log(`action peak RSS with ${2 * 78} MB of dbt output: ${(peakKb / 1024).toFixed(0)} MB`);
    expect(peakKb / 1024).toBeLessThan(150);
  });
});

// Pooled workers (and gated ones with fixed chunks) wait inside dbt for statuses of other workers' nodes: whatever goes
// wrong with those, the run ends, every node reported once. The faults are injected in the worker host
// (PARALLEL_DBT_FAULT, worker_host.py): real dbt cannot be made to lose a message on purpose. PARALLEL_DBT_STALL_SECONDS
// shortens the stall watch (run/stall.ts). The pool is the default; the fixed gated chunks (PARALLEL_DBT_NODE_POOL=off)
// run these faults too when PARALLEL_DBT_FAULTS_FIXED=1.
describe.each([
  { path: 'pooled', env: {} as Record<string, string> },
  ...(process.env.PARALLEL_DBT_FAULTS_FIXED === '1'
    ? [{ path: 'fixed gated chunks', env: { PARALLEL_DBT_NODE_POOL: 'off' } as Record<string, string> }]
    : []),
])('$path workers never wait forever', ({ path, env }) => {
  const gated = (proj: string): Record<string, string> => inputs(proj, { parallel: '3', chunks: '3' });
  const pooled = path === 'pooled';
  const allGreen = (results: string): void => {
    const st = expectEveryNodeOnce(results);
    expect([...st.values()].filter((r) => r.status !== 'success' && r.status !== 'pass')).toEqual([]);
  };

  test('a status lost on its way to a worker is sent again, and the run ends as a green one would', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(gated(proj), {
      env: dbEnv(pg, db, { PARALLEL_DBT_FAULT: 'drop-status', PARALLEL_DBT_STALL_SECONDS: '2', ...env }),
      cwd: proj,
    });
    expect(run.stdout).toMatch(/^Run path: fork — /m);
    expect(run.stdout).toMatch(
      /dbt has not started node\(s\) whose parents all ended: .+; sending their statuses again\.|every node has ended, yet \d+ worker\(s\) still run; sending the statuses again\./,
    );
    expect(run.code).toBe(0);
    allGreen(run.outputs.results);
    await expectNothingLeft(run.runnerTemp, db);
  });

  test('workers that never hear the statuses are stopped, with a message naming what waited on what', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(gated(proj), {
      env: dbEnv(pg, db, { PARALLEL_DBT_FAULT: 'deaf', PARALLEL_DBT_STALL_SECONDS: '2', ...env }),
      cwd: proj,
    });
    expect(run.seconds).toBeLessThan(120);
    // A pool whose first worker (more slots until the others have started) took every node ends green: the others,
    // deaf, wait for statuses after every node has ended, hear them again, and are stopped.
    if (pooled && run.code === 0) {
      console.log('deaf workers: the first worker ran every node; the others were stopped at the end');
      allGreen(run.outputs.results);
      expect(run.stdout).toMatch(
        /⚠ the pool: every node has ended, yet \d+ worker\(s\) still run; sending the statuses again/,
      );
      expect(run.stdout).toMatch(
        /✖ parallel-dbt stopped a worker that still waited for statuses after every node of the run had ended/,
      );
      await expectNothingLeft(run.runnerTemp, db);
      return;
    }
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /✖ (chunk \d+|the pool): parallel-dbt stopped waiting after \d+ s: its worker did not start \S+ \(its parents /,
    );
    const st = expectEveryNodeOnce(run.outputs.results);
    const stopped = [...st.values()].filter(
      (r) => r.status === 'error' && /^parallel-dbt stopped waiting/.test(String(r.message)),
    );
    expect(stopped.length).toBeGreaterThan(0);
    await expectNothingLeft(run.runnerTemp, db);
  });

  test('workers whose control thread dies do not hang the run, and the log says why', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const run = await runAction(gated(proj), {
      env: dbEnv(pg, db, { PARALLEL_DBT_FAULT: 'control-thread', PARALLEL_DBT_STALL_SECONDS: '2', ...env }),
      cwd: proj,
    });
    expect(run.code).toBe(1);
    const st = expectEveryNodeOnce(run.outputs.results);
    if (pooled) {
      // Each finishes what it runs and takes no other node; what none of them could take is an error saying so.
      expect(run.stdout).toMatch(
        /the control thread failed \(RuntimeError: fault injected: PARALLEL_DBT_FAULT=control-thread\).*; it finishes what it runs and takes no other node/,
      );
      expect(
        [...st.values()].some((r) => r.status === 'error' && /no worker ran this node/.test(String(r.message))),
      ).toBe(true);
    } else {
      expect(run.stdout).toMatch(
        /the control thread failed \(RuntimeError: fault injected: PARALLEL_DBT_FAULT=control-thread\) while nodes waited: \S+ \(waits for /,
      );
      expect([...st.values()].some((r) => r.status === 'skipped')).toBe(true);
    }
    await expectNothingLeft(run.runnerTemp, db);
  });

  test('SIGTERM to a worker interrupts it as SIGINT does: its queries are cancelled and dbt writes its results', async () => {
    const proj = exampleCopy('green');
    const db = await freshDatabase(pg);
    const runnerTemp = mkdtempSync(join(tmpdir(), 'parallel-dbt-term-'));
    let termed = '';
    let queriesAfter: string[] = [];
    let checked: Promise<void> | undefined;
    const run = await runAction(
      { ...gated(proj), vars: '{demo_sleep_seconds: 30}' },
      {
        env: dbEnv(pg, db),
        cwd: proj,
        runnerTemp,
        onStdout: whenSlowStarts((line) =>
          setTimeout(() => {
            const chunk = /^\[(chunk-\d+)\]/.exec(line)![1];
            const victim = processesMentioning(join(runnerTemp, 'parallel-dbt', chunk, 'logs')).find((p) =>
              /worker_host\.py/.test(p.args),
            );
            if (!victim) return;
            termed = chunk;
            process.kill(victim.pid, 'SIGTERM');
            // dbt cancels its query itself (pg_cancel_backend), at once: not the server noticing a dead client later.
            checked = new Promise((r) => setTimeout(r, 3000)).then(async () => {
              // The victim's own query (another worker may still run the other slow model's).
              queriesAfter = (await queriesIn(pg, db)).filter((x) => x.includes('pg_sleep') && x.includes(`.${SLOW}"`));
            });
          }, 1500),
        ),
      },
    );
    expect(termed).not.toBe('');
    await checked;
    expect(run.code).toBe(1);
    expect(queriesAfter).toEqual([]);
    const st = expectEveryNodeOnce(run.outputs.results);
    const slow = st.get([...st.keys()].find((u) => u.endsWith(`.${SLOW}`))!)!;
    expect(slow.status).toBe('error');
    expect(slow.message).not.toMatch(/killed by SIGTERM/);
    expect(readdirSync(join(runnerTemp, 'parallel-dbt', termed, 'target'))).toContain('run_results.json');
    await expectNothingLeft(run.runnerTemp, db);
  });
});
