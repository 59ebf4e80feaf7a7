// Finds the dbt executable and tells dbt-core (Python, v1) from dbt Fusion (Rust, v2) without running it.
import { accessSync, constants, openSync, readSync, closeSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { DbtExecutableError } from './errors.js';

export type Engine = 'core' | 'fusion' | 'unknown';

export interface DbtExecutable {
  path: string;
  engine: Engine;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `name` (a path, or a command looked up on PATH) to an executable file. */
export function resolveDbt(name: string, env: Record<string, string | undefined>, cwd: string): DbtExecutable {
  let path: string | undefined;
  if (name.includes('/')) {
    const abs = isAbsolute(name) ? name : resolve(cwd, name);
    try {
      statSync(abs);
    } catch {
      throw new DbtExecutableError(
        `'${name}' does not exist. Set 'dbt' to the dbt executable (e.g. .venv/bin/dbt) or install dbt-core with your adapter (pip install dbt-postgres).`,
      );
    }
    if (!isExecutableFile(abs))
      throw new DbtExecutableError(`'${name}' is not an executable file (check its permissions: chmod +x).`);
    path = abs;
  } else {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir && isExecutableFile(join(dir, name))) {
        path = join(dir, name);
        break;
      }
    }
    if (path === undefined) {
      throw new DbtExecutableError(
        `'${name}' was not found on PATH. Install dbt-core with your adapter first (e.g. pip install dbt-postgres), or set 'dbt' to the executable's path.`,
      );
    }
  }
  return { path, engine: sniffEngine(path) };
}

/** dbt-core's `dbt` is a Python entry-point script (#!…python); Fusion is a native binary (ELF/Mach-O). */
export function sniffEngine(path: string): Engine {
  const buf = Buffer.alloc(256);
  let n = 0;
  const fd = openSync(path, 'r');
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = buf.subarray(0, n);
  if (head[0] === 0x7f && head.subarray(1, 4).toString() === 'ELF') return 'fusion';
  const magic = head.readUInt32BE(0);
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) return 'fusion';
  const firstLine = head.toString('utf8').split('\n')[0];
  if (firstLine.startsWith('#!') && /python/.test(firstLine)) return 'core';
  return 'unknown';
}
