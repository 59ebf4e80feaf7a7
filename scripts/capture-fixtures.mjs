// Captures real dbt artifacts of the example project into test/fixtures/captured/{green,red}/ for the unit tests:
//   manifest.json     target/manifest.json after `dbt parse`
//   ls.jsonl          stdout of `dbt --quiet --no-use-colors ls --output json --output-keys ...`
//   run_results.json  target/run_results.json after one full `dbt build`
//   build.log.jsonl   stdout of that build with --log-format json
// plus captured/meta.json (dbt versions, commands, node counts, non-pass statuses).
// green = example/ as is; red = example/ with test/fixtures/red-overlay/ copied over it.
// Needs the venv from scripts/setup-dbt.sh (`npm run capture-fixtures` creates it) and starts its own PostgreSQL.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startPostgres } from './lib/postgres.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.dbt-venv');
const dbt = join(venv, 'bin', 'dbt');
const exampleDir = join(root, 'example');
const overlayDir = join(root, 'test', 'fixtures', 'red-overlay');
const outDir = join(root, 'test', 'fixtures', 'captured');
const LS_KEYS = ['unique_id', 'name', 'resource_type', 'depends_on', 'original_file_path', 'fqn', 'tags'];

if (!existsSync(dbt)) {
  console.error(`capture-fixtures: ${dbt} not found; run "npm run setup:dbt" first`);
  process.exit(2);
}

const log = (msg) => console.error(`capture-fixtures: ${msg}`);

/** Copies the example project (without build leftovers) and optionally the red overlay over it. */
function prepareProject(dest, withOverlay) {
  cpSync(exampleDir, dest, {
    recursive: true,
    filter: (src) => !/[/\\](target|logs|dbt_packages)([/\\]|$)/.test(src.slice(exampleDir.length)),
  });
  if (withOverlay) {
    for (const entry of readdirSync(overlayDir)) {
      if (entry === 'README.md') continue; // documentation of the overlay, not part of the project
      cpSync(join(overlayDir, entry), join(dest, entry), { recursive: true });
    }
  }
}

async function runDbt(args, { env, cwd, okCodes = [0] }) {
  const started = Date.now();
  const res = await execa(dbt, args, { cwd, env, extendEnv: true, reject: false, maxBuffer: 256 * 1024 * 1024 });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  log(`dbt ${args.join(' ')} -> exit ${res.exitCode} in ${secs}s`);
  if (!okCodes.includes(res.exitCode)) {
    throw new Error(`dbt ${args.join(' ')} exited ${res.exitCode}\n${res.stdout}\n${res.stderr}`);
  }
  return { ...res, seconds: Number(secs) };
}

/** Makes the text machine-independent: temp project dir -> ".", other temp/home paths -> placeholders. */
function scrub(text, { projectDir, workDir, secrets }) {
  let out = text;
  for (const s of secrets) {
    if (s) out = out.split(s).join('<redacted>');
  }
  out = out.split(projectDir).join('.');
  out = out.split(workDir).join('<tmp>');
  out = out.split(venv).join('<dbt-venv>');
  return out;
}

async function capture(name, { pg, workDir, withOverlay, env }) {
  const projectDir = join(workDir, name);
  prepareProject(projectDir, withOverlay);
  const database = await pg.createDatabase(`capture_${name}`);
  const dest = join(outDir, name);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const runEnv = { ...env, PARALLEL_DBT_PG_DATABASE: database };
  const common = ['--project-dir', projectDir, '--profiles-dir', projectDir];
  const ctx = { projectDir, workDir, secrets: [pg.password] };
  const save = (file, text) => writeFileSync(join(dest, file), scrub(text, ctx));

  await runDbt(['--no-use-colors', 'parse', ...common], { env: runEnv, cwd: projectDir });
  save('manifest.json', readFileSync(join(projectDir, 'target', 'manifest.json'), 'utf8'));

  const ls = await runDbt(
    ['--quiet', '--no-use-colors', 'ls', ...common, '--output', 'json', '--output-keys', ...LS_KEYS],
    { env: runEnv, cwd: projectDir },
  );
  save('ls.jsonl', ls.stdout.trim() + '\n');

  const build = await runDbt(['--log-format', 'json', '--no-use-colors', 'build', ...common], {
    env: runEnv,
    cwd: projectDir,
    okCodes: withOverlay ? [1] : [0],
  });
  save('build.log.jsonl', build.stdout.trim() + '\n');
  const runResultsText = readFileSync(join(projectDir, 'target', 'run_results.json'), 'utf8');
  save('run_results.json', runResultsText);

  const manifest = JSON.parse(readFileSync(join(projectDir, 'target', 'manifest.json'), 'utf8'));
  const runResults = JSON.parse(runResultsText);
  const counts = {};
  for (const node of Object.values(manifest.nodes)) counts[node.resource_type] = (counts[node.resource_type] ?? 0) + 1;
  const statuses = {};
  for (const r of runResults.results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const nonPass = runResults.results
    .filter((r) => !['pass', 'success'].includes(r.status))
    .map((r) => ({ unique_id: r.unique_id, status: r.status, failures: r.failures, message: r.message }));
  return { exit_code: build.exitCode, build_seconds: build.seconds, counts, statuses, non_pass: nonPass };
}

/** Fails loudly if the database password (or any other secret) made it into a captured file. */
function assertNoSecrets(dir, secrets) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    for (const s of secrets) {
      if (s && text.includes(s)) throw new Error(`secret leaked into ${file}`);
    }
  }
}

async function dbtVersions() {
  const py = join(venv, 'bin', 'python');
  const { stdout } = await execa(py, [
    '-c',
    "import importlib.metadata as m, json, sys; print(json.dumps({'dbt_core': m.version('dbt-core'), " +
      "'dbt_postgres': m.version('dbt-postgres'), 'python': sys.version.split()[0]}))",
  ]);
  return JSON.parse(stdout);
}

const pg = await startPostgres();
const workDir = mkdtempSync(join(tmpdir(), 'parallel-dbt-capture-'));
try {
  const env = {
    PARALLEL_DBT_PG_HOST: pg.host,
    PARALLEL_DBT_PG_PORT: String(pg.port),
    PARALLEL_DBT_PG_USER: pg.user,
    PARALLEL_DBT_PG_PASSWORD: pg.password,
    PARALLEL_DBT_PG_SCHEMA: 'analytics',
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_LOG_PATH: join(workDir, 'logs'),
  };
  mkdirSync(outDir, { recursive: true });
  const green = await capture('green', { pg, workDir, withOverlay: false, env });
  const red = await capture('red', { pg, workDir, withOverlay: true, env });
  const meta = {
    ...(await dbtVersions()),
    adapter_type: 'postgres',
    captured_at: new Date().toISOString(),
    project: 'parallel_dbt_example',
    commands: {
      manifest: 'dbt --no-use-colors parse',
      ls: `dbt --quiet --no-use-colors ls --output json --output-keys ${LS_KEYS.join(' ')}`,
      build: 'dbt --log-format json --no-use-colors build',
    },
    notes: 'Paths of the temporary project dir are replaced by ".", other temp paths by "<tmp>".',
    green,
    red,
  };
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  assertNoSecrets(outDir, [pg.password]);
  log(`wrote ${outDir}`);
  log(
    `green: ${JSON.stringify(green.statuses)} exit ${green.exit_code}; red: ${JSON.stringify(red.statuses)} exit ${red.exit_code}`,
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
  await pg.stop();
}
