// Annotations (src/report/annotations.ts): order of importance, files relative to the repository root, the
// YAML line of generic tests (src/report/yaml-lines.ts), and how many GitHub will not show.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../src/dbt/manifest.js';
import type { RunResult, RunResultsArtifact } from '../src/dbt/run-results.js';
import type { Chunk } from '../src/plan/chunks.js';
import { annotationsFor, hiddenAnnotations, type Annotation } from '../src/report/annotations.js';
import { buildReport } from '../src/report/build.js';
import type { NodeOutcome, RunReport } from '../src/report/model.js';
import { declarationLine } from '../src/report/yaml-lines.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const read = (...p: string[]): string => readFileSync(join(ROOT, ...p), 'utf8');

/** The captured red run, as one chunk, with the project in the repository's `analytics/dbt` subfolder. */
function redReport(): RunReport {
  const manifest = JSON.parse(read('test/fixtures/captured/red/manifest.json')) as Manifest;
  const rr = JSON.parse(read('test/fixtures/captured/red/run_results.json')) as RunResultsArtifact;
  const chunk: Chunk = {
    index: 1,
    name: 'chunk-1',
    nodes: rr.results.map((r) => r.unique_id),
    dependsOn: [],
    work: 1,
    predicted: 1,
  };
  return buildReport({
    command: 'build',
    manifest,
    chunks: [{ chunk, results: rr.results }],
    planNotes: [],
    wallSeconds: 5,
    paths: { projectDir: '/ws/analytics/dbt', workspace: '/ws' },
    readFile: (abs) => {
      const rel = abs.replace('/ws/analytics/dbt/', '');
      for (const base of ['test/fixtures/red-overlay', 'example']) {
        try {
          return read(base, rel);
        } catch {
          // not in this layer
        }
      }
      return undefined;
    },
  });
}

function lineOf(text: string, match: (l: string) => boolean, after = 0): number {
  return text.split('\n').findIndex((l, i) => i >= after && match(l)) + 1;
}

describe('annotationsFor on the captured red run', () => {
  const list = annotationsFor(redReport());

  test('errors first by importance: the model error (naming the skip it caused), the failing test; then the warning', () => {
    expect(list.map((a) => [a.level, a.title])).toEqual([
      ['error', 'dbt model order_unit_margin: error, skipped 1 downstream'],
      ['error', 'dbt test assert_every_campaign_is_profitable: 2 failing rows'],
      ['warning', 'dbt test not_null_stg_orders_campaign_id: warning (12 failing rows)'],
    ]);
  });

  test('each on its file relative to the repository root; the generic test at its line in the YAML', () => {
    const [model, singular, generic] = list;
    expect(model).toMatchObject({
      file: 'analytics/dbt/models/finance/order_unit_margin.sql',
      message: expect.stringContaining('division by zero'),
    });
    expect(model.message).toMatch(/\nSkipped because of it \(1\): model campaign_unit_margin\.$/);
    expect(model.line).toBeUndefined();
    expect(singular).toMatchObject({
      file: 'analytics/dbt/tests/assert_every_campaign_is_profitable.sql',
      message: 'Got 2 results, configured to fail if != 0 (chunk chunk-1)',
    });
    const yaml = read('test/fixtures/red-overlay/models/staging/stg_orders.yml');
    expect(generic).toMatchObject({
      file: 'analytics/dbt/models/staging/stg_orders.yml',
      line: lineOf(yaml, (l) => l.trim() === '- not_null:'),
    });
  });

  test('hiddenAnnotations: what GitHub drops past 10 per level, given the slots already used', () => {
    const many: Annotation[] = [
      ...Array.from({ length: 13 }, (_, i) => ({ level: 'error' as const, title: `e${i}`, message: '' })),
      ...Array.from({ length: 4 }, (_, i) => ({ level: 'warning' as const, title: `w${i}`, message: '' })),
    ];
    expect(hiddenAnnotations(many)).toEqual({ error: 3, warning: 0 });
    expect(hiddenAnnotations(many, { error: 9, warning: 2 })).toEqual({ error: 4, warning: 2 });
    expect(hiddenAnnotations(list)).toEqual({ error: 0, warning: 0 });
  });
});

