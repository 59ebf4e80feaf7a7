// The line splitter that reads dbt's output: whole lines across chunk boundaries, caps that keep memory flat.
import { describe, expect, test } from '@jest/globals';
import { LineSplitter, MAX_LINE_BYTES, MAX_TEXT_LINE_BYTES } from '../src/dbt/lines.js';

function split(chunks: (string | Buffer)[]): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l));
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return out;
}

describe('LineSplitter', () => {
  test('lines across chunk boundaries, CRLF, a last line without newline', () => {
    expect(split(['{"a":', '1}\r\nplain', ' text\n', '\n', 'tail'])).toEqual(['{"a":1}', 'plain text', '', 'tail']);
  });

  test('a JSON event is kept up to 1 MiB, any other line up to 4 KiB', () => {
    const json = `{"x":"${'a'.repeat(200000)}"}`;
    const [kept] = split([json.slice(0, 70000), json.slice(70000), '\n']);
    expect(kept).toBe(json);
    const [cutText] = split(['y'.repeat(50000), '\n']);
    expect(cutText).toBe(`${'y'.repeat(MAX_TEXT_LINE_BYTES)} …[line cut]`);
    const [cutJson] = split([`{${'z'.repeat(MAX_LINE_BYTES + 10)}`, '\n']);
    expect(cutJson.length).toBe(MAX_LINE_BYTES + ' …[line cut]'.length);
  });

  test('bytes that are not UTF-8 become replacement characters, not errors', () => {
    expect(split([Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a])])).toEqual(['ok \ufffd\ufffd\ufffd(']);
  });
});
