// The job summary (src/report/summary.ts) and the report model it reads (src/report/build.ts): golden Markdown
// rendered from the captured real dbt runs (green, red) and from a synthetic 5,000-node run, escaping, and the
// 1 MiB degradation. Regenerate the goldens with UPDATE_GOLDEN=1.
import { describe, expect, test } from '@jest/globals';
import { marked } from 'marked';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest, ManifestNode } from '../src/dbt/manifest.js';
import type { RunResult, RunResultsArtifact } from '../src/dbt/run-results.js';
import { planChunks, type Chunk } from '../src/plan/chunks.js';
import { buildPlanGraph } from '../src/plan/graph.js';
import { buildReport, type ReportInput } from '../src/report/build.js';
import { baseNodeOf, compareRuns, passesFailOn, type Base } from '../src/report/compare.js';
import type { RunReport } from '../src/report/model.js';
import { githubFileUrl, renderSummary, SUMMARY_LIMIT_BYTES } from '../src/report/summary.js';
import { nodeStatus } from '../src/dbt/statuses.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const OUTPUTS = join(ROOT, 'test', '__outputs__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** The repository the goldens pretend to be in: the dbt project lives in its example/ subfolder. */
const WORKSPACE = '/home/runner/work/analytics/analytics';
const PROJECT_DIR = `${WORKSPACE}/example`;
const LINKS = githubFileUrl({
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/analytics',
  GITHUB_SHA: '4f2c1d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
})!;

function readJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(ROOT, ...parts), 'utf8')) as T;
}

/** Project files as the captured run saw them: the example project, with the red overlay on top for red. */
function projectReader(variant: 'green' | 'red'): (abs: string) => string | undefined {
  return (abs) => {
    if (!abs.startsWith(`${PROJECT_DIR}/`)) return undefined;
    const rel = abs.slice(PROJECT_DIR.length + 1);
    for (const base of variant === 'red' ? ['test/fixtures/red-overlay', 'example'] : ['example']) {
      const p = join(ROOT, base, rel);
      if (existsSync(p)) return readFileSync(p, 'utf8');
    }
    return undefined;
  };
}

/**
 * The report of a captured real `dbt build` (test/fixtures/captured/<variant>), split into 3 chunks by the planner
 * with the run's own node times as weights. A chunk's start and end are the first start and last end of its
 * nodes in that run plus a fixed 2 s process start-up; the wall time is the run's span plus a fixed 3 s for
 * the parse: the goldens stay byte-for-byte stable.
 */
