// The warehouse connection budget across several parallel/threads combinations, against a PostgreSQL role whose
// CONNECTION LIMIT is the budget; and the schema race (several processes creating one schema) on the same runs.
import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, runAction, freshDatabase, usePostgres } from './support/harness.js';

const pg = usePostgres();

/** A project of `n` independent table models that each hold a connection for `sleep` seconds, all in one new schema. */
function sleepyProject(n: number, sleep: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-sleepy-'));
  mkdirSync(join(dir, 'models'));
  writeFileSync(join(dir, 'dbt_project.yml'), `name: sleepy\nversion: '1.0'\nconfig-version: 2\nprofile: sleepy\nmodels:\n  sleepy:\n    +materialized: table\n    +schema: shared_new_schema\n`);
  writeFileSync(join(dir, 'profiles.yml'), `sleepy:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: "{{ env_var('PGPORT') | as_number }}"\n      user: "{{ env_var('PGUSER') }}"\n      password: "{{ env_var('PGPASSWORD') }}"\n      dbname: "{{ env_var('PGDATABASE') }}"\n      schema: s\n      threads: 8\n`);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, 'models', `m${String(i).padStart(2, '0')}.sql`), `select ${i} as id, pg_sleep(${sleep}) is null as slept\n`);
  return dir;
}

describe('connection budget', () => {
  test.each([
    { parallel: 3, threads: 4, budget: 6 },
    { parallel: 2, threads: 3, budget: 8 },
    { parallel: 4, threads: 2, budget: 12 },
  ])('parallel $parallel × threads $threads under a role limited to $budget connections', async ({ parallel, threads, budget }) => {
    const proj = sleepyProject(16, 1.5);
    const db = await freshDatabase(pg, 'budget');
    const role = `budget_${parallel}_${threads}_${budget}`;
    const admin = await pg.client(db);
    await admin.query(`create role ${role} login password 'role-pw-123' connection limit ${budget}`);
    await admin.query(`grant all on database ${db} to ${role}`);
    await admin.end();
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      const c = await pg.client('postgres');
      while (sampling) {
        const r = await c.query('select count(*)::int as n from pg_stat_activity where usename = $1', [role]);
        peak = Math.max(peak, (r.rows[0] as { n: number }).n);
        await new Promise((res) => setTimeout(res, 20));
      }
      await c.end();
    })();
    const run = await runAction({ 'project-dir': proj, 'profiles-dir': proj, parallel: String(parallel), threads: String(threads), 'max-connections': String(budget), chunks: String(parallel) }, {
      env: { PGPORT: String(pg.port), PGUSER: role, PGPASSWORD: 'role-pw-123', PGDATABASE: db }, cwd: proj,
    });
    sampling = false;
    await sampler;
    console.log(`budget ${budget}, asked parallel ${parallel} × threads ${threads}: ${run.stdout.match(/Processes at once: .*/)?.[0]} — peak ${peak} connections`);
    expect(run.stdout).not.toMatch(/too many connections|remaining connection slots/i);
    expect(run.stdout).not.toMatch(/pg_namespace_nspname_index|duplicate key value/i);
    expect(run.code).toBe(0);
    expect(readResults(run.outputs.results).results.every((r) => r.status === 'success')).toBe(true);
    expect(peak).toBeLessThanOrEqual(budget);
    expect(peak).toBeGreaterThan(Math.min(parallel, 2)); // processes really overlapped
  });
});
