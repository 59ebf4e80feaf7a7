// What a pull-request run uses, through the action, against plain dbt: the project in test/fixtures/features (seeds
// with column_types, views, tables, ephemeral models, an incremental model, a snapshot, a contract, unit tests,
// generic and singular data tests with stored failures, custom schemas, a local package with an introspective macro,
// on-run-start/on-run-end hooks writing an audit table) and a PR on it (test/fixtures/features-pr) built with
// `state:modified+ --defer` (and `--favor-state`), for each dbt version and each run path.
//
// For every dbt version, plain dbt (one process, `dbt deps` then the steps below) builds the project in one database;
// for every run path, the action runs the same steps in another database. After each step both are compared:
// - the relations the step left (kind, columns, constraints, row count, an order-independent hash of the rows, and a
//   view's definition) — none may differ;
// - the status of every model, seed, snapshot, test and unit test in the action's merged results against plain dbt's
//   run_results.json (the project hooks, operation.* nodes that dbt ≥ 1.9 reports, are logged apart);
// - the audit rows: exactly one 'start' and one 'end' row per step, the 'end' row counting as many results as plain
//   dbt's, by the statuses the action reported for them.
// The steps: 1. build --full-refresh (round 1) into the 'prod' target schema; 2. build with round 2 (the incremental
// model appends, the snapshot records changes); 3. the PR copy: build --select state:modified+ --defer --state
// <prod manifest> into a fresh 'pr_defer' schema; 4. the same with --favor-state into 'pr_favor'. The action gets the
// same flags through its inputs (full-refresh, select, state, defer, favor-state, vars) and plain dbt's prod manifest
// (with its own database name) as state.
// Each (version, run path) is 4 action runs, each version 4 plain dbt runs: the file takes ~10 minutes on 2 cores.
//
// By default (CI's 30-minute budget) every dbt version runs the pooled workers (dbt 1.8 and 1.12 without the
// --favor-state step) (the path that differs between dbt versions: it hooks into dbt's queue, cache and tasks): on
// dbt 1.11 with forced chunks (every worker takes nodes from the start), on 1.8 and 1.12 with default inputs (one
// worker, the other joining while the run goes); dbt 1.11 also one dbt process per chunk; the ordered chunks of the fork path are the workers without the peer
// statuses, and e2e.integration.test.ts runs them on every push; the fixed gated chunks (the pool turned off) run
// only when asked for. PARALLEL_DBT_FEATURES=all runs every version on every path (≈ 12 min here). Narrow a local run with PARALLEL_DBT_FEATURES_DBT (e.g. '1.11') and
// PARALLEL_DBT_FEATURES_PATHS (e.g. 'gated'): comma-separated parts of the version / run path keys below.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RunRecord } from '../src/flow/run-record.js';
import { ROOT, dbEnv, freshDatabase, readResults, runAction, usePostgres } from './support/harness.js';
import {
  auditRows,
  diffTables,
  formatTableDiffs,
  readTables,
  type AuditRow,
  type TableStates,
} from './support/tables.js';
import type { RunResultsArtifact } from '../src/dbt/run-results.js';

const FEATURES = join(ROOT, 'test', 'fixtures', 'features');
const FEATURES_PR = join(ROOT, 'test', 'fixtures', 'features-pr');

