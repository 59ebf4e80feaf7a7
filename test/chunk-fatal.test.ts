// runChunk when dbt stops before its first node: once for a fault of the project or profile, again when another
// session created one of its schemas at the same time (src/dbt/errors.ts schemaCreatedMeanwhile). The launcher
// here stands in for dbt's exit alone; test/schema-race.integration.test.ts makes the race happen with real dbt.
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbtInvocation, DbtRunOutcome } from '../src/dbt/process.js';
import { runChunk, type ChunkContext } from '../src/run/chunk.js';
import { SelectorIndex } from '../src/run/selectors.js';
import { manifestNode, manifestOf } from './support/graphs.js';

const RACE =
  'Database Error duplicate key value violates unique constraint "pg_namespace_nspname_index" DETAIL: Key (nspname)=(analytics_raw) already exists.';
const PROFILE = "Runtime Error Could not find profile named 'analytics'";

/** A chunk whose dbt exits 2 before any node, saying each of `says` in turn (the last one from then on). */
async function chunkSaying(
  says: (string | string[])[],
): Promise<{ launches: DbtInvocation[]; notes: string[]; fatal?: string }> {
  const launches: DbtInvocation[] = [];
  const notes: string[] = [];
  const ctx: ChunkContext = {
    dbt: {
      launch: async (o): Promise<DbtRunOutcome> => {
        const said = says[Math.min(launches.length, says.length - 1)];
        launches.push(o);
        return {
          exitCode: 2,
          signal: undefined,
          timedOut: false,
          cancelled: false,
          durationMs: 5,
          tail: [said].flat(),
        };
      },
      command: 'build',
      project: { projectDir: '/p', profilesDir: '/p' },
      cwd: '/p',
      env: {},
      defer: false,
    },
    limits: {},
    selectors: new SelectorIndex(manifestOf([manifestNode('model.p.a'), manifestNode('model.p.b')])),
    onNote: (chunk, line) => notes.push(`[${chunk}] ${line}`),
  };
  const dir = join(mkdtempSync(join(tmpdir(), 'pdbt-chunk-fatal-')), 'chunk-1');
  const out = await runChunk(ctx, { name: 'chunk-1', nodes: ['model.p.a', 'model.p.b'], dir }, () => undefined);
  expect(out.invocations).toHaveLength(launches.length);
  expect(out.results.map((r) => r.status)).toEqual(['error', 'error']);
  return { launches, notes, fatal: out.fatal };
}

describe('runChunk: dbt stopped before its first node', () => {
  test('a fault of the project or profile: dbt runs once, its message is the fatal', async () => {
    const r = await chunkSaying([PROFILE]);
    expect(r.launches).toHaveLength(1);
    expect(r.notes).toEqual([]);
    expect(r.fatal).toBe(PROFILE);
  });

  test('another session created a schema meanwhile: run again in its own folders, said as a note', async () => {
    const r = await chunkSaying([RACE, PROFILE]);
    expect(r.launches).toHaveLength(2);
    expect(r.notes).toEqual([
      `[chunk-1] another session created a schema at the same time as this dbt (${RACE}); ran it again`,
    ]);
    const targets = r.launches.map((l) => l.argv[l.argv.indexOf('--target-path') + 1]);
    expect(new Set(targets).size).toBe(2);
    expect(r.fatal).toBe(PROFILE);
  });

  test("a Python traceback dbt printed is left out of the fatal: dbt's reason stays", async () => {
    const r = await chunkSaying([
      [
        'Encountered an error:',
        'Traceback (most recent call last):',
        '  File "/venv/lib/python3.11/site-packages/dbt/task/runnable.py", line 680, in run',
        '    self.before_run(adapter, selected_uids)',
        '    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
        "KeyError: 'model.p.gone'",
      ],
    ]);
    expect(r.launches).toHaveLength(1);
    expect(r.fatal).toBe("KeyError: 'model.p.gone'");
  });

  test('the race again and again: three starts, then the race is the fatal', async () => {
    const r = await chunkSaying([RACE]);
    expect(r.launches).toHaveLength(3);
    expect(r.notes).toHaveLength(2);
    expect(r.fatal).toBe(RACE);
  });
});
