// runNotes and fatalLine (src/report/notes.ts): what the report says beside its nodes. Pure, no dbt.
import { describe, expect, test } from '@jest/globals';
import { fatalLine, runNotes } from '../src/report/notes.js';

const none = { planNotes: [], duplicates: [], cancelled: false, retried: [] };

describe('runNotes', () => {
  test('a quiet run has no notes', () => {
    expect(runNotes(none)).toEqual([]);
  });

  test('every fact in the order the summary shows: shard, plan, duplicates, cancel, retries, fail-fast', () => {
    const notes = runNotes({
      planNotes: ['hooks run twice'],
      shard: { id: '2', nodes: 40 },
      duplicates: ['model.p.a'],
      cancelled: true,
      retried: [{ uid: 'model.p.b', statuses: ['error', 'success'] }],
      failFast: "fail-fast after model.p.c ended with status 'error'.",
    });
    expect(notes).toEqual([
      'Matrix shard 2: 40 node(s) of the selection.',
      'hooks run twice',
      '1 node(s) were reported by two chunks; the first result is kept: model.p.a',
      'The run was cancelled: nodes that had not finished are reported as errors, those that never started as skipped.',
      '1 node(s) needed a retry: model.p.b (error → success)',
      "fail-fast: fail-fast after model.p.c ended with status 'error'. Everything not yet run was skipped.",
    ]);
  });

  test('long lists are cut: 5 duplicates named, 10 retried nodes named then an ellipsis', () => {
    const uids = Array.from({ length: 12 }, (_, i) => `model.p.n${i}`);
    const [dup, retry] = runNotes({
      ...none,
      duplicates: uids,
      retried: uids.map((uid) => ({ uid, statuses: ['error', 'error'] })),
    });
    expect(dup).toBe(
      `12 node(s) were reported by two chunks; the first result is kept: ${uids.slice(0, 5).join(', ')}`,
    );
    expect(retry.startsWith('12 node(s) needed a retry: model.p.n0 (error → error), ')).toBe(true);
    expect(retry).toContain('model.p.n9 (error → error)');
    expect(retry).not.toContain('model.p.n10');
    expect(retry.endsWith(', …')).toBe(true);
  });
});

describe('fatalLine', () => {
  test('only when dbt could not run any node', () => {
    expect(
      fatalLine(
        'Database Error: password authentication failed',
        [{ bucket: 'errored' }, { bucket: 'skipped' }],
        'build',
      ),
    ).toBe(
      "dbt could not run: Database Error: password authentication failed. Fix the project, profile or connection so that 'dbt build' works on its own.",
    );
    expect(fatalLine('boom', [{ bucket: 'errored' }, { bucket: 'passed' }], 'build')).toBeUndefined();
    expect(fatalLine(undefined, [{ bucket: 'errored' }], 'build')).toBeUndefined();
  });
});
