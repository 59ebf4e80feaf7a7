// Matrix shards (and any other dbt run on the same warehouse database) create the same schemas at once. On
// PostgreSQL two concurrent `create schema if not exists` of one name race: the second waits on the first's
// uncommitted row in pg_namespace and then fails with a unique violation, and its dbt stops before any node ran.
// Here the race is made certain: another session creates the schema in a transaction left open until the action's
// dbt is seen waiting on it, then commits.
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  EXAMPLE,
  ROOT,
  dbEnv,
  freshDatabase,
  readResults,
  runAction,
  statusMap,
  usePostgres,
} from './support/harness.js';

const pg = usePostgres();

/** Waits until a session of `db` is blocked on a lock in a `create schema` statement. */
async function blockedCreateSchema(db: string, withinMs: number): Promise<boolean> {
  const c = await pg.client('postgres');
  try {
    const until = Date.now() + withinMs;
    while (Date.now() < until) {
      const r = await c.query(
        `select count(*)::int as n from pg_stat_activity
          where datname = $1 and wait_event_type = 'Lock' and query ilike '%create schema%'`,
        [db],
      );
      if ((r.rows[0] as { n: number }).n > 0) return true;
      await new Promise((res) => setTimeout(res, 50));
    }
    return false;
  } finally {
    await c.end();
  }
}

/**
 * A small project every supported dbt parses (the example's tests use 1.10's `arguments:`): a seed in the schema
 * `<profile schema>_raw`, models over it in `_staging` and `_marts`, and their tests.
 */
function raceProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-race-'));
  const put = (rel: string, text: string): void => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  put(
    'dbt_project.yml',
    [
      'name: race',
      'version: "1.0.0"',
      'config-version: 2',
      'profile: race',
      'seeds:',
      '  race:',
      '    +schema: raw',
      'models:',
      '  race:',
      '    staging:',
      '      +schema: staging',
      '      +materialized: view',
      '    marts:',
      '      +schema: marts',
      '      +materialized: table',
      '',
    ].join('\n'),
  );
  put('profiles.yml', readFileSync(join(EXAMPLE, 'profiles.yml'), 'utf8').replace('parallel_dbt_example:', 'race:'));
  put(
    'seeds/raw_orders.csv',
    ['id,amount', ...Array.from({ length: 20 }, (_, i) => `${i + 1},${(i * 7) % 50}`)].join('\n') + '\n',
  );
  const tests: string[] = ['version: 2', 'models:'];
  for (let i = 1; i <= 8; i++) {
    put(`models/staging/stg_${i}.sql`, `select id, amount * ${i} as amount from {{ ref('raw_orders') }}\n`);
    put(`models/marts/mart_${i}.sql`, `select count(*) as n, sum(amount) as total from {{ ref('stg_${i}') }}\n`);
    tests.push(`  - name: stg_${i}`, '    columns:', '      - name: id', '        tests: [unique, not_null]');
  }
  put('models/staging/_staging.yml', tests.join('\n') + '\n');
  return dir;
}

describe('schemas created at once by another run', () => {
  // The forked workers' retry patches dbt's task (worker_host.py retry_schema_races): on every supported version.
  test.each<{ path: string; venv: string; inputs: Record<string, string> }>([
    { path: 'forked workers, dbt 1.11', venv: '.dbt-venv', inputs: { parallel: '2' } },
    { path: 'forked workers, dbt 1.8', venv: '.dbt-venv-1.8', inputs: { parallel: '2' } },
    { path: 'forked workers, dbt 1.12', venv: '.dbt-venv-1.12', inputs: { parallel: '2' } },
    {
      path: 'dbt processes, dbt 1.11',
      venv: '.dbt-venv',
      inputs: { parallel: '2', 'worker-host': 'off', chunks: '2' },
    },
  ])('$path: a schema race at dbt start is retried, the run equals one dbt build', async ({ venv, inputs: given }) => {
    const bin = join(ROOT, venv, 'bin', 'dbt');
    const inputs = { ...given, dbt: bin };
    const proj = raceProject();
    const db = await freshDatabase(pg, 'race');
    const other = await pg.client(db);
    try {
      await other.query('begin');
      await other.query('create schema analytics_raw');
      const run = runAction(
        { 'project-dir': proj, 'profiles-dir': proj, ...inputs },
        { env: dbEnv(pg, db), cwd: proj },
      );
      const blocked = await blockedCreateSchema(db, 60_000);
      await other.query('commit');
      const done = await run;
      expect(blocked).toBe(true);
      if (done.code !== 0) console.log(done.stdout.slice(-4000), done.stderr);
      expect(done.code).toBe(0);
      // Said once, as information (not a warning annotation): nothing is wrong with the project.
      const said = done.stdout.split('\n').filter((l) => l.includes('another session created a schema'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^\[chunk-\d\] .*analytics_raw.*(listed and created again|ran it again)$/);
      const merged = statusMap(readResults(done.outputs.results));
      const singleDb = await freshDatabase(pg, 'race_single');
      const target = join(proj, 'target-single');
      await promisify(execFile)(
        bin,
        ['build', '--project-dir', proj, '--profiles-dir', proj, '--target-path', target],
        {
          env: { ...process.env, ...dbEnv(pg, singleDb), DO_NOT_TRACK: '1' },
          cwd: proj,
        },
      ).catch(() => undefined); // its statuses are compared below, whatever its exit

      const single = statusMap(readResults(join(target, 'run_results.json')));
      expect(merged.size).toBe(1 + 8 + 8 + 16);
      expect([...merged.values()].every((st) => st === 'success' || st === 'pass')).toBe(true);
      expect(new Map([...merged].sort())).toEqual(new Map([...single].sort()));
    } finally {
      await other.end().catch(() => undefined);
    }
  });
});
