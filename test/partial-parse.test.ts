// What the action makes of a saved partial parse: where it looks (as plain dbt would), and dbt's verdict read from
// the parse's JSON log file (the events as dbt-core writes them; the real round trip is in parse.integration.test.ts).
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync, appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logOffset, savedParseOutcome, seedPartialParse, describeSavedParse } from '../src/dbt/partial-parse.js';
import { savedParseOf } from '../src/flow/prepare.js';

const event = (name: string, data: Record<string, unknown>): string =>
  JSON.stringify({ info: { name, level: 'info', msg: '' }, data });

describe('savedParseOutcome', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdbt-pp-'));
  const log = join(dir, 'dbt.log');
  test('reads only what the parse wrote after the offset: a rejection earlier in the file does not count', () => {
    writeFileSync(
      log,
      `${event('UnableToPartialParse', { reason: 'profile has changed' })}\n12:00:00 text line of deps\n`,
    );
    const from = logOffset(log);
    appendFileSync(log, `${event('PartialParsingEnabled', { added: 1, deleted: 0, changed: 2 })}\n`);
    expect(savedParseOutcome('/saved', log, from)).toEqual({ kind: 'reused', from: '/saved', changedFiles: 3 });
    expect(savedParseOutcome('/saved', log, 0)).toEqual({
      kind: 'rejected',
      from: '/saved',
      reason: 'profile has changed',
    });
  });
  test('a file dbt could not load is a rejection with the first line of its error', () => {
    writeFileSync(log, `${event('ParsedFileLoadFailed', { path: '/saved', exc: 'bad msgpack\nmore' })}\n`);
    expect(savedParseOutcome('/saved', log, 0)).toEqual({
      kind: 'rejected',
      from: '/saved',
      reason: 'the file could not be read (bad msgpack)',
    });
  });
  test('the log line says what happened', () => {
    const rel = (p: string) => p.replace('/ws/', '');
    expect(describeSavedParse({ kind: 'reused', from: '/ws/target/partial_parse.msgpack', changedFiles: 1 }, rel)).toBe(
      'from the saved partial parse target/partial_parse.msgpack, 1 file parsed again',
    );
    expect(describeSavedParse({ kind: 'none', looked: '/ws/target/partial_parse.msgpack' }, rel)).toBe(
      "no saved partial parse at target/partial_parse.msgpack: a cold parse, as plain dbt's",
    );
  });
});

describe('where the action looks for a saved partial parse', () => {
  const proj = mkdtempSync(join(tmpdir(), 'pdbt-pp-proj-'));
  test("the project's target path, as plain dbt reads it: DBT_TARGET_PATH, else dbt_project.yml's target-path, else target", () => {
    writeFileSync(join(proj, 'dbt_project.yml'), 'name: p\n');
    expect(savedParseOf({ projectDir: proj }, {})).toBe(join(proj, 'target', 'partial_parse.msgpack'));
    writeFileSync(join(proj, 'dbt_project.yml'), 'name: p\ntarget-path: build\n');
    expect(savedParseOf({ projectDir: proj }, {})).toBe(join(proj, 'build', 'partial_parse.msgpack'));
    expect(savedParseOf({ projectDir: proj }, { DBT_TARGET_PATH: '/abs/t' })).toBe('/abs/t/partial_parse.msgpack');
    expect(savedParseOf({ projectDir: proj, partialParse: '/cache/pp.msgpack' }, { DBT_TARGET_PATH: '/abs/t' })).toBe(
      '/cache/pp.msgpack',
    );
  });
  test('a folder or a file is copied to where dbt reads it; nothing there is no seed', () => {
    const saved = join(proj, 'cache');
    mkdirSync(saved);
    writeFileSync(join(saved, 'partial_parse.msgpack'), 'bytes');
    const target = join(proj, 'parse-target');
    expect(seedPartialParse(saved, target)).toBe(join(saved, 'partial_parse.msgpack'));
    expect(readFileSync(join(target, 'partial_parse.msgpack'), 'utf8')).toBe('bytes');
    expect(seedPartialParse(join(proj, 'nothing-here'), target)).toBeUndefined();
  });
});
