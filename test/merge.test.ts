// The merged run_results.json (src/report/merge.ts mergeRunResults), directly: the captured real dbt runs (red: 99
// nodes with success, pass, warn, error, skipped and fail) split into chunks as the action splits a run, then folded
// back. No dbt, no PostgreSQL, no mocks.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parallelDbtArgsOf, type RunResult, type RunResultsArtifact } from '../src/dbt/run-results.js';
import { mergeRunResults, type MergeInput } from '../src/report/merge.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const NO_RESULT = 'parallel-dbt: no chunk reported a result for this node.';

function captured(variant: 'green' | 'red'): RunResultsArtifact {
  return JSON.parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'captured', variant, 'run_results.json'), 'utf8'),
  ) as RunResultsArtifact;
}

/**
 * The run split into `n` chunks round-robin, each with its own run_results.json as a chunk writes it: its share of
 * the results, its own invocation, its own --target-path / --log-path and the action's --indirect-selection.
 */
function chunked(run: RunResultsArtifact, n: number): MergeInput['chunks'] {
  return Array.from({ length: n }, (_, i) => {
    const results = run.results.filter((_, j) => j % n === i);
    const artifact: RunResultsArtifact = {
      metadata: {
        ...run.metadata,
        invocation_id: `chunk-${i + 1}-invocation`,
        generated_at: `2026-11-24T14:15:0${i}.000000Z`,
      },
      results,
      elapsed_time: 1 + i,
      args: {
        ...run.args,
        target_path: `<tmp>/target-chunk-${i + 1}`,
        log_path: `<tmp>/logs-chunk-${i + 1}`,
        indirect_selection: 'empty',
        select: results.map((r) => r.unique_id),
      },
    };
    return { results, artifacts: [artifact] };
  });
}

function input(over: Partial<MergeInput> & Pick<MergeInput, 'chunks' | 'planned'>): MergeInput {
  return {
    elapsedSeconds: 7.25,
    command: 'build',
    dbtVersion: '1.11.16',
    selection: { select: ['tag:finance'], exclude: [] },
    ...over,
  };
}

const red = captured('red');
/** Plan order: not the order dbt ran them in (alphabetical by unique_id). */
const planned = red.results.map((r) => r.unique_id).sort();

