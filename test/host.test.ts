// The worker host (src/dbt/worker_host.py + src/dbt/host.ts) without dbt: its framed protocol and finding the
// interpreter of a dbt install. On real dbt-core and PostgreSQL: host.integration.test.ts.
import { describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, pythonOf } from '../src/dbt/host.js';

function frame(kind: string, id: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(9);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(body.length, 5);
  return Buffer.concat([head, body]);
}

describe('FrameReader', () => {
  test('frames come out whole and in order, however the stream is cut', () => {
    const stream = Buffer.concat([frame('M', 0, '{"event":"ready"}'), frame('O', 7, 'line one\nline two\n'), frame('E', 7, ''), frame('M', 7, '{"event":"exit"}')]);
    for (const cut of [1, 2, 5, 9, 10, 13, stream.length]) {
      const got: string[] = [];
      const r = new FrameReader((kind, id, payload) => got.push(`${kind}${id}:${payload.toString()}`));
      for (let i = 0; i < stream.length; i += cut) r.push(stream.subarray(i, i + cut));
      expect(got).toEqual(['M0:{"event":"ready"}', 'O7:line one\nline two\n', 'E7:', 'M7:{"event":"exit"}']);
    }
  });
});

describe('pythonOf: the interpreter behind a dbt entry point', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parallel-dbt-python-of-'));
  const script = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    return p;
  };

  test('a #! line, #!/usr/bin/env python3 on PATH, pip\'s exec trampoline; a native binary has none', () => {
    expect(pythonOf(script('a', '#!/opt/venv/bin/python3.12\nfrom dbt.cli.main import cli\n'), {})).toBe('/opt/venv/bin/python3.12');
    const bin = mkdtempSync(join(tmpdir(), 'parallel-dbt-bin-'));
    writeFileSync(join(bin, 'python3'), '#!/bin/sh\n');
    expect(pythonOf(script('b', '#!/usr/bin/env python3\n'), { PATH: `/nonexistent:${bin}` })).toBe(join(bin, 'python3'));
    expect(pythonOf(script('c', "#!/bin/sh\n'''exec' \"/home/runner/my venv/bin/python\" \"$0\" \"$@\"\n' '''\n"), {})).toBe('/home/runner/my venv/bin/python');
    expect(pythonOf(script('d', "#!/bin/sh\n'''exec' /home/runner/venv/bin/python \"$0\" \"$@\"\n' '''\n"), {})).toBe('/home/runner/venv/bin/python');
    expect(pythonOf(script('e', '\x7fELF\x02\x01\x01'), {})).toBeUndefined();
  });
});
