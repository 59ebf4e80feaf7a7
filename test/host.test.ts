// The worker host (src/dbt/worker_host.py + src/dbt/host.ts) without dbt: reading its frames and finding the
// interpreter of a dbt install. The real Python side against the TypeScript one: host-protocol.test.ts. On real
// dbt-core and PostgreSQL: host.integration.test.ts.
import { describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame as frame, FrameReader, type Frame } from '../src/dbt/host-protocol.js';
import { pythonOf } from '../src/dbt/host.js';

describe('FrameReader', () => {
  const shown = (f: Frame): string =>
    `${f.kind}${f.id}:${f.kind === 'M' ? JSON.stringify(f.message) : f.bytes.toString()}`;

  test('frames come out whole and in order, however the stream is cut; a frame of an unknown kind is skipped', () => {
    const stream = Buffer.concat([
      frame('M', 0, '{"event":"ready","pid":1,"seconds":2}'),
      frame('O', 7, 'line one\nline two\n'),
      frame('E', 7, ''),
      Buffer.concat([Buffer.from('Z'), frame('E', 7, 'x').subarray(1)]),
      frame('N', 7, '{"notice":"run'),
      frame('M', 7, '{"event":"exit","id":7,"code":0,"signal":null}'),
    ]);
    for (const cut of [1, 2, 5, 9, 10, 13, stream.length]) {
      const got: string[] = [];
      const r = new FrameReader((f) => got.push(shown(f)));
      for (let i = 0; i < stream.length; i += cut) r.push(stream.subarray(i, i + cut));
      expect(got).toEqual([
        'M0:{"event":"ready","pid":1,"seconds":2}',
        'O7:line one\nline two\n',
        'E7:',
        'N7:{"notice":"run',
        'M7:{"event":"exit","id":7,"code":0,"signal":null}',
      ]);
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

  test("a #! line, #!/usr/bin/env python3 on PATH, pip's exec trampoline; a native binary has none", () => {
    expect(pythonOf(script('a', '#!/opt/venv/bin/python3.12\nfrom dbt.cli.main import cli\n'), {})).toBe(
      '/opt/venv/bin/python3.12',
    );
    const bin = mkdtempSync(join(tmpdir(), 'parallel-dbt-bin-'));
    writeFileSync(join(bin, 'python3'), '#!/bin/sh\n');
    expect(pythonOf(script('b', '#!/usr/bin/env python3\n'), { PATH: `/nonexistent:${bin}` })).toBe(
      join(bin, 'python3'),
    );
    expect(
      pythonOf(script('c', "#!/bin/sh\n'''exec' \"/home/runner/my venv/bin/python\" \"$0\" \"$@\"\n' '''\n"), {}),
    ).toBe('/home/runner/my venv/bin/python');
    expect(pythonOf(script('d', "#!/bin/sh\n'''exec' /home/runner/venv/bin/python \"$0\" \"$@\"\n' '''\n"), {})).toBe(
      '/home/runner/venv/bin/python',
    );
    expect(pythonOf(script('e', '\x7fELF\x02\x01\x01'), {})).toBeUndefined();
  });
});