describe('ordering', () => {
  const node = (
    uid: string,
    bucket: NodeOutcome['bucket'],
    finishedAt: string,
    extra: Partial<NodeOutcome> = {},
  ): NodeOutcome => ({
    uid,
    name: uid.split('.')[2],
    resourceType: uid.split('.')[0],
    status: bucket,
    bucket,
    message: `${uid} ${bucket}`,
    failures: null,
    seconds: 1,
    chunk: 'c',
    finishedAt,
    ...extra,
  });
  test('model errors, test errors, test failures (each listing the skips it caused), unexplained skips, warnings; first finished first', () => {
    const r: RunReport = {
      command: 'build',
      ok: false,
      wallSeconds: 1,
      notes: [],
      chunks: [],
      counts: { passed: 0, failed: 2, errored: 3, warned: 1, skipped: 3, total: 9 },
      nodes: [
        node('test.p.warned', 'warned', '09:00:01'),
        node('model.p.skip_b', 'skipped', '', { cause: 'model.p.late_error' }),
        node('test.p.fail_late', 'failed', '09:00:09', { failures: 1 }),
        node('model.p.skip_a', 'skipped', '', { cause: 'model.p.early_error' }),
        node('test.p.error_test', 'errored', '09:00:00'),
        node('model.p.late_error', 'errored', '09:00:05'),
        node('test.p.fail_early', 'failed', '09:00:02', { failures: 1 }),
        node('model.p.early_error', 'errored', '09:00:03'),
        node('model.p.orphan', 'skipped', ''),
      ],
    };
    const list = annotationsFor(r);
    expect(list.map((a) => a.uid)).toEqual([
      'model.p.early_error',
      'model.p.late_error',
      'test.p.error_test',
      'test.p.fail_early',
      'test.p.fail_late',
      'model.p.orphan',
      'test.p.warned',
    ]);
    // One annotation per cause: the skipped nodes are listed in their cause's annotation, not annotated one by one.
    expect(list[0].title).toBe('dbt model early_error: error, skipped 1 downstream');
    expect(list[0].message).toMatch(/Skipped because of it \(1\): model skip_a\.$/);
    expect(list[1].message).toMatch(/Skipped because of it \(1\): model skip_b\.$/);
  });

  test('messages are cut to GitHub’s 4,096 characters without splitting a character', () => {
    const r: RunReport = {
      command: 'build',
      ok: false,
      wallSeconds: 1,
      notes: [],
      chunks: [],
      counts: { passed: 0, failed: 0, errored: 1, warned: 0, skipped: 0, total: 1 },
      nodes: [node('model.p.m', 'errored', '1', { message: '😀'.repeat(5000) })],
    };
    const [a] = annotationsFor(r);
    expect(a.message.length).toBeLessThanOrEqual(4096);
    expect(a.message.endsWith('…')).toBe(true);
    expect(a.message).not.toMatch(/[\uD800-\uDBFF]…$/);
  });
});

