// What the integration tests share: a real PostgreSQL, copies of the example project, real dbt.
import { cpSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startPostgres, type StartedPostgres } from '../../scripts/lib/postgres.mjs';
import { ROOT, DBT_BIN, runAction as runBundle, type ActionRun } from '../../scripts/lib/action-run.mjs';
import { readRunResults, type RunResultsArtifact } from '../../src/dbt/run-results.js';
import { actionBundle, integrationOnly } from './integration.js';
import { useShared } from './shared.js';

integrationOnly('real dbt and PostgreSQL (test/support/harness.ts)');

export { ROOT, DBT_BIN };
export { annotations } from '../../scripts/lib/action-run.mjs';
export type { StartedPostgres };
export { useShared };

/** Runs the action as built from src/ for this jest run (test/support/build-action.mjs), the way the runner does. */
export function runAction(
  inputs: Record<string, string>,
  opts: Omit<NonNullable<Parameters<typeof runBundle>[1]>, 'bundle'> = {},
): Promise<ActionRun> {
  return runBundle(inputs, { ...opts, bundle: actionBundle() });
}

export const EXAMPLE = join(ROOT, 'example');
export const RED_OVERLAY = join(ROOT, 'test', 'fixtures', 'red-overlay');

export async function postgres(settings?: Record<string, string>): Promise<StartedPostgres> {
  return startPostgres({ settings });
}

/** A PostgreSQL server (with these settings) for the tests of the calling file or describe block: see useShared. */
export function usePostgres(settings?: Record<string, string>): StartedPostgres {
  return useShared(
    'PostgreSQL',
    () => postgres(settings),
    (pg) => pg.stop(),
  );
}

/**
 * Processes whose command line mentions `marker` (e.g. the run's temp dir), or that hold a file under it open: a
 * worker forked from the worker host has the host's command line, but it has its chunk's dbt.log open.
 */
export function processesMentioning(marker: string): { pid: number; args: string }[] {
  const out: { pid: number; args: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (args.trim() === '') continue; // a zombie or a kernel thread
      if (args.includes(marker) || openFiles(entry).some((f) => f.includes(marker)))
        out.push({ pid: Number(entry), args });
    } catch {
      /* gone */
    }
  }
  return out;
}

function openFiles(pid: string): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

/** Our queries still running in a database (anything but this sampler's own). */
export async function queriesIn(pg: StartedPostgres, db: string): Promise<string[]> {
  const c = await pg.client('postgres');
  try {
    const r = await c.query(
      `select query from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and state <> 'idle'`,
      [db],
    );
    return (r.rows as { query: string }[]).map((x) => x.query);
  } finally {
    await c.end();
  }
}

/** A fresh copy of the example project (optionally with the red overlay) in a temp dir. */
export function exampleCopy(variant: 'green' | 'red' | 'flaky' = 'green', parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `parallel-dbt-example-${variant}-`));
  cpSync(EXAMPLE, dir, {
    recursive: true,
    filter: (src) => !/\/(target|logs|dbt_packages)(\/|$)/.test(src.slice(EXAMPLE.length)),
  });
  if (variant !== 'green')
    cpSync(join(ROOT, 'test', 'fixtures', `${variant}-overlay`), dir, {
      recursive: true,
      filter: (src) => !src.endsWith('README.md'),
    });
  return dir;
}

/** The environment the example profile reads, for one database of the server. */
export function dbEnv(
  pg: StartedPostgres,
  database: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PARALLEL_DBT_PG_HOST: pg.host,
    PARALLEL_DBT_PG_PORT: String(pg.port),
    PARALLEL_DBT_PG_USER: pg.user,
    PARALLEL_DBT_PG_PASSWORD: pg.password,
    PARALLEL_DBT_PG_DATABASE: database,
    ...extra,
  };
}

let dbCounter = 0;
export async function freshDatabase(pg: StartedPostgres, prefix = 'db'): Promise<string> {
  dbCounter++;
  return pg.createDatabase(`${prefix}_${process.pid}_${dbCounter}`);
}

/** Runs the real dbt directly (one process), e.g. to compare with the action. */
export async function dbt(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(DBT_BIN, 'dbt'), args, {
      env: { ...process.env, ...env, DO_NOT_TRACK: '1' },
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** A run_results.json, checked by the format's owner (a real dbt's or the action's file must pass). */
export function readResults(path: string): RunResultsArtifact {
  return readRunResults(path);
}

export function statusMap(a: RunResultsArtifact): Map<string, string> {
  return new Map(a.results.map((r) => [r.unique_id, r.status]));
}

/** A login role on `db` that PostgreSQL refuses more than `limit` connections: the warehouse's budget, enforced. */
export async function limitedRole(
  pg: StartedPostgres,
  db: string,
  role: string,
  password: string,
  limit: number,
): Promise<void> {
  const admin = await pg.client(db);
  await admin.query(`create role ${role} login password '${password}' connection limit ${limit}`);
  await admin.query(`grant all on database ${db} to ${role}`);
  await admin.end();
}

/** Samples how many connections `role` holds every `everyMs` until stopped; `stop` gives the peak seen. */
export function connectionPeak(pg: StartedPostgres, role: string, everyMs: number): { stop: () => Promise<number> } {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    const c = await pg.client('postgres');
    while (sampling) {
      const r = await c.query('select count(*)::int as n from pg_stat_activity where usename = $1', [role]);
      peak = Math.max(peak, (r.rows[0] as { n: number }).n);
      await new Promise((res) => setTimeout(res, everyMs));
    }
    await c.end();
  })();
  return {
    stop: async () => {
      sampling = false;
      await sampler;
      return peak;
    },
  };
}
