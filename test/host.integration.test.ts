// The worker host (src/dbt/worker_host.py + src/dbt/host.ts) on real dbt-core and PostgreSQL: parse once, fork
// workers, hold gated nodes, lose nothing when the host dies. (Its protocol and pythonOf without dbt: host.test.ts.)
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DbtHost, pythonOf } from '../src/dbt/host.js';
import type { DbtLogEvent } from '../src/dbt/events.js';
import {
  DBT_BIN,
  ROOT,
  dbEnv,
  exampleCopy,
  freshDatabase,
  processesMentioning,
  queriesIn,
  readResults,
  usePostgres,
} from './support/harness.js';

test("pythonOf finds the interpreter of the project's dbt venv", () => {
  expect(pythonOf(join(DBT_BIN, 'dbt'), {})).toMatch(/python/);
});

test("a worker's lighter event logging writes the same stdout events and dbt.log, rendering no dropped event", () => {
  // test/support/event_logging.py fires the same events through dbt's own loggers, as dbt does and as a worker does.
  const fire = (
    how: 'dbt' | 'lighten',
  ): {
    stdout: string;
    file: string;
    events: number;
    rendered_json: number;
    fast_header: boolean;
    direct_events: number;
  } => {
    const log = join(mkdtempSync(join(tmpdir(), 'parallel-dbt-events-')), 'dbt.log');
    return JSON.parse(
      execFileSync(
        pythonOf(join(DBT_BIN, 'dbt'), process.env)!,
        [join('test', 'support', 'event_logging.py'), how, log],
        { encoding: 'utf8' },
      ),
    );
  };
  const dbt = fire('dbt');
  const worker = fire('lighten');
  expect(worker.stdout).toBe(dbt.stdout);
  expect(worker.file).toBe(dbt.file);
  expect(dbt.stdout).toMatch(/"name": "LogStartLine"/);
  expect(dbt.file).toMatch(/\[debug\] .*select 0 as secret_\*{5}/); // the debug line is kept, its secret scrubbed
  expect(dbt.stdout).not.toMatch(/hunter2|SQLQuery/);
  // dbt renders every event as JSON for stdout; the worker only those stdout writes (the debug ones are dropped).
  expect(dbt.rendered_json).toBe(dbt.events);
  expect(worker.rendered_json).toBe(dbt.stdout.trim().split('\n').length);
  expect(worker.rendered_json).toBeLessThan(dbt.events);
  expect(worker.fast_header).toBe(true);
  // Half the rounds come after each class's checks: those events were built by their message's constructor.
  expect(dbt.direct_events).toBe(0);
  expect(worker.direct_events).toBeGreaterThanOrEqual(worker.events / 2 - 6);
});

// The host's parse speedups (worker_host.py install_parse_speedups), on each dbt-core the CI installs.
const VENVS = ['.dbt-venv', '.dbt-venv-1.8', '.dbt-venv-1.12'];
// Its last line is the JSON (dbt 1.8 prints a warning to stdout before it, --quiet or not).
const speedupScript = (venv: string, args: string[], env: Record<string, string> = {}): string =>
  execFileSync(join(ROOT, venv, 'bin', 'python'), [join(ROOT, 'test', 'support', 'parse_speedups.py'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DBT_ENV_SECRET_PARSE_PROBE: 'hunter2', ...env },
  })
    .trim()
    .split('\n')
    .at(-1)!;