describe('declarationLine (the YAML line of a generic test)', () => {
  const yaml = [
    'version: 2',
    '',
    'models:',
    '  - name: orders',
    '    columns:',
    '      - name: id',
    '        data_tests: [unique, not_null]',
    '      - name: customer_id',
    '        tests:',
    '          - not_null',
    '          - relationships:',
    '              arguments:',
    "                to: ref('customers')",
    '                field: id',
    '          - relationships:',
    "              to: ref('legacy_customers')",
    '              field: id',
    '          - dbt_utils.not_empty_string',
    '      - name: "Status"',
    '        data_tests:',
    '          - accepted_values:',
    '              name: orders_status_ok',
    "              values: ['a', 'b']",
    '          - accepted_values:',
    "              values: ['x']",
    '    data_tests:',
    '      - dbt_utils.unique_combination_of_columns:',
    '          combination_of_columns: [id, customer_id]',
    '  - name: customers',
    '    columns:',
    '      - name: orders',
    '        data_tests: [not_null]',
    '',
    'seeds:',
    '  - name: orders',
    '    columns:',
    '      - name: id',
    '        data_tests:',
    '          - unique',
    '',
    'sources:',
    '  - name: raw',
    '    tables:',
    '      - name: orders',
    '        columns:',
    '          - name: id',
    '            data_tests: [not_null]',
    '      - name: payments',
    '        data_tests:',
    '          - name: payments_fresh',
    '            test_name: not_null',
    '            column_name: paid_at',
    '',
  ].join('\n');
  const at = (n: number): number => n; // 1-based lines, as written above

  test.each([
    ['a test in a flow list', { section: 'models', parent: 'orders', column: 'id', testName: 'not_null' }, at(7)],
    [
      'a scalar entry under tests:',
      { section: 'models', parent: 'orders', column: 'customer_id', testName: 'not_null' },
      at(10),
    ],
    [
      'two of a kind told apart by arguments (dbt 1.10 `arguments:`)',
      {
        section: 'models',
        parent: 'orders',
        column: 'customer_id',
        testName: 'relationships',
        kwargs: { to: "ref('customers')", field: 'id' },
      },
      at(11),
    ],
    [
      'two of a kind told apart by arguments (inline)',
      {
        section: 'models',
        parent: 'orders',
        column: 'customer_id',
        testName: 'relationships',
        kwargs: { to: "ref('legacy_customers')", field: 'id' },
      },
      at(15),
    ],
    [
      'a namespaced test',
      {
        section: 'models',
        parent: 'orders',
        column: 'customer_id',
        testName: 'not_empty_string',
        namespace: 'dbt_utils',
      },
      at(18),
    ],
    [
      'a quoted column name, custom test name',
      {
        section: 'models',
        parent: 'orders',
        column: 'Status',
        testName: 'accepted_values',
        nodeName: 'orders_status_ok',
      },
      at(21),
    ],
    [
      'a quoted column name, the other of its kind by arguments',
      { section: 'models', parent: 'orders', column: 'status', testName: 'accepted_values', kwargs: { values: ['x'] } },
      at(24),
    ],
    [
      'a model-level test',
      {
        section: 'models',
        parent: 'orders',
        column: null,
        testName: 'unique_combination_of_columns',
        namespace: 'dbt_utils',
      },
      at(27),
    ],
    [
      'a column named like a model is not taken for the model',
      { section: 'models', parent: 'customers', column: 'orders', testName: 'not_null' },
      at(32),
    ],
    [
      'the same name in another section',
      { section: 'seeds', parent: 'orders', column: 'id', testName: 'unique' },
      at(39),
    ],
    [
      'a source table',
      { section: 'sources', parent: 'raw', table: 'orders', column: 'id', testName: 'not_null' },
      at(47),
    ],
    [
      'the `name:` + `test_name:` form',
      {
        section: 'sources',
        parent: 'raw',
        table: 'payments',
        column: 'paid_at',
        testName: 'not_null',
        nodeName: 'payments_fresh',
      },
      at(50),
    ],
    [
      'an unknown test: its column',
      { section: 'models', parent: 'orders', column: 'customer_id', testName: 'expect_column_values_to_be_between' },
      at(8),
    ],
    [
      'an unknown column: the model',
      { section: 'models', parent: 'orders', column: 'nope', testName: 'not_null' },
      at(4),
    ],
    ['an unknown model: line 1', { section: 'models', parent: 'nope', column: 'id', testName: 'not_null' }, 1],
    ['no section given: searched everywhere', { parent: 'customers', column: 'orders', testName: 'not_null' }, at(32)],
  ])('%s', (_what, d, line) => {
    expect(declarationLine(yaml, d)).toBe(line);
  });

  test('flow-style and odd files fall back to a whole parse, or to line 1', () => {
    expect(
      declarationLine('models: [{name: a, columns: [{name: x, data_tests: [unique]}]}]\n', {
        section: 'models',
        parent: 'a',
        column: 'x',
        testName: 'unique',
      }),
    ).toBe(1);
    expect(
      declarationLine(
        'models:\n  - description: first\n    name: a\n    columns:\n      - name: x\n        data_tests: [unique]\n',
        { section: 'models', parent: 'a', column: 'x', testName: 'unique' },
      ),
    ).toBe(6);
    expect(declarationLine(': : :\n\t- [', { parent: 'a', testName: 'unique' })).toBe(1);
    expect(declarationLine('', { parent: 'a', testName: 'unique' })).toBe(1);
  });

  test('the real example project: every generic test of the red run lands on a line that names its test', () => {
    const manifest = JSON.parse(read('test/fixtures/captured/red/manifest.json')) as Manifest;
    let checked = 0;
    for (const n of Object.values(manifest.nodes)) {
      if (!n.test_metadata) continue;
      const base = n.original_file_path === 'models/staging/stg_orders.yml' ? 'test/fixtures/red-overlay' : 'example';
      const text = read(base, n.original_file_path);
      const key = (n as { file_key_name?: string }).file_key_name!;
      const line = declarationLine(text, {
        section: key.split('.')[0],
        parent: key.split('.')[1],
        column: n.column_name,
        testName: n.test_metadata.name,
        namespace: n.test_metadata.namespace,
        nodeName: n.name,
        kwargs: n.test_metadata.kwargs,
      });
      expect({ uid: n.unique_id, line: text.split('\n')[line - 1] }).toEqual({
        uid: n.unique_id,
        line: expect.stringContaining(n.test_metadata.name),
      });
      checked++;
    }
    expect(checked).toBeGreaterThan(60);
  });
});

test('results without a manifest node still annotate (no file)', () => {
  const res: RunResult = {
    unique_id: 'model.pkg.ghost',
    status: 'error',
    timing: [],
    thread_id: null,
    execution_time: 0,
    adapter_response: {},
    message: 'gone',
    failures: null,
  };
  const r = buildReport({
    command: 'build',
    manifest: { metadata: { dbt_version: '1.11.0' }, nodes: {} },
    paths: { projectDir: '/w', workspace: '/w' },
    planNotes: [],
    wallSeconds: 1,
    chunks: [
      {
        chunk: { index: 1, name: 'chunk-1', nodes: ['model.pkg.ghost'], dependsOn: [], work: 0, predicted: 0 },
        results: [res],
      },
    ],
  });
  expect(annotationsFor(r)).toEqual([
    { level: 'error', title: 'dbt model ghost: error', message: 'gone (chunk chunk-1)', uid: 'model.pkg.ghost' },
  ]);
});
