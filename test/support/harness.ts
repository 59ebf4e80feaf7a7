// What the integration tests share: a real PostgreSQL, copies of the example project, real dbt.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startPostgres, type StartedPostgres } from '../../scripts/lib/postgres.mjs';
import { ROOT, DBT_BIN } from '../../scripts/lib/action-run.mjs';
import type { RunResultsArtifact } from '../../src/dbt/types.js';

export { ROOT, DBT_BIN };
export { runAction, annotations } from '../../scripts/lib/action-run.mjs';
export type { StartedPostgres };

export const EXAMPLE = join(ROOT, 'example');
export const RED_OVERLAY = join(ROOT, 'test', 'fixtures', 'red-overlay');

export async function postgres(): Promise<StartedPostgres> {
  return startPostgres();
}

/** A fresh copy of the example project (optionally with the red overlay) in a temp dir. */
export function exampleCopy(variant: 'green' | 'red' = 'green'): string {
  const dir = mkdtempSync(join(tmpdir(), `parallel-dbt-example-${variant}-`));
  cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !/\/(target|logs|dbt_packages)(\/|$)/.test(src.slice(EXAMPLE.length)) });
  if (variant === 'red') cpSync(RED_OVERLAY, dir, { recursive: true, filter: (src) => !src.endsWith('README.md') });
  return dir;
}

/** The environment the example profile reads, for one database of the server. */
export function dbEnv(pg: StartedPostgres, database: string, extra: Record<string, string> = {}): Record<string, string> {
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
export async function dbt(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(DBT_BIN, 'dbt'), args, { env: { ...process.env, ...env, DO_NOT_TRACK: '1' }, cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export function readResults(path: string): RunResultsArtifact {
  return JSON.parse(readFileSync(path, 'utf8')) as RunResultsArtifact;
}

export function statusMap(a: RunResultsArtifact): Map<string, string> {
  return new Map(a.results.map((r) => [r.unique_id, String(r.status)]));
}