describe('mergeRunResults: each planned node exactly once', () => {
  test('a run split into three chunks folds back to every planned node once, in plan order, as the chunks reported it', () => {
    const chunks = chunked(red, 3);
    expect(chunks.map((c) => c.results.length)).toEqual([33, 33, 33]);
    const m = mergeRunResults(input({ chunks, planned }));
    expect(m.duplicates).toEqual([]);
    expect(m.missing).toEqual([]);
    expect(m.artifact.results.map((r) => r.unique_id)).toEqual(planned);
    expect(new Set(m.artifact.results.map((r) => r.unique_id)).size).toBe(red.results.length);
    const original = new Map(red.results.map((r) => [r.unique_id, r]));
    for (const r of m.artifact.results) expect(r).toBe(original.get(r.unique_id));
    // Every status of the real run survives, counted as dbt counted it.
    const count = (rs: RunResult[]) =>
      rs.reduce<Record<string, number>>((a, r) => ({ ...a, [r.status]: (a[r.status] ?? 0) + 1 }), {});
    expect(count(m.artifact.results)).toEqual({ success: 26, pass: 69, warn: 1, error: 1, skipped: 1, fail: 1 });
  });

  test('a node reported by three chunks is listed as a duplicate once per extra report; the first in chunk order is kept', () => {
    const chunks = chunked(red, 3);
    const uid = 'model.parallel_dbt_example.order_unit_margin';
    const first = red.results.find((r) => r.unique_id === uid)!;
    expect(first.status).toBe('error');
    const second: RunResult = { ...first, status: 'success', message: 'SELECT 3', thread_id: 'Thread-9 (worker)' };
    const third: RunResult = { ...first, status: 'skipped', message: null };
    for (const c of chunks) c.results = c.results.filter((r) => r.unique_id !== uid);
    // The error at the end of chunk 1, a success at the start of chunk 2, a skip in chunk 3: position decides, not status.
    chunks[0].results.push(first);
    chunks[1].results.unshift(second);
    chunks[2].results.push(third);
    const m = mergeRunResults(input({ chunks, planned }));
    expect(m.duplicates).toEqual([uid, uid]);
    expect(m.missing).toEqual([]);
    expect(m.artifact.results.filter((r) => r.unique_id === uid)).toHaveLength(1);
    expect(m.artifact.results.find((r) => r.unique_id === uid)).toBe(first);
    expect(m.artifact.results.map((r) => r.unique_id)).toEqual(planned);
  });

  test('a duplicate within one chunk (a retried node) keeps the earlier report too', () => {
    const uid = 'test.parallel_dbt_example.assert_every_campaign_is_profitable';
    const failed = red.results.find((r) => r.unique_id === uid)!;
    const retried: RunResult = { ...failed, status: 'pass', failures: 0, message: 'Got 0 results' };
    const m = mergeRunResults(
      input({ chunks: [{ results: [failed, retried], artifacts: [undefined] }], planned: [uid] }),
    );
    expect(m.duplicates).toEqual([uid]);
    expect(m.artifact.results).toEqual([failed]);
  });

  test('a planned node no chunk reported is listed as missing and kept as an error at its planned place', () => {
    const chunks = chunked(red, 2);
    const gone = [
      'seed.parallel_dbt_example.raw_orders',
      'test.parallel_dbt_example.assert_every_campaign_is_profitable',
    ];
    for (const c of chunks) c.results = c.results.filter((r) => !gone.includes(r.unique_id));
    const m = mergeRunResults(input({ chunks, planned }));
    expect(m.missing).toEqual([...gone].sort((a, b) => planned.indexOf(a) - planned.indexOf(b)));
    expect(m.duplicates).toEqual([]);
    expect(m.artifact.results.map((r) => r.unique_id)).toEqual(planned);
    for (const uid of gone) {
      const r = m.artifact.results[planned.indexOf(uid)];
      expect(r).toEqual({
        unique_id: uid,
        status: 'error',
        timing: [],
        thread_id: null,
        execution_time: 0,
        adapter_response: {},
        message: NO_RESULT,
        failures: null,
      });
    }
    // Only those two are synthesised.
    expect(m.artifact.results.filter((r) => r.message === NO_RESULT)).toHaveLength(2);
  });

  test('every planned node missing when no chunk reported anything (each one an error, none dropped)', () => {
    const some = planned.slice(0, 5);
    const m = mergeRunResults(
      input({
        chunks: [
          { results: [], artifacts: [undefined] },
          { results: [], artifacts: [] },
        ],
        planned: some,
      }),
    );
    expect(m.missing).toEqual(some);
    expect(m.artifact.results.map((r) => [r.unique_id, r.status, r.message])).toEqual(
      some.map((u) => [u, 'error', NO_RESULT]),
    );
  });

  test('a node a chunk reported but nobody planned is not in the merged results, nor a duplicate or missing', () => {
    const chunks = chunked(red, 3);
    const stray: RunResult = { ...red.results[0], unique_id: 'model.parallel_dbt_example.not_in_the_plan' };
    chunks[1].results.push(stray);
    const m = mergeRunResults(input({ chunks, planned }));
    expect(m.artifact.results.map((r) => r.unique_id)).toEqual(planned);
    expect(m.duplicates).toEqual([]);
    expect(m.missing).toEqual([]);
  });

  test('nothing planned, nothing run: an empty, valid artifact', () => {
    const m = mergeRunResults(input({ chunks: [], planned: [], elapsedSeconds: 0 }));
    expect(m).toMatchObject({ duplicates: [], missing: [], artifact: { results: [], elapsed_time: 0 } });
  });
});