// The selection's state read while the host parses (worker_host.py StateReadAhead), against dbt's own PreviousState.
describe.each(VENVS)('the state read ahead with %s', (venv) => {
  test("is dbt's PreviousState field by field, only for the folders it was read for, and leaves nothing behind", () => {
    const work = mkdtempSync(join(tmpdir(), 'parallel-dbt-state-ahead-'));
    const out = execFileSync(
      join(ROOT, venv, 'bin', 'python'),
      ['-W', 'ignore', join(ROOT, 'test', 'support', 'state_ahead.py'), work],
      {
        encoding: 'utf8',
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
      said: string;
      differ: string[];
      nodes: string[];
      results_equal: boolean;
      folders_equal: boolean;
      sources_equal: boolean;
      folder_gone: boolean;
      other: { gives: boolean; said: string };
      itself: { gives: boolean; said: string };
      empty: { gives: boolean; said: string };
      slow: { gives: boolean; said: string; stopped: boolean };
      left: string[];
    };
    expect(r.said).toMatch(/: read while the parse ran; waited [\d.]+ s for it, unpickled in [\d.]+ s$/);
    expect(r.nodes.length).toBe(5);
    expect(r.differ).toEqual([]);
    expect([r.results_equal, r.folders_equal, r.sources_equal, r.folder_gone]).toEqual([true, true, true, true]);
    expect(r.other).toEqual({ gives: false, said: expect.stringMatching(/not of the folders this invocation reads$/) });
    // The state as its own target: dbt reads it itself, and warns as it does (WarnStateTargetEqual).
    expect(r.itself).toEqual({ gives: false, said: '' });
    expect(r.empty).toEqual({ gives: false, said: 'no state read ahead (FileNotFoundError): dbt reads it' });
    expect(r.slow).toEqual({
      gives: false,
      said: expect.stringMatching(/^the state reader had not finished after 0\.\d s more: dbt reads the state$/),
      stopped: true,
    });
    expect(r.left).toEqual([]);
  });
});

describe.each(VENVS)("the host's parse speedups with %s", (venv) => {
  test("give every value dbt's own validation outcome and dbt's list of secrets, validating a value once", () => {
    const r = JSON.parse(speedupScript(venv, ['checks'])) as {
      plain: Record<string, string>;
      memo_first: Record<string, string>;
      memo_again: Record<string, string>;
      validators_built: { plain: number; memo_first: number; memo_again: number };
      keys_differ: Record<string, boolean>;
      unkeyable: boolean;
      secrets_installed: boolean;
      secret_rounds: { same: boolean; count: number }[];
    };
    expect(r.memo_first).toEqual(r.plain);
    expect(r.memo_again).toEqual(r.plain);
    expect(Object.values(r.plain).filter((o) => o === 'ok').length).toBe(6);
    expect(r.plain['tags as a tuple']).toMatch(/^ValidationError: .*not valid/);
    // dbt builds a schema validator for each value that reaches it; the memo only for values it has not seen pass.
    const failing = Object.entries(r.plain).filter(([, o]) => /not valid/.test(o)).length;
    expect(r.validators_built.plain).toBe(9);
    expect(r.validators_built.memo_first).toBe(7);
    expect(r.validators_built.memo_again).toBe(failing);
    expect(Object.values(r.keys_differ)).toEqual([true, true, true, true, true]);
    expect(r.unkeyable).toBe(true);
    expect(r.secrets_installed).toBe(true);
    expect(r.secret_rounds).toEqual([
      { same: true, count: 3 },
      { same: true, count: 4 },
      { same: true, count: 3 },
    ]);
  });

  test('leave the manifest, errors, warnings and log lines dbt gives without them, SQL files parsed in 2 processes', () => {
    // The features project (test/fixtures/features: packages, macros, hooks, generic and singular tests, snapshots)
    // and a generated one whose SQL files log, read an environment variable, disable a model, hold a snapshot, an
    // analysis and singular tests; then the generated one with a duplicate model name, with a parse-time warning, with
    // a Jinja syntax error, and with the warning under --warn-error. Every project with at least one SQL file is parsed in 2 processes here.
    const root = mkdtempSync(join(tmpdir(), 'parallel-dbt-parse-features-'));
    const features = join(root, 'features');
    cpSync(join(ROOT, 'test', 'fixtures', 'features'), features, {
      recursive: true,
      filter: (src) => !/\/(target|logs|dbt_packages)(\/|$)/.test(src),
    });
    const projects = [
      features,
      parseProject(root, 'busy', {}),
      parseProject(root, 'duplicate', { 'models/more/m_001.sql': 'select 2 as id' }),
      parseProject(root, 'warning', {
        'models/more/careful.sql': "{{ exceptions.warn('careful: m_careful') }}\nselect 1 as id",
      }),
      parseProject(root, 'broken', { 'models/more/broken.sql': 'select {{ ref( }} as id' }),
      parseProject(root, 'strict', {
        'models/more/careful.sql': "{{ exceptions.warn('careful: m_careful') }}\nselect 1 as id",
      }),
    ];
    type Parsed = {
      ok: boolean;
      error: string | null;
      report: string[];
      jinja: string[];
      printed: string[];
      env_vars: Record<string, unknown> | null;
      parsing_info: Record<string, number> | null;
      files: Record<string, unknown> | null;
    };
    // One process per group: after a parse the host did alone (broken, strict), dbt's static parser leaves threads
    // that forbid forking, so those come last in a process of their own. strict runs with --warn-error.
    const groups: { ids: number[]; env?: Record<string, string> }[] = [
      { ids: [0, 1, 2, 3] },
      { ids: [4] },
      { ids: [5], env: { DBT_WARN_ERROR: 'true' } },
    ];
    const runs = Object.fromEntries(
      (['off', 'on'] as const).map((mode) => {
        const parsed: Parsed[] = [];
        const manifests: (Record<string, unknown> | undefined)[] = [];
        for (const { ids, env } of groups) {
          const target = mkdtempSync(join(tmpdir(), `parallel-dbt-parse-${mode}-`));
          const out = JSON.parse(
            speedupScript(venv, ['parse', mode, target, ...ids.map((i) => projects[i])], {
              PARALLEL_DBT_PARSE_MIN_FILES: '1',
              PARALLEL_DBT_PARSE_PROCESSES: '2',
              PARALLEL_DBT_PARSE_PROBE: 'probe-value',
              ...env,
            }),
          ) as { installed: string[]; projects: Parsed[] };
          expect(out.installed).toEqual(
            mode === 'on'
              ? [
                  'validation memo',
                  "secrets read from the environment's bytes",
                  'template compile cache',
                  'SQL files parsed in up to 2 processes',
                ]
              : [],
          );
          out.projects.forEach((p, n) => {
            parsed.push(p);
            manifests.push(
              p.ok
                ? (JSON.parse(readFileSync(join(target, String(n), 'manifest.json'), 'utf8')) as Record<
                    string,
                    unknown
                  >)
                : undefined,
            );
          });
        }
        return [mode, { projects: parsed, manifests }];
      }),
    );
    const [on, off] = [runs.on, runs.off];
    // features and busy parse; the same manifest, nodes from SQL files in dbt's order, what the manifest leaves out.
    for (const i of [0, 1]) {
      expect(off.projects[i].ok).toBe(true);
      expect(on.projects[i].ok).toBe(true);
      expect(comparable(on.manifests[i]!)).toEqual(comparable(off.manifests[i]!));
      expect(sqlNodeOrder(on.manifests[i]!)).toEqual(sqlNodeOrder(off.manifests[i]!));
      expect(on.projects[i].env_vars).toEqual(off.projects[i].env_vars);
      expect(on.projects[i].parsing_info).toEqual(off.projects[i].parsing_info);
      expect(on.projects[i].files).toEqual(off.projects[i].files);
      expect(on.projects[i].jinja).toEqual(off.projects[i].jinja);
      expect(off.projects[i].report).toEqual([]);
    }
    expect(Object.keys(on.manifests[0]!.nodes as object).length).toBe(37);
    expect(on.projects[0].report).toEqual([
      expect.stringMatching(/^features: \d+ SQL files parsed in 2 processes in /),
    ]);
    // busy: 30 models (one disabled), a snapshot, an analysis and 4 singular tests, parsed by two children.
    expect(on.projects[1].report).toEqual([expect.stringMatching(/^busy: 36 SQL files parsed in 2 processes in /)]);
    expect(sqlNodeOrder(on.manifests[1]!).length).toBe(35);
    expect(Object.keys(on.manifests[1]!.disabled as object)).toEqual(['model.busy.m_007']);
    expect(on.projects[1].env_vars).toEqual({ PARALLEL_DBT_PARSE_PROBE: 'probe-value' });
    // The variable the schema macro read while each SQL node was named, on the macro's file, once per node as dbt
    // records it (a child hands these on: the record of a file it did not parse).
    const macroVars = (p: Parsed): unknown =>
      (p.files?.['busy://macros/schema.sql'] as { env_vars?: string[] } | undefined)?.env_vars;
    expect((macroVars(off.projects[1]) as string[]).length).toBeGreaterThanOrEqual(30);
    expect(macroVars(on.projects[1])).toEqual(macroVars(off.projects[1]));
    // dbt's print() in a file a child parsed (a PrintEvent, fired again by the host) reaches stdout as without children.
    expect(off.projects[1].printed).toEqual(['printed m_020']);
    expect(on.projects[1].printed).toEqual(off.projects[1].printed);
    expect([...on.projects[1].jinja].sort()).toEqual(
      [3, 10, 17, 24].map((n) => `JinjaLogInfo info: parsing m_${String(n).padStart(3, '0')}`),
    );
    // duplicate: dbt's own error, from the same two files; the children parsed, the host's dbt found it.
    expect(off.projects[2].ok).toBe(false);
    expect(on.projects[2].error).toBe(off.projects[2].error);
    expect(off.projects[2].error).toMatch(/m_001/);
    expect(on.projects[2].report).toEqual([
      expect.stringMatching(/^duplicate: 37 SQL files parsed in 2 processes in /),
    ]);
    // warning: a child carries the warning and the host's dbt fires it once, in its file's turn.
    expect(on.projects[3].ok).toBe(true);
    expect(comparable(on.manifests[3]!)).toEqual(comparable(off.manifests[3]!));
    expect(on.projects[3].jinja).toEqual(off.projects[3].jinja);
    // (dbt 1.12 puts "[WARNING]: " before the text.)
    expect(on.projects[3].jinja.filter((l) => /careful: m_careful/.test(l))).toEqual([
      expect.stringMatching(/^JinjaLogWarning warn: (\[WARNING\]: )?careful: m_careful$/),
    ]);
    expect(on.projects[3].report).toEqual([expect.stringMatching(/^warning: 37 SQL files parsed in 2 processes in /)]);
    // broken: the child fails; the host parses alone and dbt raises its own error.
    expect(off.projects[4].ok).toBe(false);
    expect(on.projects[4].error).toBe(off.projects[4].error);
    expect(on.projects[4].report).toEqual([
      expect.stringMatching(/^broken: 37 SQL files parsed in one process after all \(CompilationError: /),
    ]);
    // strict (--warn-error): dbt raises the warning inside the file's parse; a child refuses it, the host parses
    // alone, and dbt raises its own error, as without the children.
    expect(off.projects[5].ok).toBe(false);
    expect(on.projects[5].error).toBe(off.projects[5].error);
    expect(off.projects[5].error).toMatch(/careful: m_careful/);
    expect(on.projects[5].report).toEqual([
      expect.stringMatching(
        /^strict: 37 SQL files parsed in one process after all \(JinjaLogWarning \(a warning dbt raises as an error\) while parsing /,
      ),
    ]);
  });
});

/**
 * A small project for the parallel SQL parse, named `name`: models m_000..m_029 in models/core (a ref chain; m_003,
 * m_010, m_017, m_024 log at parse time, m_005 reads PARALLEL_DBT_PARSE_PROBE, m_007 is disabled, m_012 sets a config, m_015 reads run_started_at, m_020 prints),
 * a snapshot, an analysis, four singular tests and a generate_schema_name that reads PARALLEL_DBT_PARSE_PROBE;
 * `extra` adds or replaces files.
 */
function parseProject(root: string, name: string, extra: Record<string, string>): string {
  const dir = join(root, name);
  const files: Record<string, string> = {
    'dbt_project.yml': `name: ${name}\nversion: '1.0'\nconfig-version: 2\nprofile: parse_probe\n`,
    'profiles.yml':
      'parse_probe:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      password: postgres\n      dbname: postgres\n      schema: ci\n      threads: 1\n',
    'snapshots/snap.sql':
      "{% snapshot snap %}\n{{ config(target_schema='snaps', unique_key='id', strategy='check', check_cols=['id']) }}\nselect * from {{ ref('m_000') }}\n{% endsnapshot %}\n",
    'analyses/a.sql': "select * from {{ ref('m_001') }}",
    // dbt names every node's schema with this macro while it parses the node's SQL file, and records the variable it
    // reads on the macro's file (partial parsing re-parses what used it when the variable changes).
    'macros/schema.sql':
      "{% macro generate_schema_name(custom_schema_name, node) -%}\n{{ (custom_schema_name or target.schema) ~ env_var('PARALLEL_DBT_PARSE_PROBE', '') | replace('probe-value', '') }}\n{%- endmacro %}\n",
  };
  for (let n = 0; n < 30; n++) {
    const id = String(n).padStart(3, '0');
    const lines: string[] = [];
    if (n % 7 === 3) lines.push(`{{ log('parsing m_${id}', info=True) }}`);
    if (n === 5) lines.push("-- {{ env_var('PARALLEL_DBT_PARSE_PROBE', 'unset') }}");
    if (n === 7) lines.push('{{ config(enabled=false) }}');
    if (n === 12) lines.push("{{ config(materialized='table', tags=['probe']) }}");
    if (n === 20) lines.push("{{ print('printed m_020') }}");
    if (n === 15) lines.push('-- {{ run_started_at.astimezone(modules.pytz.utc).year }}');
    const parent = n === 8 ? 6 : n - 1; // m_007 is disabled: nothing refers to it
    lines.push(n === 0 ? 'select 1 as id' : `select id from {{ ref('m_${String(parent).padStart(3, '0')}') }}`);
    files[`models/core/m_${id}.sql`] = lines.join('\n') + '\n';
  }
  for (let t = 0; t < 4; t++)
    files[`tests/t_${t}.sql`] =
      `select id from {{ ref('m_${String(t * 5 + 1).padStart(3, '0')}') }} where id is null\n`;
  for (const [path, text] of Object.entries({ ...files, ...extra })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The nodes parsed from SQL files (not YAML), in the order manifest.json holds them: dbt's parse order. */
function sqlNodeOrder(m: Record<string, unknown>): string[] {
  return Object.entries(m.nodes as Record<string, { original_file_path: string }>)
    .filter(([, n]) => !/\.ya?ml$/.test(n.original_file_path))
    .map(([id]) => id);
}

/** A manifest without what differs between two parses of the same project: timestamps and the invocation id. */
function comparable(m: Record<string, unknown>): Record<string, unknown> {
  const metadata = { ...(m.metadata as Record<string, unknown>) };
  for (const k of ['generated_at', 'invocation_id', 'invocation_started_at', 'run_started_at']) delete metadata[k];
  // created_at: when dbt made each node (also the disabled ones, in lists).
  const untimed = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(untimed)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .filter(([k]) => k !== 'created_at')
              .map(([k, v]) => [k, untimed(v)]),
          )
        : x;
  return { ...(untimed(m) as Record<string, unknown>), metadata };
}

describe('the worker host on real dbt-core and PostgreSQL', () => {
  const pg = usePostgres({ client_connection_check_interval: '200ms' });

  const pkg = 'parallel_dbt_example';
  async function startParsed(
    env: Record<string, string>,
    proj: string,
    work: string,
    o: { linkFor?: string; log?: (line: string) => void } = {},
  ): Promise<DbtHost> {
    const host = await DbtHost.start({
      python: pythonOf(join(DBT_BIN, 'dbt'), process.env)!,
      cwd: proj,
      env: { ...process.env, ...env },
      log: o.log,
    });
    const parsed = await host.invoke(
      {
        argv: [
          '--no-use-colors',
          '--quiet',
          'parse',
          '--project-dir',
          proj,
          '--profiles-dir',
          proj,
          '--target-path',
          join(work, 'parse'),
          '--log-path',
          join(work, 'logs'),
        ],
        cwd: proj,
        env: {},
      },
      true,
      o.linkFor,
    );
    expect(parsed.exitCode).toBe(0);
    expect(host.profile).toMatchObject({ adapter_type: 'postgres', threads: 4, host: '127.0.0.1' });
    expect(await host.forkCheck()).toEqual({ ok: true, why: '', gate: true });
    return host;
  }
  const buildArgv = (proj: string, work: string, name: string, select: string[], vars = '{}'): string[] => [
    '--no-use-colors',
    '--log-format',
    'json',
    'build',
    '--project-dir',
    proj,
    '--profiles-dir',
    proj,
    '--target-path',
    join(work, `target-${name}`),
    '--log-path',
    join(work, `logs-${name}`),
    '--vars',
    vars,
    '--indirect-selection',
    'empty',
    '--select',
    ...select,
  ];

  test('a gated node waits for its parent in another worker; a failed parent skips it and what follows', async () => {
    const proj = exampleCopy('green');
    const work = mkdtempSync(join(tmpdir(), 'parallel-dbt-host-'));
    const env = dbEnv(pg, await freshDatabase(pg, 'host'));
    const host = await startParsed(env, proj, work);
    try {
      let release: (uid: string, blocks: boolean) => void = () => {};
      const startedAt = new Map<string, number>();
      const onEvent = (ev: DbtLogEvent): void => {
        if (ev.info.name === 'LogStartLine' && ev.data.node_info)
          startedAt.set(ev.data.node_info.unique_id, Date.now());
      };
      // Worker B is started first and holds stg_customers until the seed in worker A is reported done.
      const b = host.fork({
        argv: buildArgv(proj, work, 'b', ['stg_customers']),
        cwd: proj,
        env: {},
        onEvent,
        share: {
          runNodes: [],
          start: 'skip',
          end: 'skip',
          waitsFor: { [`model.${pkg}.stg_customers`]: [`seed.${pkg}.raw_customers`] },
          known: [],
          subscribe: (l) => {
            release = (uid, blocks) => l(uid, blocks ? 1 : 0);
            return () => {};
          },
        },
      });
      const a = await host.fork({ argv: buildArgv(proj, work, 'a', ['raw_customers']), cwd: proj, env: {}, onEvent });
      expect(a.exitCode).toBe(0);
      await new Promise((r) => setTimeout(r, 1500));
      expect(startedAt.has(`model.${pkg}.stg_customers`)).toBe(false); // still held
      const releasedAt = Date.now();
      release(`seed.${pkg}.raw_customers`, false);
      const bOut = await b;
      expect(bOut.exitCode).toBe(0);
      expect(startedAt.get(`model.${pkg}.stg_customers`)!).toBeGreaterThanOrEqual(releasedAt);
      const bResults = readResults(join(work, 'target-b', 'run_results.json')).results;
      expect(bResults.find((r) => r.unique_id === `model.${pkg}.stg_customers`)?.status).toBe('success');

      // A parent elsewhere that failed: dbt skips the gated node and its tests, as one dbt build would.
      const c = await host.fork({
        argv: buildArgv(proj, work, 'c', ['stg_orders+']),
        cwd: proj,
        env: {},
        share: {
          runNodes: [],
          start: 'skip',
          end: 'skip',
          waitsFor: { [`model.${pkg}.stg_orders`]: [`seed.${pkg}.raw_orders`] },
          known: [[`seed.${pkg}.raw_orders`, 1]],
          subscribe: () => () => {},
        },
      });
      expect(c.exitCode).toBe(1);
      const cResults = readResults(join(work, 'target-c', 'run_results.json')).results;
      expect(cResults.length).toBeGreaterThan(1);
      expect(new Set(cResults.map((r) => r.status))).toEqual(new Set(['skipped']));
    } finally {
      await host.close();
    }
    expect(processesMentioning(work)).toEqual([]);
  });

  test("the graph the host links once is the one each worker's dbt would link: the same edges, summary and nodes", async () => {
    const proj = exampleCopy('green');
    const work = mkdtempSync(join(tmpdir(), 'parallel-dbt-host-'));
    const env = dbEnv(pg, await freshDatabase(pg, 'host'));
    const runs: Record<string, { log: string[]; target: string }> = {};
    // Linked once in the host after the parse (link_for), and linked by the worker's own dbt (the switch off). The
    // graph is the whole manifest's, whatever the worker selects.
    for (const [name, extra] of [
      ['once', {}],
      ['own', { PARALLEL_DBT_LINK_ONCE: 'off' }],
    ] as const) {
      const log: string[] = [];
      const host = await startParsed({ ...env, ...extra }, proj, join(work, name), {
        linkFor: 'build',
        log: (l) => log.push(l),
      });
      try {
        const out = await host.fork({
          argv: buildArgv(proj, join(work, name), 'w', ['raw_customers']),
          cwd: proj,
          env: {},
        });
        expect(out.exitCode).toBe(0);
      } finally {
        await host.close();
      }
      runs[name] = { log, target: join(work, name, 'target-w') };
    }
    expect(runs.once.log.some((l) => /linked the graph once for the workers \(with build's test edges\)/.test(l))).toBe(
      true,
    );
    expect(runs.own.log.some((l) => /linked the graph once/.test(l))).toBe(false);
    // graph_summary.json by node name (its indexes follow the manifest's order, which two parses need not share).
    type Summary = Record<string, { name: string; type: string; succ?: number[] }>;
    const summary = (t: string): Record<string, Record<string, { type: string; succ: string[] }>> => {
      const all = JSON.parse(readFileSync(join(t, 'graph_summary.json'), 'utf8')) as Record<string, unknown>;
      const out: Record<string, Record<string, { type: string; succ: string[] }>> = {};
      for (const stage of ['linked', 'with_test_edges']) {
        const nodes = all[stage] as Summary;
        out[stage] = Object.fromEntries(
          Object.values(nodes).map((n) => [
            n.name,
            { type: n.type, succ: (n.succ ?? []).map((k) => nodes[String(k)].name).sort() },
          ]),
        );
      }
      return out;
    };
    const once = summary(runs.once.target);
    expect(Object.keys(once.with_test_edges).length).toBeGreaterThan(90);
    const edges = (stage: string): number => Object.values(once[stage]).reduce((n, x) => n + x.succ.length, 0);
    expect(edges('with_test_edges')).toBeGreaterThan(edges('linked')); // build's test edges are in
    expect(once).toEqual(summary(runs.own.target));
    // graph.gpickle: dbt's pickle of the graph with every node's dict (read back with dbt's own Python).
    const python = pythonOf(join(DBT_BIN, 'dbt'), process.env)!;
    const shape = (t: string): string =>
      execFileSync(python, [
        '-c',
        'import pickle,sys,json; g=pickle.load(open(sys.argv[1],"rb")); print(json.dumps([sorted(g.nodes()), sorted(map(list, g.edges())), sorted(k for _, d in g.nodes(data=True) for k in d)]))',
        join(t, 'graph.gpickle'),
      ]).toString();
    expect(shape(runs.once.target)).toEqual(shape(runs.own.target));
    expect(JSON.parse(shape(runs.once.target))[1].length).toBeGreaterThan(100);
    expect(processesMentioning(work)).toEqual([]);
  });

  test('kill -9 of the host: the worker is interrupted by the kernel, its outcome says it was lost, nothing is left behind', async () => {
    const proj = exampleCopy('green');
    const work = mkdtempSync(join(tmpdir(), 'parallel-dbt-host-crash-'));
    const db = await freshDatabase(pg, 'crash');
    const env = dbEnv(pg, db);
    const host = await startParsed(env, proj, work);
    const seeded = await host.fork({
      argv: buildArgv(proj, work, 'seeds', ['resource_type:seed']),
      cwd: proj,
      env: {},
    });
    expect(seeded.exitCode).toBe(0);
    let sawSleep = false;
    const slow = host.fork({
      argv: buildArgv(
        proj,
        work,
        'slow',
        ['+payment_reconciliation', '+revenue_by_month', '--exclude', 'resource_type:seed', 'resource_type:test'],
        '{demo_sleep_seconds: 60}',
      ),
      cwd: proj,
      env: {},
      onEvent: (ev) => {
        if (ev.info.name === 'LogStartLine') sawSleep = true;
      },
    });
    const deadline = Date.now() + 60_000;
    while (!(sawSleep && (await queriesIn(pg, db)).some((q) => /pg_sleep/.test(q))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect((await queriesIn(pg, db)).some((q) => /pg_sleep/.test(q))).toBe(true);
    process.kill(host.pid, 'SIGKILL');
    const out = await slow;
    expect(out.lost).toMatch(/worker host/);
    expect(processesMentioning(work)).toEqual([]);
    // The worker's SIGINT cancelled its query (or PostgreSQL noticed the closed connection).
    const until = Date.now() + 15_000;
    while ((await queriesIn(pg, db)).some((q) => /pg_sleep/.test(q)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect((await queriesIn(pg, db)).filter((q) => /pg_sleep/.test(q))).toEqual([]);
    expect(readFileSync(join(work, 'logs-slow', 'dbt.log'), 'utf8')).toMatch(/START/);
  });
});
