// The demo: the action (dist/index.js, as users run it) on the bundled example dbt project, with real dbt-core
// and a real PostgreSQL started here, in several concurrent chunks; then the job summary it wrote, and one plain
// `dbt build` of the same project for comparison.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startPostgres } from './lib/postgres.mjs';
import { runAction, ROOT, DBT_BIN } from './lib/action-run.mjs';

const sleep = process.env.DEMO_SLEEP_SECONDS ?? '3';
const pg = await startPostgres();
try {
  const copy = (variant) => {
    const dir = mkdtempSync(join(tmpdir(), `parallel-dbt-demo-${variant}-`));
    cpSync(join(ROOT, 'example'), dir, { recursive: true });
    if (variant === 'red') cpSync(join(ROOT, 'test', 'fixtures', 'red-overlay'), dir, { recursive: true });
    return dir;
  };
  const env = (db) => ({ PARALLEL_DBT_PG_HOST: pg.host, PARALLEL_DBT_PG_PORT: String(pg.port), PARALLEL_DBT_PG_USER: pg.user, PARALLEL_DBT_PG_PASSWORD: pg.password, PARALLEL_DBT_PG_DATABASE: db });
  const variant = process.argv.includes('--red') ? 'red' : 'green';
  const proj = copy(variant);
  const db = await pg.createDatabase('demo_action');
  console.log(`PostgreSQL ${pg.host}:${pg.port} · example project (${variant}) copied to ${proj}`);
  // chunks: 3 shows the concurrency; left to itself the planner runs a project this small as one process.
  console.log(`Running the action: command build, chunks 3, parallel 3, max-connections 12, vars demo_sleep_seconds=${sleep}\n`);
  const run = await runAction(
    { 'project-dir': proj, 'profiles-dir': proj, chunks: '3', parallel: '3', 'max-connections': '12', vars: `{demo_sleep_seconds: ${sleep}}` },
    { env: env(db), cwd: proj, onStdout: (s) => process.stdout.write(s) },
  );
  console.log('\n======================== job summary ($GITHUB_STEP_SUMMARY) ========================\n');
  console.log(run.summary);
  console.log('======================== outputs ($GITHUB_OUTPUT) ========================');
  for (const [k, v] of Object.entries(run.outputs)) console.log(`${k} = ${v}`);

  const single = copy(variant);
  const db2 = await pg.createDatabase('demo_single');
  const t0 = Date.now();
  await execa(join(DBT_BIN, 'dbt'), ['build', '--project-dir', single, '--profiles-dir', single, '--threads', '4', '--vars', `{demo_sleep_seconds: ${sleep}}`], { env: { ...process.env, ...env(db2), DO_NOT_TRACK: '1' }, reject: false });
  const singleSeconds = (Date.now() - t0) / 1000;
  const merged = JSON.parse(readFileSync(run.outputs.results, 'utf8'));
  console.log(`\nThe action: ${run.seconds.toFixed(1)} s wall for ${merged.results.length} nodes (exit code ${run.code}).`);
  console.log(`One plain 'dbt build --threads 4' of the same project: ${singleSeconds.toFixed(1)} s.`);
  process.exitCode = variant === 'green' ? run.code ?? 1 : 0;
} finally {
  await pg.stop();
}
