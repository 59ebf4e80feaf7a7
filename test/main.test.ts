// The entry (src/main.ts) through a recording Runner: every line, secret and failure reaches the runner it is
// given (flow/runner.ts is the only file that drives @actions/core), with secrets masked.
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/main.js';
import type { Runner } from '../src/flow/runner.js';
import { keptLines } from './support/log.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-main-'));
  writeFileSync(join(dir, 'dbt_project.yml'), 'name: p\n');
  mkdirSync(join(dir, 'profiles'));
  return dir;
}

function recordingRunner(): Runner & { failed: string[]; secrets: string[]; outputs: Record<string, unknown> } {
  const failed: string[] = [];
  const secrets: string[] = [];
  const outputs: Record<string, unknown> = {};
  return {
    ...keptLines(),
    failed,
    secrets,
    outputs,
    output: (name, value) => void (outputs[name] = value),
    summary: async () => {},
    annotate: () => {},
    fail: (m) => void failed.push(m),
    secret: (v) => void secrets.push(v),
  };
}

const signals = ['SIGINT', 'SIGTERM'] as const;
const before = new Map(signals.map((s) => [s, process.listeners(s)]));
afterEach(() => {
  // run() listens for the runner's signals for the life of the process: not for the rest of this test file's.
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
});

describe('run', () => {
  /** Runs the entry with this runner, failing the test if anything reached stdout past it (@actions/core writes there). */
  async function runQuietly(env: NodeJS.ProcessEnv, dir: string, runner: Runner): Promise<void> {
    const write = jest.spyOn(process.stdout, 'write');
    try {
      await run(env, dir, runner);
    } finally {
      write.mockRestore();
    }
    expect(write).not.toHaveBeenCalled();
  }

  test("bad input: one line to the runner's fail, masked", async () => {
    const runner = recordingRunner();
    await runQuietly({ DB_PASSWORD: 'hunter22', INPUT_COMMAND: 'hunter22' }, project(), runner);
    expect(runner.failed).toHaveLength(1);
    expect(runner.failed[0]).toMatch(/^Input 'command'/);
    expect(runner.failed[0]).toContain('***');
    expect(runner.failed[0]).not.toContain('hunter22');
  });

  test('the secrets are registered with the runner once the inputs are read; a missing dbt is one line', async () => {
    const runner = recordingRunner();
    await runQuietly({ DB_PASSWORD: 'hunter22', INPUT_DBT: '/nonexistent/hunter22/dbt' }, project(), runner);
    expect(runner.secrets).toEqual(['hunter22']);
    expect(runner.failed).toHaveLength(1);
    expect(runner.failed[0]).toMatch(/^Input 'dbt'/);
    expect(runner.failed[0]).not.toContain('hunter22');
  });
});