describe('mergeRunResults: metadata, elapsed_time and args', () => {
  test('metadata of the first chunk artifact there is, with a new generated_at; elapsed_time is the input span', () => {
    const chunks = chunked(red, 3);
    // The first chunk wrote no run_results.json (killed, say): the second chunk's first artifact counts.
    chunks[0].artifacts = [undefined];
    const secondOfChunk2: RunResultsArtifact = {
      ...chunks[1].artifacts[0]!,
      metadata: { ...chunks[1].artifacts[0]!.metadata, invocation_id: 'chunk-2-retry' },
    };
    chunks[1].artifacts.push(secondOfChunk2);
    const before = Date.now();
    const m = mergeRunResults(input({ chunks, planned, elapsedSeconds: 7.25 }));
    const after = Date.now();
    const { generated_at, ...rest } = m.artifact.metadata;
    const { generated_at: chunkGenerated, ...chunkRest } = chunks[1].artifacts[0]!.metadata;
    expect(rest).toEqual(chunkRest);
    expect(rest.invocation_id).toBe('chunk-2-invocation');
    expect(rest.dbt_schema_version).toBe('https://schemas.getdbt.com/dbt/run-results/v6.json');
    expect(rest.dbt_version).toBe('1.11.16');
    expect(rest.invocation_started_at).toBe(red.metadata.invocation_started_at);
    expect(generated_at).not.toBe(chunkGenerated);
    expect(generated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(generated_at ?? '')).toBeGreaterThanOrEqual(before);
    expect(Date.parse(generated_at ?? '')).toBeLessThanOrEqual(after);
    // The span the caller measured, not a chunk's elapsed_time nor their sum (1 + 2 + 3).
    expect(m.artifact.elapsed_time).toBe(7.25);
    // The chunk's own artifact is not changed.
    expect(chunks[1].artifacts[0]!.metadata.generated_at).toBe(chunkGenerated);
  });

  test("args: the first artifact's, with which = the command and the user's selection; no chunk paths or indirect selection", () => {
    const chunks = chunked(red, 2);
    const firstArgs = { ...chunks[0].artifacts[0]!.args };
    const m = mergeRunResults(
      input({
        chunks,
        planned,
        command: 'test',
        selection: { select: ['tag:finance'], exclude: ['tag:slow'], selector: undefined },
      }),
    );
    const a = m.artifact.args;
    expect(a.which).toBe('test');
    expect(a.select).toEqual(['tag:finance']);
    expect(a.exclude).toEqual(['tag:slow']);
    expect('selector' in a).toBe(true);
    for (const k of ['target_path', 'log_path', 'indirect_selection']) expect(a).not.toHaveProperty(k);
    // Everything else dbt recorded stays, as the first chunk recorded it.
    expect(a.invocation_command).toBe(red.args.invocation_command);
    expect(a.project_dir).toBe(red.args.project_dir);
    const kept = Object.keys(firstArgs).filter(
      (k) => !['target_path', 'log_path', 'indirect_selection', 'which', 'select', 'exclude'].includes(k),
    );
    expect(kept.length).toBeGreaterThan(20);
    for (const k of kept) expect(a[k]).toEqual(firstArgs[k]);
    // The chunk's args are not changed.
    expect(chunks[0].artifacts[0]!.args).toEqual(firstArgs);
  });

  test("args.parallel_dbt: the run's measured facts replace whatever a chunk's args had; none measured, none kept", () => {
    const chunks = chunked(red, 2);
    chunks[0].artifacts[0] = {
      ...chunks[0].artifacts[0]!,
      args: { ...chunks[0].artifacts[0]!.args, parallel_dbt: { cpu_per_node: 9 } },
    };
    const base = { chunks, planned, command: 'build', selection: {} };
    const measured = mergeRunResults(
      input({ ...base, facts: { cpu_per_node: 0.031, other_cpu_share: 0.62 } }),
    ).artifact;
    expect(measured.args.parallel_dbt).toEqual({ cpu_per_node: 0.031, other_cpu_share: 0.62 });
    expect(parallelDbtArgsOf(measured)).toEqual({ cpu_per_node: 0.031, other_cpu_share: 0.62 });
    const none = mergeRunResults(input(base)).artifact;
    expect(none.args).not.toHaveProperty('parallel_dbt');
    expect(parallelDbtArgsOf(none)).toEqual({});
    // What a later run reads back: a malformed entry is no measure.
    expect(parallelDbtArgsOf({ ...none, args: { parallel_dbt: { cpu_per_node: 'fast' } } })).toEqual({});
    expect(parallelDbtArgsOf({ ...none, args: { parallel_dbt: { cpu_per_node: -1 } } })).toEqual({});
    expect(
      parallelDbtArgsOf({ ...none, args: { parallel_dbt: { cpu_per_node: 0.02, other_cpu_share: -0.1 } } }),
    ).toEqual({
      cpu_per_node: 0.02,
    });
  });

  test("no chunk artifact at all: dbt's run-results v6 metadata with the manifest's dbt version, args from the input only", () => {
    const results = red.results.slice(0, 4);
    const m = mergeRunResults(
      input({
        chunks: [{ results, artifacts: [undefined, undefined] }],
        planned: results.map((r) => r.unique_id),
        dbtVersion: '1.8.9',
      }),
    );
    expect(m.artifact.metadata).toEqual({
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json',
      dbt_version: '1.8.9',
      generated_at: expect.any(String),
      invocation_id: null,
      env: {},
    });
    expect(m.artifact.args).toEqual({ which: 'build', select: ['tag:finance'], exclude: [] });
    expect(m.artifact.results).toEqual(results);
    const noVersion = mergeRunResults(input({ chunks: [], planned: [], dbtVersion: undefined }));
    expect(noVersion.artifact.metadata.dbt_version).toBe('unknown');
  });

  test('the merged artifact reads back as a run_results.json (JSON round trip) with every field dbt writes', () => {
    const green = captured('green');
    const m = mergeRunResults(input({ chunks: chunked(green, 4), planned: green.results.map((r) => r.unique_id) }));
    const back = JSON.parse(JSON.stringify(m.artifact)) as RunResultsArtifact;
    expect(Object.keys(back).sort()).toEqual(Object.keys(green).sort());
    expect(back.results).toEqual(green.results);
    expect(back.metadata.dbt_version).toBe(green.metadata.dbt_version);
  });
});