function capturedInput(variant: 'green' | 'red'): ReportInput {
  const manifest = readJson<Manifest>('test', 'fixtures', 'captured', variant, 'manifest.json');
  const rr = readJson<RunResultsArtifact>('test', 'fixtures', 'captured', variant, 'run_results.json');
  const byUid = new Map(rr.results.map((r) => [r.unique_id, r]));
  const graph = buildPlanGraph(manifest, byUid.keys(), 'build');
  const weight = (uid: string): number => byUid.get(uid)?.execution_time || 0.05;
  const plan = planChunks(graph, weight, { chunks: 3, maxChunks: 3, threads: 4, fixedCost: 2, perNodeCost: 0.05 });
  // The speed estimate: the same planner's prediction for one process with all 12 threads.
  const one = planChunks(graph, weight, { maxChunks: 1, threads: 12, fixedCost: 2, perNodeCost: 0.05 });
  const ms = (t: string | null | undefined): number | undefined => (t ? Date.parse(t) : undefined);
  const times = (rs: RunResult[], pick: 'started_at' | 'completed_at'): number[] =>
    rs.flatMap((r) => r.timing.map((t) => ms(t[pick]))).filter((t): t is number => t !== undefined);
  const all = rr.results;
  const first = Math.min(...times(all, 'started_at'));
  const last = Math.max(...times(all, 'completed_at'));
  const chunks = plan.chunks.map((chunk: Chunk) => {
    const order = new Map(all.map((r, i) => [r.unique_id, i]));
    const results = chunk.nodes
      .map((u) => byUid.get(u)!)
      .sort((a, b) => order.get(a.unique_id)! - order.get(b.unique_id)!);
    const starts = times(results, 'started_at');
    const ends = times(results, 'completed_at');
    const startedAt = (starts.length ? Math.min(...starts) : first) - 2000;
    const endedAt = ends.length ? Math.max(...ends) : startedAt + 2000;
    return { chunk, results, startedAt, endedAt, predicted: chunk.predicted };
  });
  return {
    command: 'build',
    manifest,
    paths: { projectDir: PROJECT_DIR, workspace: WORKSPACE },
    chunks,
    planNotes: [],
    wallSeconds: Math.round((last - first) / 100) / 10 + 2 + 3,
    readFile: projectReader(variant),
    speedEstimate: { chosen: plan.makespan, oneProcess: one.makespan },
  };
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SyntheticOptions {
  models: number;
  testsPerModel: number;
  chunks: number;
  /** Models that error (their descendants are skipped), tests that fail, tests that warn. */
  erroring: number;
  failing: number;
  warning: number;
  /** Characters of every failure message (long ones exercise the size limit). */
  messageChars?: number;
  seed?: number;
}

/**
 * A synthetic run of a large project: layered models (staging → intermediate → marts, 1–3 parents each), a
 * few generic tests per model declared in one YAML file per domain, spread over chunks, with errors whose
 * descendants are skipped, failing tests and warnings.
 */
function syntheticInput(o: SyntheticOptions): ReportInput {
  const rnd = random(o.seed ?? 7);
  const pkg = 'big_project';
  const domains = ['finance', 'marketing', 'sales', 'product', 'ops', 'support', 'people', 'risk'];
  const nodes: Record<string, ManifestNode> = {};
  const models: string[] = [];
  const yaml = new Map<string, string[]>();
  const layers = ['stg', 'int', 'fct'];
  for (let i = 0; i < o.models; i++) {
    const layer = i < o.models * 0.3 ? 0 : i < o.models * 0.7 ? 1 : 2;
    const domain = domains[i % domains.length];
    const name = `${layers[layer]}_${domain}_${String(i).padStart(6, '0')}`;
    const uid = `model.${pkg}.${name}`;
    const parents: string[] = [];
    if (layer > 0)
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++)
        parents.push(models[Math.floor(rnd() * Math.floor(o.models * (layer === 1 ? 0.3 : 0.7)))]);
    const file = `models/${domain}/${name}.sql`;
    nodes[uid] = {
      unique_id: uid,
      name,
      resource_type: 'model',
      package_name: pkg,
      original_file_path: file,
      fqn: [pkg, domain, name],
      depends_on: { nodes: [...new Set(parents)] },
    };
    models.push(uid);
    const y = yaml.get(domain) ?? ['version: 2', '', 'models:'];
    y.push(`  - name: ${name}`, '    columns:', '      - name: id', '        data_tests:');
    for (let t = 0; t < o.testsPerModel; t++) {
      const kind = ['unique', 'not_null', 'accepted_values', 'relationships'][t % 4];
      y.push(
        `          - ${kind}${kind === 'accepted_values' ? ":\n              arguments:\n                values: ['a', 'b']" : kind === 'relationships' ? ":\n              arguments:\n                to: ref('x')\n                field: id" : ''}`,
      );
      const tname = `${kind}_${name}_id`;
      const tuid = `test.${pkg}.${tname}.${(i * 31 + t).toString(16).padStart(10, '0')}`;
      nodes[tuid] = {
        unique_id: tuid,
        name: tname,
        resource_type: 'test',
        package_name: pkg,
        original_file_path: `models/${domain}/_${domain}.yml`,
        fqn: [pkg, domain, tname],
        depends_on: { nodes: [uid] },
        attached_node: uid,
        column_name: 'id',
        test_metadata: { name: kind, kwargs: { column_name: 'id' } },
        ...({ file_key_name: `models.${name}` } as object),
      };
    }
    yaml.set(domain, y);
  }
  const uids = Object.keys(nodes);
  const children = new Map<string, string[]>();
  for (const n of Object.values(nodes)) {
    for (const p of n.depends_on?.nodes ?? []) {
      if (!children.has(p)) children.set(p, []);
      children.get(p)!.push(n.unique_id);
    }
  }

  // Outcomes: erroring models (descendants skipped), failing and warning tests elsewhere.
  const status = new Map<string, string>();
  const pick = (pool: string[]): string => pool[Math.floor(rnd() * pool.length)];
  const tests = uids.filter((u) => u.startsWith('test.'));
  const upstream = models.slice(0, Math.floor(models.length * 0.7));
  while ([...status.values()].length < o.erroring) status.set(pick(upstream), 'error');
  for (const [u, s] of [...status]) {
    if (s !== 'error') continue;
    const stack = [...(children.get(u) ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (status.has(c)) continue;
      status.set(c, 'skipped');
      stack.push(...(children.get(c) ?? []));
    }
  }
  const free = (): string => {
    for (;;) {
      const t = pick(tests);
      if (!status.has(t)) return t;
    }
  };
  for (let k = 0; k < o.failing; k++) status.set(free(), 'fail');
  for (let k = 0; k < o.warning; k++) status.set(free(), 'warn');

  const long = (base: string): string =>
    o.messageChars && base.length < o.messageChars
      ? `${base} ${'lorem ipsum <dolor> | sit & amet '.repeat(Math.ceil((o.messageChars - base.length) / 32))}`.slice(
          0,
          o.messageChars,
        )
      : base;
  const resultOf = (uid: string, idx: number): RunResult => {
    const n = nodes[uid];
    const st = status.get(uid) ?? (n.resource_type === 'test' ? 'pass' : 'success');
    const seconds =
      st === 'skipped'
        ? 0
        : Math.round((n.resource_type === 'test' ? 0.05 + rnd() * 0.6 : 0.3 + rnd() * rnd() * 40) * 1000) / 1000;
    const failures =
      n.resource_type === 'test'
        ? st === 'fail' || st === 'warn'
          ? 1 + Math.floor(rnd() * 500)
          : st === 'pass'
            ? 0
            : null
        : null;
    const message =
      st === 'error'
        ? long(
            `Database Error in model ${n.name} (${n.original_file_path})\n  column "amount_usd" does not exist\n  LINE 14:     sum(amount_usd) as revenue\n               ^\n  compiled code at target/run/${pkg}/${n.original_file_path}`,
          )
        : st === 'fail' || st === 'warn'
          ? long(`Got ${failures} results, configured to ${st} if != 0`)
          : st === 'skipped'
            ? null
            : 'SELECT 1';
    const started = Date.UTC(2026, 10, 24, 9, 0, 0) + idx * 250;
    return {
      unique_id: uid,
      status: nodeStatus(st),
      thread_id: 'Thread-1',
      execution_time: seconds,
      adapter_response: {},
      message,
      failures,
      timing:
        st === 'skipped'
          ? []
          : [
              {
                name: 'execute',
                started_at: new Date(started).toISOString(),
                completed_at: new Date(started + seconds * 1000).toISOString(),
              },
            ],
      compiled_code:
        st === 'error' || st === 'fail'
          ? long(`select\n    id,\n    count(*) as n\nfrom "analytics"."${n.name}"\ngroup by id\nhaving count(*) > 1`)
          : null,
    };
  };
  // Chunks: by domain, in layer order inside each chunk (a stand-in for the planner at this size).
  const per: string[][] = Array.from({ length: o.chunks }, () => []);
  uids.forEach((u) => per[domains.indexOf(nodes[u].fqn[1]) % o.chunks].push(u));
  let idx = 0;
  const startBase = Date.UTC(2026, 10, 24, 9, 0, 0);
  const chunks = per.map((list, i) => {
    const results = list.map((u) => resultOf(u, idx++));
    const work = results.reduce((s, r) => s + r.execution_time, 0);
    const startedAt = startBase + (i < 4 ? 0 : 95_000 + i * 7_000);
    const predicted = Math.round((work / 4 + 6) * 10) / 10;
    return {
      chunk: {
        index: i + 1,
        name: `chunk-${i + 1}`,
        nodes: list,
        dependsOn: [],
        work,
        predicted,
        predictedStart: i < 4 ? 0 : 90 + i * 6,
      },
      results,
      startedAt,
      endedAt: startedAt + Math.round((work / 4 + 8 + (i % 3) * 4) * 1000),
      predicted,
    };
  });
  const texts = new Map([...yaml].map(([d, y]) => [`/repo/models/${d}/_${d}.yml`, `${y.join('\n')}\n`]));
  const lastEnd = Math.max(...chunks.map((c) => c.endedAt));
  return {
    command: 'build',
    manifest: { metadata: { dbt_version: '1.11.16', project_name: pkg }, nodes },
    paths: { projectDir: '/repo', workspace: '/repo' },
    chunks,
    planNotes: [],
    wallSeconds: Math.round((lastEnd - startBase) / 1000) + 14,
    speedEstimate: {
      chosen: Math.max(...chunks.map((c) => (c.chunk.predictedStart ?? 0) + c.predicted)),
      oneProcess: chunks.reduce((t, c) => t + c.predicted, 0),
    },
    readFile: (p) => texts.get(p),
  };
}

const FIVE_THOUSAND: SyntheticOptions = {
  models: 1250,
  testsPerModel: 3,
  chunks: 8,
  erroring: 3,
  failing: 6,
  warning: 4,
};

/** Compares with the committed golden file (or writes it with UPDATE_GOLDEN=1). */
function golden(name: string, text: string): void {
  const path = join(OUTPUTS, name);
  if (UPDATE || !existsSync(path)) {
    mkdirSync(OUTPUTS, { recursive: true });
    writeFileSync(path, text);
  }
  expect(text).toBe(readFileSync(path, 'utf8'));
}

/** Structural checks: tables whole (same cell count on every row, each preceded by a blank line), blocks balanced. */
function expectWellFormed(md: string): void {
  const lines = md.split('\n');
  const errors: string[] = [];
  let inFence: string | undefined;
  let table: number | undefined;
  let details = 0;
  for (const [i, l] of lines.entries()) {
    const fence = /^(`{3,})/.exec(l)?.[1];
    if (inFence !== undefined) {
      if (l === inFence) inFence = undefined;
      continue;
    }
    if (fence !== undefined) {
      inFence = fence;
      continue;
    }
    const outsideCode = l.replace(/(`+)(.*?[^`])\1(?!`)/g, '');
    details += (outsideCode.match(/<details>/g) ?? []).length - (outsideCode.match(/<\/details>/g) ?? []).length;
    if (details < 0) errors.push(`line ${i + 1}: </details> without <details>`);
    if (l.startsWith('|')) {
      const cells = l.replace(/\\\|/g, '').split('|').length;
      if (!l.endsWith('|')) errors.push(`line ${i + 1}: table row not closed`);
      if (table === undefined) {
        if (lines[i - 1] !== '') errors.push(`line ${i + 1}: table without a blank line before it`);
        if (!/^\|(:?-+:?\|)+$/.test(lines[i + 1] ?? ''))
          errors.push(`line ${i + 1}: table header without its separator`);
        table = cells;
      } else if (cells !== table) errors.push(`line ${i + 1}: ${cells} cells instead of ${table}`);
    } else table = undefined;
  }
  if (inFence !== undefined) errors.push('a code fence is never closed');
  if (details !== 0) errors.push(`${details} <details> never closed`);
  if (!md.endsWith('\n')) errors.push('no final newline');
  expect(errors).toEqual([]);
}

function report(i: ReportInput): RunReport {
  return buildReport(i);
}

describe('golden summaries', () => {
  test('green run (captured dbt build, 3 chunks)', () => {
    const md = renderSummary(report(capturedInput('green')), { fileUrl: LINKS });
    // The speed figure compares with one dbt process with the same budget, as the planner predicts it: an estimate, said so.
    expect(md).toMatch(
      /^### ✅ dbt build: 95 passed · 95 nodes in 3 chunks · [\d.]+ s wall · ~[\d.]+× one dbt process with the same budget \(estimated: [\d.]+ s against [\d.]+ s\)$/m,
    );
    expect(md).not.toContain('#### Failures');
    expect(md).toContain('| Chunk | Nodes |');
    expectWellFormed(md);
    golden('summary-green.md', md);
  });

  test('red run: failures first with chunk, linked file, message, failing rows and compiled SQL', () => {
    const r = report(capturedInput('red'));
    const md = renderSummary(r, { fileUrl: LINKS });
    expect(md.split('\n')[0]).toMatch(
      /^### ❌ dbt build: 95 passed · 1 failed · 1 errored · 1 warned · 1 skipped · 99 nodes in 3 chunks/,
    );
    const failures = md.indexOf('#### Failures');
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(md.indexOf('#### Chunks'));
    expect(md.indexOf('#### Chunks')).toBeLessThan(md.indexOf('#### Slowest nodes'));
    // The model error comes first, then the failing test; the skipped child is named under its cause.
    expect(md.indexOf('model `order_unit_margin` — error')).toBeGreaterThan(failures);
    expect(md.indexOf('model `order_unit_margin` — error')).toBeLessThan(
      md.indexOf('test `assert_every_campaign_is_profitable` — 2 failing rows'),
    );
    expect(md).toContain('division by zero');
    expect(md).toContain('⏭️ 1 node skipped because of it: `campaign_unit_margin` in chunk-3');
    expect(md).toContain(
      '<a href="https://github.com/acme/analytics/blob/4f2c1d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d/example/models/finance/order_unit_margin.sql">example/models/finance/order_unit_margin.sql</a>',
    );
    // The warning links the YAML line where the not_null test on campaign_id is declared.
    const yaml = readFileSync(join(ROOT, 'test/fixtures/red-overlay/models/staging/stg_orders.yml'), 'utf8').split(
      '\n',
    );
    const line = yaml.findIndex((l) => l.trim() === '- not_null:') + 1;
    expect(line).toBeGreaterThan(1);
    expect(md).toContain(`example/models/staging/stg_orders.yml#L${line}`);
    expect(md).toMatch(/<details><summary>Compiled SQL<\/summary>\n\n```sql\n-- RED OVERLAY: designed to FAIL/);
    expectWellFormed(md);
    golden('summary-red.md', md);
  });

  test('5,000-node run: everything fits, and its size is recorded', () => {
    const r = report(syntheticInput(FIVE_THOUSAND));
    expect(r.counts.total).toBe(5000);
    expect(r.counts.errored).toBeGreaterThan(0);
    expect(r.counts.skipped).toBeGreaterThan(0);
    const md = renderSummary(r, { fileUrl: LINKS });
    const bytes = Buffer.byteLength(md, 'utf8');
    expect(bytes).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(md).toContain('<details><summary>All 5,000 nodes</summary>');
    expect(md).not.toContain('Shortened to stay under');
    expectWellFormed(md);
    golden('summary-5000.md', md);
    const sizes = [
      ['summary-green.md', 'green run (95 nodes)'],
      ['summary-red.md', 'red run (99 nodes)'],
      ['summary-compare.md', 'red run compared with a base (compare-to)'],
      ['summary-5000.md', 'synthetic run (5,000 nodes)'],
    ].map(
      ([f, what]) =>
        `| [${f}](${f}) | ${what} | ${Buffer.byteLength(readFileSync(join(OUTPUTS, f)), 'utf8').toLocaleString('en-US')} bytes |`,
    );
    golden(
      'README.md',
      [
        '# Golden job summaries',
        '',
        'What users see in the job summary, rendered by `renderSummary` (src/report/summary.ts) and compared byte for',
        'byte by test/summary.test.ts. Regenerate with `UPDATE_GOLDEN=1` (then check the diff).',
        '',
        '- **green / red**: the captured real `dbt build` of the example project (test/fixtures/captured), split into',
        '  3 chunks by the planner; the dbt project sits in the `example/` subfolder of the repository, so file links',
        "  and annotations carry that prefix. Chunk times are taken from the nodes' real timings plus a fixed start-up, so the",
        '  files stay stable.',
        '- **5000**: a synthetic 5,000-node project (1,250 models, 3,750 tests, 8 chunks, 3 model errors with their',
        '  skipped descendants, 6 failing tests, 4 warnings), generated deterministically by the test.',
        '- **compare**: the red run against a base run (compare-to) that differs from it in a few documented ways',
        '  (see comparisonReport in test/summary.test.ts): labels, new problems first, fixed, flaky, slower nodes and',
        '  row-count changes.',
        '',
        `GitHub drops a step summary over ${SUMMARY_LIMIT_BYTES.toLocaleString('en-US')} bytes (1 MiB); past that the summary degrades step by step.`,
        '',
        '| File | Run | Size |',
        '|---|---|--:|',
        ...sizes,
        '',
        'test/screenshot.integration.test.ts renders these files as GitHub-flavoured Markdown in headless Chromium; with',
        '`UPDATE_GOLDEN=1` it refreshes the pictures: [green](../../docs/summary-green.png),',
        '[red](../../docs/summary-red.png), [5,000 nodes](../../docs/summary-5000.png).',
        '',
      ].join('\n'),
    );
  });
});

/**
 * The comparison view: the captured red run against a base made from the same run with these differences
 * (the PR's story): on the base order_unit_margin succeeded (so its error is new here, and the skip it causes),
 * unique_stg_orders_order_id failed (fixed here), payment_reconciliation wrote 40 rows (4 here) and orders_enriched
 * 38 (50 here). customer_lifetime_value is set to 9.4 s here against 2.1 s on the base (a slow-down), and
 * stg_customers errored once and passed on a retry (flaky).
 */
function comparisonReport(): RunReport {
  const input = capturedInput('red');
  const P = 'parallel_dbt_example';
  const clv = `model.${P}.customer_lifetime_value`;
  for (const c of input.chunks) for (const r of c.results) if (r.unique_id === clv) r.execution_time = 9.4;
  const rr = readJson<RunResultsArtifact>('test', 'fixtures', 'captured', 'red', 'run_results.json');
  const nodes = new Map(rr.results.map((r) => [r.unique_id, baseNodeOf(r)]));
  nodes.set(
    `model.${P}.order_unit_margin`,
    baseNodeOf({ status: 'success', execution_time: 0.1, adapter_response: { rows_affected: 50 } }),
  );
  nodes.delete(`model.${P}.campaign_unit_margin`);
  nodes.set(`test.${P}.unique_stg_orders_order_id.e3b841c71a`, baseNodeOf({ status: 'fail', execution_time: 0.1 }));
  nodes.set(
    `model.${P}.payment_reconciliation`,
    baseNodeOf({ status: 'success', execution_time: 0.1, adapter_response: { rows_affected: 40 } }),
  );
  nodes.set(
    `model.${P}.orders_enriched`,
    baseNodeOf({ status: 'success', execution_time: 0.1, adapter_response: { rows_affected: 38 } }),
  );
  nodes.set(clv, baseNodeOf({ status: 'success', execution_time: 2.1, adapter_response: { rows_affected: 24 } }));
  const base: Base = { files: ['/home/runner/work/analytics/analytics/.dbt-base/run_results.json'], nodes };
  const r = buildReport({ ...input, retried: [{ uid: `model.${P}.stg_customers`, statuses: ['error', 'success'] }] });
  const comparison = compareRuns(r.nodes, base);
  return { ...r, comparison, ok: passesFailOn(r.nodes, comparison, 'new') };
}

describe('golden summary of the comparison with the base (compare-to)', () => {
  test('delta line, labels, new problems first, fixed, flaky, slower and row-count sections', () => {
    const r = comparisonReport();
    expect(r.nodes.some((n) => n.uid.endsWith('unique_stg_orders_order_id.e3b841c71a'))).toBe(true);
    const md = renderSummary(r, { fileUrl: LINKS });
    expect(md.split('\n')[2]).toBe(
      '**Against the base** (1 base run_results.json file): 2 new failures · 1 already failing · 1 fixed · 1 flaky',
    );
    expect(md).toContain('**💥 model `order_unit_margin` — error** · **🆕 new in this PR** · in chunk-');
    expect(md).toContain(
      '**❌ test `assert_every_campaign_is_profitable` — 2 failing rows** · **already failing on the base** · in chunk-',
    );
    expect(md.indexOf('`order_unit_margin` — error')).toBeLessThan(
      md.indexOf('`assert_every_campaign_is_profitable` — 2 failing rows'),
    );
    expect(md).toContain('✅ `unique_stg_orders_order_id` (was fail)');
    expect(md).toMatch(/^\| 🔁 `stg_customers` \| model \| chunk-\d \| error → success \|$/m);
    expect(md).toMatch(/^\| 🐢 `customer_lifetime_value` \| model \| 2\.1 s \| 9\.4 s \| 4\.5× \|$/m);
    expect(md).toMatch(
      /^\| `payment_reconciliation` \| 40 \| 4 \| −90 % \|\n\| `orders_enriched` \| 38 \| 50 \| \+32 % \|$/m,
    );
    expect(md).not.toContain('`order_unit_margin` | 50');
    expectWellFormed(md);
    golden('summary-compare.md', md);
  });
});

describe('the report model', () => {
  test('files are relative to the repository root; generic tests point at their YAML line; skips name their cause', () => {
    const r = report(capturedInput('red'));
    const by = new Map(r.nodes.map((n) => [n.name, n]));
    expect(by.get('order_unit_margin')).toMatchObject({
      file: 'example/models/finance/order_unit_margin.sql',
      bucket: 'errored',
    });
    expect(by.get('campaign_unit_margin')).toMatchObject({
      bucket: 'skipped',
      cause: 'model.parallel_dbt_example.order_unit_margin',
    });
    expect(by.get('assert_every_campaign_is_profitable')).toMatchObject({
      file: 'example/tests/assert_every_campaign_is_profitable.sql',
      failures: 2,
    });
    const warn = by.get('not_null_stg_orders_campaign_id')!;
    expect(warn.file).toBe('example/models/staging/stg_orders.yml');
    const yaml = readFileSync(join(ROOT, 'test/fixtures/red-overlay/models/staging/stg_orders.yml'), 'utf8').split(
      '\n',
    );
    expect(yaml[warn.line! - 1].trim()).toBe('- not_null:');
    // Lines are looked up for problems only (what is annotated or linked).
    expect(by.get('unique_stg_orders_order_id')!.line).toBeUndefined();
    expect(r.chunks.map((c) => c.predicted)).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(r.chunks[0].startedAfter).toBe(0);
  });

  test('a skip across chunks names the upstream failure through the scheduler’s message, following skipped links', () => {
    const mk = (uid: string, deps: string[]): ManifestNode => ({
      unique_id: uid,
      name: uid.split('.')[2],
      resource_type: 'model',
      package_name: 'p',
      original_file_path: `models/${uid.split('.')[2]}.sql`,
      fqn: [],
      depends_on: { nodes: deps },
    });
    const manifest: Manifest = {
      metadata: { dbt_version: '1.11.0', project_name: 'p' },
      nodes: {
        'model.p.a': mk('model.p.a', []),
        'model.p.b': mk('model.p.b', ['model.p.a']),
        'model.p.c': mk('model.p.c', ['model.p.b']),
      },
    };
    const res = (uid: string, status: string, message: string | null): RunResult => ({
      unique_id: uid,
      status: nodeStatus(status),
      timing: [],
      thread_id: null,
      execution_time: 0,
      adapter_response: {},
      message,
      failures: null,
    });
    const chunk = (index: number, nodes: string[]): Chunk => ({
      index,
      name: `chunk-${index}`,
      nodes,
      dependsOn: [],
      work: 1,
      predicted: 1,
    });
    const r = buildReport({
      command: 'build',
      manifest,
      paths: { projectDir: '/w', workspace: '/w' },
      planNotes: [],
      wallSeconds: 1,
      readFile: () => undefined,
      chunks: [
        { chunk: chunk(1, ['model.p.a']), results: [res('model.p.a', 'error', 'boom')] },
        {
          chunk: chunk(2, ['model.p.b', 'model.p.c']),
          results: [
            res('model.p.b', 'skipped', "Skipped: upstream model.p.a (chunk 1) ended with status 'error'."),
            res('model.p.c', 'skipped', null),
          ],
        },
      ],
    });
    expect(r.nodes.map((n) => n.cause)).toEqual([undefined, 'model.p.a', 'model.p.a']);
  });
});

describe('escaping', () => {
  test('names, messages and SQL from dbt cannot inject HTML or break the Markdown', () => {
    const evil = '<img src=x onerror=alert(1)>|*_`</details><script>alert(2)</script>';
    const r: RunReport = {
      command: 'build',
      ok: false,
      wallSeconds: 3,
      notes: [`note ${evil}`],
      counts: { passed: 0, failed: 1, errored: 1, warned: 1, skipped: 0, total: 3 },
      chunks: [
        {
          index: 1,
          name: `c ${evil}`,
          counts: { passed: 0, failed: 1, errored: 1, warned: 1, skipped: 0, total: 3 },
          seconds: 3,
          predicted: 2,
        },
      ],
      nodes: [
        {
          uid: 'model.p.m',
          name: `m${evil}`,
          resourceType: 'model',
          status: 'error',
          bucket: 'errored',
          message: `boom\n\`\`\`\n${evil}\n\`\`\`\`\`\``,
          failures: null,
          seconds: 1,
          chunk: `c ${evil}`,
          file: `models/${evil}.sql`,
          compiledCode: `select '${evil}'\n\`\`\`\`\n</details>`,
        },
        {
          uid: 'test.p.t',
          name: `t${evil}`,
          resourceType: 'test',
          status: 'fail',
          bucket: 'failed',
          message: evil,
          failures: 3,
          seconds: 1,
          chunk: 'c',
          file: 'models/x.yml',
          line: 4,
          compiledCode: evil,
        },
        {
          uid: 'test.p.w',
          name: `w${evil}`,
          resourceType: 'test',
          status: 'warn',
          bucket: 'warned',
          message: evil,
          failures: 1,
          seconds: 1,
          chunk: 'c',
        },
      ],
    };
    const md = renderSummary(r, { fileUrl: (f, l) => `https://example.com/${encodeURIComponent(f)}?"'<>#L${l}` });
    expectWellFormed(md);
    const html = marked.parse(md, { gfm: true, async: false }) as string;
    expect(html).not.toMatch(/<img|<script/i);
    expect(html).not.toMatch(/href="[^"]*"'/);
    // The text is still there for people to read, decoded.
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    // One <details> per SQL block, each closed where the summary closed it.
    expect((html.match(/<details>/g) ?? []).length).toBe((html.match(/<\/details>/g) ?? []).length);
  });
});

describe('the 1 MiB limit', () => {
  test('200,000 nodes with long messages: degrades level by level, never over 1 MiB, never cut mid-table', () => {
    const huge = report(
      syntheticInput({
        models: 40_000,
        testsPerModel: 4,
        chunks: 8,
        erroring: 40,
        failing: 3_000,
        warning: 2_000,
        messageChars: 3_000,
        seed: 11,
      }),
    );
    expect(huge.counts.total).toBe(200_000);
    const md = renderSummary(huge, { fileUrl: LINKS });
    if (process.env.DEBUG_SUMMARY) writeFileSync(process.env.DEBUG_SUMMARY, md);
    expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(md).toContain('Shortened to stay under GitHub’s 1 MiB job-summary limit');
    expect(md.split('\n')[0]).toMatch(
      /^### ❌ dbt build: [\d,]+ passed · 3,000 failed · 40 errored · 2,000 warned · [\d,]+ skipped · 200,000 nodes in 8 chunks/,
    );
    expect(md).toContain('#### Chunks');
    expectWellFormed(md);
  });

  test('each level is a whole document: smaller budgets drop the node list, then SQL, then details, then to counts', () => {
    const r = report(syntheticInput({ ...FIVE_THOUSAND, failing: 300, messageChars: 400 }));
    const full = renderSummary(r);
    const sizes = [Buffer.byteLength(full)];
    const seen: string[] = [];
    for (const budget of [sizes[0] - 1, 200_000, 60_000, 8_000]) {
      const md = renderSummary(r, { maxBytes: budget });
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(budget);
      expectWellFormed(md);
      seen.push(/left out/.test(md) ? /Shortened[^:]*: ([^.]*) left out/.exec(md)![1] : 'nothing');
    }
    expect(seen[0]).toBe('the list of all nodes');
    expect(seen.at(-1)).toBe('every node’s details');
    expect(new Set(seen).size).toBeGreaterThanOrEqual(3);
    const counts = renderSummary(r, { maxBytes: 8_000 });
    expect(counts).toContain('#### Problems');
    expect(counts).toContain('| Chunk | Nodes |');
    expect(counts).not.toContain('#### Failures');
  });

  test('a budget too small for anything keeps the status line whole', () => {
    const r = report(capturedInput('red'));
    const md = renderSummary(r, { maxBytes: 300 });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(300);
    expect(md).toMatch(/^### ❌ dbt build: /);
  });
});

describe('status line', () => {
  test('no nodes, one chunk (no speed-up claimed), more annotations than GitHub shows', () => {
    const empty = buildReport({
      command: 'run',
      manifest: { metadata: { dbt_version: '1.11.0' }, nodes: {} },
      paths: { projectDir: '/w', workspace: '/w' },
      chunks: [],
      planNotes: [],
      wallSeconds: 4.2,
    });
    expect(renderSummary(empty)).toBe('### ✅ dbt run: no nodes selected · 4.2 s\n');
    const r = report(
      syntheticInput({ models: 60, testsPerModel: 2, chunks: 1, erroring: 0, failing: 14, warning: 12 }),
    );
    const md = renderSummary(r, { annotationSlots: { error: 9, warning: 10 } });
    expect(md.split('\n')[0]).not.toContain('one dbt process');
    expect(md).toContain(
      '> 5 errors and 2 warnings more than GitHub shows as annotations (10 of each per step): they are all listed below.',
    );
  });
});

describe('the speed figure never calls a run slower than it was', () => {
  const headline = (speedEstimate: ReportInput['speedEstimate']): string =>
    renderSummary(report({ ...capturedInput('green'), speedEstimate }), { fileUrl: LINKS }).split('\n')[0];
  test("re-costed with this run's node times: faster is a ratio, within 5 % is 'about as fast', slower is left out", () => {
    expect(headline({ chosen: 10, oneProcess: 14, basis: 'this run' })).toMatch(
      / · ~1\.4× one dbt process with the same budget \(estimated from this run's node times: 10\.0 s against 14\.0 s\)$/,
    );
    expect(headline({ chosen: 10, oneProcess: 10.3, basis: 'this run' })).toMatch(
      / · about as fast as one dbt process with the same budget \(estimated from this run's node times\)$/,
    );
    // The demo's forced 3 chunks: the model put one process at 4.7 s against 12.8 s; both took ~15.7 s wall.
    expect(headline({ chosen: 12.8, oneProcess: 4.7, basis: 'this run' })).toMatch(/ · [\d.]+ s wall$/);
  });
});