const pg = usePostgres();
const work = mkdtempSync(join(tmpdir(), 'pdbt-features-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pick<T extends { key: string }>(all: T[], env: string | undefined): T[] {
  const wanted = (env ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return wanted.length === 0 ? all : all.filter((x) => wanted.some((w) => x.key.includes(w)));
}

const VERSIONS = pick(
  [
    { key: '1.8.9', venv: '.dbt-venv-1.8', setup: '1.8', defaultPaths: ['growing pool'], everyStep: false },
    { key: '1.11.16', venv: '.dbt-venv', setup: '', defaultPaths: ['pooled', 'one dbt process'], everyStep: true },
    { key: '1.12.0', venv: '.dbt-venv-1.12', setup: '1.12', defaultPaths: ['growing pool'], everyStep: false },
  ],
  process.env.PARALLEL_DBT_FEATURES_DBT,
);
const EVERY_PATH =
  process.env.PARALLEL_DBT_FEATURES === 'all' || (process.env.PARALLEL_DBT_FEATURES_PATHS ?? '') !== '';

interface RunPath {
  key: string;
  inputs: Record<string, string>;
  log: RegExp;
  ordered: boolean;
  /** The workers take ready nodes from one pool (run/pool.ts), rather than each running a fixed chunk. */
  pooled: boolean;
  /** The pool starts with one worker taking nodes and grows (its growth forced early by the environment). */
  grows?: boolean;
  /** The host parses the project's SQL files in forked processes (forced by the environment: the project is small). */
  parsesInProcesses?: boolean;
  env?: Record<string, string>;
}
const PATHS = pick<RunPath>(
  [
    {
      key: 'pooled forked workers',
      inputs: { parallel: '3', chunks: '3' },
      log: /^Run path: fork — /m,
      ordered: false,
      pooled: true,
    },
    {
      // Default inputs: one worker takes nodes, the other joins once the first is measured CPU-bound; the test makes
      // "CPU-bound" any load over any window, so that the second worker joins as soon as ready nodes wait.
      key: 'growing pool (default inputs)',
      inputs: { parallel: '3' },
      log: /^Run path: fork — /m,
      ordered: false,
      pooled: true,
      grows: true,
      // And the host parses the project's SQL files in 2 processes (worker_host.py parse_sql_in_processes), which it
      // does on its own only from 200 files on.
      env: {
        PARALLEL_DBT_POOL_GROW_LOAD: '0',
        PARALLEL_DBT_POOL_GROW_SECONDS: '0',
        PARALLEL_DBT_PARSE_MIN_FILES: '1',
        PARALLEL_DBT_PARSE_PROCESSES: '2',
      },
      parsesInProcesses: true,
    },
    {
      key: 'gated forked workers with fixed chunks (PARALLEL_DBT_NODE_POOL=off)',
      inputs: { parallel: '3', chunks: '3' },
      log: /^Run path: fork — /m,
      ordered: false,
      pooled: false,
      env: { PARALLEL_DBT_NODE_POOL: 'off' },
    },
    {
      key: 'ordered chunks on the fork path (retries 1)',
      inputs: { parallel: '3', chunks: '3', retries: '1' },
      log: /^Run path: fork — /m,
      ordered: true,
      pooled: false,
    },
    {
      key: 'one dbt process per chunk',
      inputs: { 'worker-host': 'off', parallel: '3', chunks: '3' },
      log: /^Run path: one dbt process per chunk — worker-host: off\.$/m,
      ordered: false,
      pooled: false,
    },
  ],
  process.env.PARALLEL_DBT_FEATURES_PATHS,
);

interface Step {
  key: string;
  title: string;
  project: 'main' | 'pr';
  /** The target schema (PARALLEL_DBT_PG_SCHEMA): every relation of the step is in it or in <it>_<custom>. */
  schema: string;
  vars: string;
  fullRefresh?: boolean;
  /** build --select state:modified+ --defer against the prod manifest (after step 2). */
  defer?: boolean;
  favorState?: boolean;
}

const PROD = 'prod';
const STEPS: Step[] = [
  {
    key: 'build-1',
    title: 'build --full-refresh, round 1',
    project: 'main',
    schema: PROD,
    vars: '{round: 1}',
    fullRefresh: true,
  },
  {
    key: 'build-2',
    title: 'build, round 2 (incremental appends, snapshot changes)',
    project: 'main',
    schema: PROD,
    vars: '{round: 2}',
  },
  {
    key: 'defer',
    title: 'PR: build --select state:modified+ --defer',
    project: 'pr',
    schema: 'pr_defer',
    vars: '{round: 2}',
    defer: true,
  },
  {
    key: 'favor',
    title: 'PR: build --select state:modified+ --defer --favor-state',
    project: 'pr',
    schema: 'pr_favor',
    vars: '{round: 2}',
    defer: true,
    favorState: true,
  },
];

/** What one step left: its exit code, its results, its relations and the audit rows it added. */
interface StepOutcome {
  code: number;
  results: RunResultsArtifact;
  tables: TableStates;
  audit: AuditRow[];
}

/** A copy of the features project (or of `from`, e.g. a copy with its packages installed), with the PR overlay on it or not. */
function projectCopy(name: string, pr: boolean, from = FEATURES): string {
  const dir = join(work, name);
  cpSync(from, dir, {
    recursive: true,
    filter: (src) =>
      !/\/(target|logs)(\/|$)/.test(src.slice(from.length)) &&
      !(from === FEATURES && /\/dbt_packages(\/|$)/.test(src.slice(from.length))),
  });
  if (pr) cpSync(FEATURES_PR, dir, { recursive: true, filter: (src) => !src.endsWith('README.md') });
  return dir;
}

async function run(
  bin: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, args, {
      env: { ...process.env, ...env, DO_NOT_TRACK: '1' },
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** The audit rows of `schema` added since the last call for the same database and schema. */
function auditSince(): (db: string, schema: string) => Promise<AuditRow[]> {
  const seen = new Map<string, number>();
  return async (db, schema) => {
    const rows = await auditRows(pg, db, schema);
    const last = seen.get(`${db}.${schema}`) ?? 0;
    seen.set(
      `${db}.${schema}`,
      rows.reduce((m, r) => Math.max(m, r.id), last),
    );
    return rows.filter((r) => r.id > last);
  };
}

const tablesOf = (db: string, schema: string): Promise<TableStates> =>
  readTables(pg, db, { targetSchema: schema, excludeSchemas: ['{target}_audit'] });

/** Audit rows as lines: 'start', or 'end: 34 results (pass=13 success=20 warn=1)'. */
function auditLines(rows: AuditRow[]): string[] {
  return rows.map((r) => (r.kind === 'start' ? 'start' : `end: ${r.results} results (${r.statuses})`));
}

/** The audit lines one dbt invocation writes when it runs `count` nodes with the statuses of `results` (hooks left out). */
function expectedAudit(count: number | null | undefined, results: RunResultsArtifact): string[] {
  const counts = new Map<string, number>();
  for (const r of results.results) if (!HOOK.test(r.unique_id)) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const statuses = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([st, n]) => `${st}=${n}`)
    .join(' ');
  return ['start', `end: ${count} results (${statuses})`];
}

const HOOK = /^operation\./;

/** One line per node whose status differs (or that only one side has); hooks (operation.*) are left out. */
function statusDiffs(action: RunResultsArtifact, plain: RunResultsArtifact): string[] {
  const a = new Map(action.results.filter((r) => !HOOK.test(r.unique_id)).map((r) => [r.unique_id, r.status]));
  const p = new Map(plain.results.filter((r) => !HOOK.test(r.unique_id)).map((r) => [r.unique_id, r.status]));
  const out: string[] = [];
  for (const uid of [...new Set([...a.keys(), ...p.keys()])].sort()) {
    const x = a.get(uid);
    const y = p.get(uid);
    if (x === y) continue;
    const message = action.results.find((r) => r.unique_id === uid)?.message;
    out.push(
      `${uid}: ${x ?? 'absent'} (action) vs ${y ?? 'absent'} (plain dbt)${x !== undefined && x !== 'success' && x !== 'pass' && message ? ` — ${String(message).split('\n').slice(0, 2).join(' ').trim()}` : ''}`,
    );
  }
  return out;
}

function hookStatuses(r: RunResultsArtifact): string {
  const hooks = r.results.filter((x) => HOOK.test(x.unique_id));
  return hooks.length === 0
    ? 'none reported'
    : hooks.map((h) => `${h.unique_id.replace(/^operation\.features\./, '')}=${h.status}`).join(', ');
}

describe.each(VERSIONS)('dbt $key', ({ key: version, venv, setup, defaultPaths, everyStep }) => {
  const bin = join(ROOT, venv, 'bin', 'dbt');
  // By default the --favor-state step runs on dbt 1.11 only (what it adds, selected_resources across workers, is
  // the same code on every version); PARALLEL_DBT_FEATURES=all runs it everywhere.
  const steps = EVERY_PATH || everyStep ? STEPS : STEPS.filter((x) => !x.favorState);
  const plain = new Map<string, StepOutcome>();
  let plainDb = '';
  let prodState = '';

  // Plain dbt, one process per step: the reference every run path is compared with.
  beforeAll(async () => {
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: run 'bash scripts/setup-dbt.sh${setup ? ` ${setup}` : ''}'.`);
    plainDb = await freshDatabase(pg, 'feat_plain');
    const tag = version.replace(/\W/g, '_');
    const main = projectCopy(`plain-${tag}`, false);
    const deps = await run(bin, ['deps', '--project-dir', main, '--profiles-dir', main], dbEnv(pg, plainDb), main);
    if (deps.code !== 0) throw new Error(`plain dbt ${version} deps failed:\n${deps.out}`);
    const projects = { main, pr: projectCopy(`plain-${tag}-pr`, true, main) };
    prodState = join(work, `prod-state-${tag}`);
    mkdirSync(prodState);
    const audit = auditSince();
    for (const step of steps) {
      const proj = projects[step.project];
      const target = join(proj, 'target');
      const args = [
        'build',
        '--project-dir',
        proj,
        '--profiles-dir',
        proj,
        '--target-path',
        target,
        '--vars',
        step.vars,
      ];
      if (step.fullRefresh) args.push('--full-refresh');
      if (step.defer) args.push('--select', 'state:modified+', '--defer', '--state', prodState);
      if (step.favorState) args.push('--favor-state');
      const started = Date.now();
      const r = await run(bin, args, dbEnv(pg, plainDb, { PARALLEL_DBT_PG_SCHEMA: step.schema }), proj);
      const results = readResults(join(target, 'run_results.json'));
      plain.set(step.key, {
        code: r.code,
        results,
        tables: await tablesOf(plainDb, step.schema),
        audit: await audit(plainDb, step.schema),
      });
      console.log(
        `dbt ${version}, plain dbt, ${step.title}: exit ${r.code}, ${results.results.length} results in ${((Date.now() - started) / 1000).toFixed(1)} s; hooks: ${hookStatuses(results)}`,
      );
      // The prod manifest the PR steps defer to: plain dbt's, after the last prod build.
      if (step.key === 'build-2') cpSync(join(target, 'manifest.json'), join(prodState, 'manifest.json'));
    }
  });

  test('plain dbt: every step passes, with one start and one end audit row counting its results', () => {
    for (const step of steps) {
      const p = plain.get(step.key)!;
      const nodes = p.results.results.filter((r) => !HOOK.test(r.unique_id)).length;
      expect({ step: step.key, code: p.code, audit: auditLines(p.audit) }).toEqual({
        step: step.key,
        code: 0,
        audit: expectedAudit(nodes, p.results),
      });
    }
    // The steps do what they are there for: round 2 appends, the snapshot keeps two versions, the PR data differs.
    const build2 = plain.get('build-2')!.tables;
    expect(build2.get('{target}_core.order_events')?.rows).toBe(
      2 * plain.get('build-1')!.tables.get('{target}_core.order_events')!.rows,
    );
    expect(build2.get('{target}_snapshots.customers_snapshot')?.rows).toBe(12);
    const defer = plain.get('defer')!.tables;
    expect(defer.get('{target}_marts.payment_pivot')?.columns).toMatch(/gift_cents/);
    expect(defer.has('{target}_staging.stg_regions')).toBe(false);
    expect(defer.get('{target}_core.fct_orders')?.hash).not.toBe(build2.get('{target}_core.fct_orders')?.hash);
  });

  describe.each(EVERY_PATH ? PATHS : PATHS.filter((x) => defaultPaths.some((d) => x.key.startsWith(d))))(
    'the action, $key',
    ({ key: pathKey, inputs, log, ordered, pooled, grows, parsesInProcesses, env }) => {
      let db = '';
      /** Per step: how many workers took nodes at most, and how many ran at least one node (growing pools). */
      const growth: { step: string; workers: number; ran: number }[] = [];
      let projects: Record<'main' | 'pr', string> = { main: '', pr: '' };
      let state = '';
      const audit = auditSince();

      beforeAll(async () => {
        if (plain.size < steps.length)
          throw new Error(`plain dbt ${version} did not finish: nothing to compare with (see the first failure)`);
        db = await freshDatabase(pg, 'feat_action');
        const tag = `${version}-${pathKey}`.replace(/\W+/g, '_');
        projects = { main: projectCopy(`action-${tag}`, false), pr: projectCopy(`action-${tag}-pr`, true) };
        // The same prod manifest, naming this database (a deferred relation is database.schema.name).
        const dir = join(work, `state-${tag}`);
        mkdirSync(dir);
        writeFileSync(
          join(dir, 'manifest.json'),
          readFileSync(join(prodState, 'manifest.json'), 'utf8').split(plainDb).join(db),
        );
        state = dir;
      });

      describe.each(steps)('$title', (step) => {
        let outcome: StepOutcome | undefined;
        let stdout = '';
        let seconds = 0;

        beforeAll(async () => {
          if (!plain.has(step.key) || state === '')
            throw new Error(
              `plain dbt ${version} did not finish '${step.title}': nothing to compare with (see the first failure)`,
            );
          const proj = projects[step.project];
          const runnerTemp = mkdtempSync(join(work, 'runner-'));
          const run = await runAction(
            {
              'project-dir': proj,
              'profiles-dir': proj,
              dbt: bin,
              vars: step.vars,
              ...inputs,
              ...(step.fullRefresh ? { 'full-refresh': 'true' } : {}),
              ...(step.defer ? { select: 'state:modified+', state, defer: 'true' } : {}),
              ...(step.favorState ? { 'favor-state': 'true' } : {}),
            },
            { env: dbEnv(pg, db, { PARALLEL_DBT_PG_SCHEMA: step.schema, ...env }), cwd: proj, runnerTemp },
          );
          stdout = run.stdout;
          seconds = run.seconds;
          const recordFile = run.outputs.results ? join(dirname(run.outputs.results), 'parallel-dbt.json') : '';
          if (grows === true && existsSync(recordFile)) {
            const rec = JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord;
            // Each growth predicted the run again, after the seconds it had already run.
            for (const g of rec.pool?.growth ?? [])
              expect(g.predictedMakespan).toBeGreaterThanOrEqual(
                (g.at - Math.min(...rec.chunks.map((c) => c.startedAt ?? Infinity))) / 1000 - 1,
              );
            growth.push({
              step: step.key,
              workers: Math.max(rec.pool?.active ?? 0, ...(rec.pool?.growth ?? []).map((g) => g.workers)),
              ran: rec.chunks.filter((c) => c.nodes > 0).length,
            });
          }
          const results =
            run.outputs.results && existsSync(run.outputs.results)
              ? readResults(run.outputs.results)
              : ({ results: [] } as unknown as RunResultsArtifact);
          outcome = {
            code: run.code ?? -1,
            results,
            tables: await tablesOf(db, step.schema),
            audit: await audit(db, step.schema),
          };
          const tail =
            run.code === plain.get(step.key)!.code
              ? ''
              : `\n--- the action's output, last lines ---\n${(run.stdout + run.stderr).split('\n').slice(-25).join('\n')}`;
          console.log(
            `dbt ${version}, ${pathKey}, ${step.title}: exit ${run.code} in ${seconds.toFixed(1)} s; hooks: ${hookStatuses(results)}${tail}`,
          );
        });

        test('runs on this path and exits as plain dbt did', () => {
          const p = plain.get(step.key)!;
          const uids = outcome!.results.results.map((r) => r.unique_id);
          expect({
            runPath: log.test(stdout),
            ordered: /chunks run in order/.test(stdout),
            pooled: /takes ready nodes from the run's pool/.test(stdout),
            exit: outcome?.code,
            errors: stdout.match(/^::error\b.*$/gm) ?? [],
            eachNodeOnce: new Set(uids).size === uids.length,
            // Forked workers defer to the production state the host loaded for the selection (state:modified+).
            stateLoadedOnce: /the defer state .* is the one the selection loaded: not loaded again/.test(stdout),
            // ... which the host read in a process of its own while it parsed (worker_host.py StateReadAhead).
            stateReadAhead: /the selection's state .*: read while the parse ran/.test(stdout),
            parsedInProcesses: /: \d+ SQL files parsed in 2 processes in /.test(stdout),
          }).toEqual({
            runPath: true,
            ordered,
            pooled,
            exit: p.code,
            errors: [],
            eachNodeOnce: true,
            stateLoadedOnce: step.defer === true && /fork/.test(log.source),
            stateReadAhead: step.defer === true && /fork/.test(log.source),
            parsedInProcesses: parsesInProcesses === true,
          });
        });

        test('leaves the same relations as plain dbt', () => {
          const diffs = diffTables(outcome!.tables, plain.get(step.key)!.tables);
          expect(formatTableDiffs(diffs, ['action', 'plain dbt'])).toEqual([]);
          expect(outcome!.tables.size).toBeGreaterThan(0);
        });

        test('gives every node the status plain dbt gave it', () => {
          expect(statusDiffs(outcome!.results, plain.get(step.key)!.results)).toEqual([]);
        });

        // One start and one end row; the end row counts as many results as plain dbt's, with the statuses the action
        // reported (a status that differs from plain dbt's is the previous test's failure, not this one's).
        test('runs the hooks once, and on-run-end sees every result', () => {
          const plainEnd = plain.get(step.key)!.audit.find((r) => r.kind === 'end');
          expect(auditLines(outcome!.audit)).toEqual(expectedAudit(plainEnd?.results, outcome!.results));
        });
      });

      if (grows === true)
        test('the pool grew while it ran: the second worker joined and ran nodes', () => {
          expect(growth.length).toBe(steps.length);
          // The full builds have many ready nodes at once: there the second worker must join and take some.
          const full = growth.filter((g) => g.step.startsWith('build'));
          expect(full.length).toBeGreaterThan(0);
          for (const g of full)
            expect({ step: g.step, workers: g.workers, ran: g.ran }).toEqual({ step: g.step, workers: 2, ran: 2 });
        });
    },
  );
});
