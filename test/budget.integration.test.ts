// The warehouse connection budget across several parallel/threads combinations, against a PostgreSQL role whose
// CONNECTION LIMIT is the budget; and the schema race (several processes creating one schema) on the same runs.
import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionPeak, freshDatabase, limitedRole, readResults, runAction, usePostgres } from './support/harness.js';

const pg = usePostgres();

/** A project of `n` independent table models that each hold a connection for `sleep` seconds, all in one new schema. */
function sleepyProject(n: number, sleep: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-sleepy-'));
  mkdirSync(join(dir, 'models'));
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    `name: sleepy\nversion: '1.0'\nconfig-version: 2\nprofile: sleepy\nmodels:\n  sleepy:\n    +materialized: table\n    +schema: shared_new_schema\n`,
  );
  writeFileSync(
    join(dir, 'profiles.yml'),
    `sleepy:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: "{{ env_var('PGPORT') | as_number }}"\n      user: "{{ env_var('PGUSER') }}"\n      password: "{{ env_var('PGPASSWORD') }}"\n      dbname: "{{ env_var('PGDATABASE') }}"\n      schema: s\n      threads: 8\n`,
  );
  for (let i = 0; i < n; i++)
    writeFileSync(
      join(dir, 'models', `m${String(i).padStart(2, '0')}.sql`),
      `select ${i} as id, pg_sleep(${sleep}) is null as slept\n`,
    );
  return dir;
}

describe('connection budget', () => {
  test.each([
    { parallel: 3, threads: 4, budget: 6 },
    { parallel: 2, threads: 3, budget: 8 },
    { parallel: 4, threads: 2, budget: 12 },
  ])(
    'parallel $parallel × threads $threads under a role limited to $budget connections',
    async ({ parallel, threads, budget }) => {
      const proj = sleepyProject(16, 1.5);
      const db = await freshDatabase(pg, 'budget');
      const role = `budget_${parallel}_${threads}_${budget}`;
      await limitedRole(pg, db, role, 'role-pw-123', budget);
      const sampler = connectionPeak(pg, role, 20);
      const run = await runAction(
        {
          'project-dir': proj,
          'profiles-dir': proj,
          parallel: String(parallel),
          threads: String(threads),
          'max-connections': String(budget),
          chunks: String(parallel),
        },
        {
          env: { PGPORT: String(pg.port), PGUSER: role, PGPASSWORD: 'role-pw-123', PGDATABASE: db },
          cwd: proj,
        },
      );
      const peak = await sampler.stop();
      console.log(
        `budget ${budget}, asked parallel ${parallel} × threads ${threads}: ${run.stdout.match(/Connections: .*/)?.[0]} — peak ${peak} connections`,
      );
      expect(run.stdout).not.toMatch(/too many connections|remaining connection slots/i);
      expect(run.stdout).not.toMatch(/pg_namespace_nspname_index|duplicate key value/i);
      expect(run.code).toBe(0);
      expect(readResults(run.outputs.results).results.every((r) => r.status === 'success')).toBe(true);
      expect(peak).toBeLessThanOrEqual(budget);
      expect(peak).toBeGreaterThan(Math.min(parallel, 2)); // processes really overlapped
    },
  );
});
