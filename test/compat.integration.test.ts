// The oldest supported dbt-core (1.8, from its own venv made by `bash scripts/setup-dbt.sh 1.8`) through the
// action: the same statuses as one plain `dbt build` of the same project with the same dbt.
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, freshDatabase, readResults, runAction, statusMap, usePostgres } from './support/harness.js';

const DBT18 = join(ROOT, '.dbt-venv-1.8', 'bin', 'dbt');
const pg = usePostgres();

/** A project in the test syntax dbt 1.8 reads: two domains, cross refs, a failing test, an erroring model. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-compat-'));
  mkdirSync(join(dir, 'models', 'a'), { recursive: true });
  mkdirSync(join(dir, 'models', 'b'), { recursive: true });
  mkdirSync(join(dir, 'seeds'));
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    "name: compat\nversion: '1.0'\nconfig-version: 2\nprofile: compat\nmodels:\n  compat:\n    a: { +schema: a, +materialized: table }\n    b: { +schema: b }\n",
  );
  writeFileSync(
    join(dir, 'profiles.yml'),
    'compat:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: "{{ env_var(\'PGPORT\') | as_number }}"\n      user: postgres\n      password: "{{ env_var(\'PGPASSWORD\') }}"\n      dbname: "{{ env_var(\'PGDATABASE\') }}"\n      schema: c\n      threads: 2\n',
  );
  writeFileSync(join(dir, 'seeds', 'people.csv'), 'id,name\n1,ann\n2,bob\n3,cy\n');
  writeFileSync(join(dir, 'models', 'a', 'a1.sql'), "select * from {{ ref('people') }}\n");
  writeFileSync(join(dir, 'models', 'a', 'a2.sql'), "select id, upper(name) as name from {{ ref('a1') }}\n");
  writeFileSync(join(dir, 'models', 'b', 'b1.sql'), "select id from {{ ref('people') }}\n");
  writeFileSync(
    join(dir, 'models', 'b', 'b2.sql'),
    "select b1.id, a2.name from {{ ref('b1') }} b1 join {{ ref('a2') }} a2 using (id)\n",
  );
  writeFileSync(
    join(dir, 'models', 'b', 'b3_boom.sql'),
    "{{ config(materialized='table') }}\nselect id / 0 as boom from {{ ref('b1') }}\n",
  );
  writeFileSync(join(dir, 'models', 'b', 'b4_after_boom.sql'), "select * from {{ ref('b3_boom') }}\n");
  writeFileSync(
    join(dir, 'models', 'schema.yml'),
    `version: 2
models:
  - name: a1
    columns:
      - name: id
        tests: [unique, not_null]
  - name: b2
    columns:
      - name: id
        tests:
          - relationships: { to: "ref('a1')", field: id }
      - name: name
        tests:
          - accepted_values: { values: ['ANN', 'BOB'] }
`,
  );
  return dir;
}

describe('dbt-core 1.8', () => {
  test('the action on dbt 1.8 gives the statuses one dbt 1.8 build gives', async () => {
    const proj = project();
    const env = { PGPORT: String(pg.port), PGPASSWORD: pg.password };
    const db = await freshDatabase(pg, 'compat');
    const run = await runAction(
      { 'project-dir': proj, 'profiles-dir': proj, dbt: DBT18, parallel: '2', chunks: '2' },
      { env: { ...env, PGDATABASE: db }, cwd: proj },
    );
    expect(run.stdout).toMatch(/dbt 1\.8\.\d+: parsed/);
    expect(run.code).toBe(1);
    const db2 = await freshDatabase(pg, 'compat_single');
    const target = join(proj, 'target-single');
    try {
      await promisify(execFile)(
        DBT18,
        ['build', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target],
        { env: { ...process.env, ...env, PGDATABASE: db2, DO_NOT_TRACK: '1' } },
      );
    } catch {
      /* the project fails on purpose */
    }
    const single = statusMap(readResults(join(target, 'run_results.json')));
    const merged = statusMap(readResults(run.outputs.results));
    expect(new Map([...merged].sort())).toEqual(new Map([...single].sort()));
    expect([...merged.values()].filter((x) => x === 'fail')).toHaveLength(1);
    expect(merged.get('model.compat.b3_boom')).toBe('error');
    expect(merged.get('model.compat.b4_after_boom')).toBe('skipped');
  });
});
