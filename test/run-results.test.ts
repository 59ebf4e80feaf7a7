// run_results.json through its owner (src/dbt/run-results.ts): the captured real dbt runs parse as they are, what
// the action writes (selection state, merged results) reads back, and a file that is not a run_results.json is one
// line naming the file and what is wrong. No dbt, no PostgreSQL.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  leftRunResults,
  parseRunResults,
  readRunResults,
  RUN_RESULTS_SCHEMA,
  runResultsText,
  selectionStateFile,
} from '../src/dbt/run-results.js';
import { bucketOf, NODE_STATUSES } from '../src/dbt/statuses.js';
import { mergeRunResults } from '../src/report/merge.js';
import { oneLine } from './support/errors.js';

const CAPTURED = fileURLToPath(new URL('./fixtures/captured/', import.meta.url));
const text = (variant: string): string => readFileSync(join(CAPTURED, variant, 'run_results.json'), 'utf8');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-results-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the captured dbt runs', () => {
  test.each(['green', 'red'])('%s parses as written: every result, every status one dbt writes', (variant) => {
    const raw = JSON.parse(text(variant)) as {
      results: { unique_id: string; status: string }[];
      metadata: { dbt_version: string };
    };
    const a = readRunResults(join(CAPTURED, variant, 'run_results.json'));
    expect(a).toEqual(raw);
    expect(a.results.length).toBeGreaterThan(90);
    expect(a.metadata.dbt_version).toBe(raw.metadata.dbt_version);
    for (const r of a.results) expect(NODE_STATUSES).toContain(r.status);
  });

  test('the red run has the statuses the report tells apart', () => {
    const statuses = new Set(parseRunResults(text('red'), 'red').results.map((r) => r.status));
    expect([...statuses].sort()).toEqual(['error', 'fail', 'pass', 'skipped', 'success', 'warn']);
  });
});

describe('what the action writes reads back', () => {
  test('the selection state: exactly the nodes, each a success, with the v6 metadata', () => {
    const uids = ['model.p.a', 'seed.p.b'];
    const a = parseRunResults(selectionStateFile(uids, '1.11.16'), 'selection');
    expect(a.results.map((r) => [r.unique_id, r.status])).toEqual([
      ['model.p.a', 'success'],
      ['seed.p.b', 'success'],
    ]);
    expect(a.metadata).toMatchObject({
      dbt_schema_version: RUN_RESULTS_SCHEMA,
      dbt_version: '1.11.16',
      invocation_id: 'parallel-dbt-selection',
    });
  });

  test('the merged results, with and without a chunk artifact for its metadata', () => {
    const red = parseRunResults(text('red'), 'red');
    for (const artifacts of [[red], []]) {
      const merged = mergeRunResults({
        chunks: [{ results: red.results.slice(1), artifacts }],
        planned: red.results.map((r) => r.unique_id),
        elapsedSeconds: 3,
        command: 'build',
        dbtVersion: '1.11.16',
        selection: {},
      });
      const back = parseRunResults(runResultsText(merged.artifact), 'merged');
      expect(back).toEqual(JSON.parse(JSON.stringify(merged.artifact)));
      expect(back.metadata.dbt_schema_version).toBe(RUN_RESULTS_SCHEMA);
      expect(back.results[0]).toMatchObject({ unique_id: red.results[0].unique_id, status: 'error' });
    }
  });
});

describe('what another tool writes', () => {
  test("the benchmark's synthetic timings: results in full, metadata only the schema version", () => {
    const a = parseRunResults(
      JSON.stringify({
        metadata: { dbt_schema_version: RUN_RESULTS_SCHEMA },
        results: parseRunResults(text('green'), 'green').results,
        elapsed_time: 0,
        args: {},
      }),
      'synthetic',
    );
    expect(a.metadata.dbt_version).toBeUndefined();
    expect(a.results.length).toBeGreaterThan(90);
  });
});

describe('a status dbt may add later', () => {
  test('is kept as written and counts as passed', () => {
    const doc = JSON.parse(text('green'));
    doc.results[0].status = 'exploded';
    const a = parseRunResults(JSON.stringify(doc), 'new-dbt');
    expect(a.results[0].status).toBe('exploded');
    expect(bucketOf(a.results[0].status)).toBe('passed');
  });
});

describe('a file that is not a run_results.json: one line naming it', () => {
  const doc = (): Record<string, unknown> & { results: Record<string, unknown>[]; metadata: Record<string, unknown> } =>
    JSON.parse(text('green'));
  const uid = (JSON.parse(text('green')) as { results: { unique_id: string }[] }).results[1].unique_id;

  test.each<[string, (d: ReturnType<typeof doc>) => unknown, string]>([
    ['no results list', (d) => ({ ...d, results: undefined }), 'no "results" list'],
    ['a manifest', () => ({ metadata: { dbt_version: '1.11.16' }, nodes: {} }), 'no "results" list'],
    ['no metadata', (d) => ({ ...d, metadata: undefined }), 'no "metadata"'],
    [
      'a numeric dbt version',
      (d) => ({ ...d, metadata: { ...d.metadata, dbt_version: 11 } }),
      '"metadata.dbt_version" is not a string',
    ],
    ['no elapsed time', (d) => ({ ...d, elapsed_time: '3 s' }), '"elapsed_time" is not a number'],
    [
      'a result without unique_id',
      (d) => ({ ...d, results: [d.results[0], { ...d.results[1], unique_id: undefined }] }),
      'results[1]: "unique_id" is not a string',
    ],
    [
      'a result without status',
      (d) => ({ ...d, results: [d.results[0], { ...d.results[1], status: null }] }),
      `results[1] (${uid}): "status" is not a string`,
    ],
    [
      'a text execution time',
      (d) => ({ ...d, results: [d.results[0], { ...d.results[1], execution_time: 'slow' }] }),
      `results[1] (${uid}): "execution_time" is not a number`,
    ],
    [
      'a numeric message',
      (d) => ({ ...d, results: [d.results[0], { ...d.results[1], message: 3 }] }),
      `results[1] (${uid}): "message" is not a string or null`,
    ],
    [
      'timing not a list',
      (d) => ({ ...d, results: [d.results[0], { ...d.results[1], timing: {} }] }),
      `results[1] (${uid}): "timing" is not a list of timings`,
    ],
    ['a result that is a string', (d) => ({ ...d, results: [d.results[0], 'x'] }), 'results[1]: not an object'],
  ])('%s', (_, change, why) => {
    expect(oneLine(() => parseRunResults(JSON.stringify(change(doc())), '/w/run_results.json'))).toBe(
      `/w/run_results.json is not a dbt run_results.json (${why})`,
    );
  });

  test('not JSON, or no file', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, text('green').slice(0, 500));
    expect(oneLine(() => readRunResults(broken))).toMatch(new RegExp(`^${broken} is not JSON \\(.+\\)$`));
    expect(oneLine(() => readRunResults(join(dir, 'missing.json')))).toMatch(
      new RegExp(`^cannot read ${join(dir, 'missing.json')} \\(ENOENT.*\\)$`),
    );
  });

  test('what a dbt invocation left: none, or a file cut short, is no results; a whole one is read', () => {
    expect(leftRunResults(join(dir, 'none', 'run_results.json'))).toBeUndefined();
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text('red').slice(0, 2000));
    expect(leftRunResults(cut)).toBeUndefined();
    const whole = join(dir, 'whole.json');
    writeFileSync(whole, text('red'));
    expect(leftRunResults(whole)?.results.length).toBe(JSON.parse(text('red')).results.length);
  });
});
