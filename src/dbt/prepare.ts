// The steps before the fan-out: deps, the parse, the list that resolves the selection. Each is one dbt invocation,
// run by `launch` (a `dbt` process) or, on the worker host, inside the host (`parse` keeps the manifest in memory).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { depsArgv, listArgv, parseArgv, type ListArgs, type ProjectArgs } from './argv.js';
import type { DbtLauncher, DbtRunOutcome } from './process.js';
import { readManifest, type Manifest } from './manifest.js';
import { DbtError, withoutTraceback } from './errors.js';

export interface DbtCall {
  /** Runs deps and ls. */
  launch: DbtLauncher;
  /** Runs parse (the worker host keeps what it parses); defaults to launch. */
  parse?: DbtLauncher;
  cwd: string;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  log: (line: string) => void;
}

function failure(what: string, o: DbtRunOutcome): DbtError {
  if (o.spawnError) return new DbtError(`dbt ${what} could not start: ${o.spawnError}`);
  if (o.lost) return new DbtError(`dbt ${what} was lost: ${o.lost}`);
  const lines = withoutTraceback(o.tail)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\d\d:\d\d:\d\d\s*$/.test(l));
  const detail = lines.slice(-6).join(' | ').replace(/\s+/g, ' ');
  return new DbtError(
    `dbt ${what} failed (exit code ${o.exitCode ?? o.signal}): ${detail || 'no output'}. Fix the project or profile so that this command works on its own.`,
  );
}

export function hasPackages(projectDir: string): boolean {
  return existsSync(join(projectDir, 'packages.yml')) || existsSync(join(projectDir, 'dependencies.yml'));
}

export async function runDeps(call: DbtCall, p: ProjectArgs, logPath: string): Promise<void> {
  const o = await call.launch({
    ...call,
    argv: depsArgv(p, logPath),
    onEvent: (ev) => ev.info.level !== 'debug' && call.log(ev.info.msg),
  });
  if (o.exitCode !== 0) throw failure('deps', o);
}

/** Runs `dbt ls` with the user's selection; returns the selected unique ids (it also parses into targetPath). */
export async function listSelected(call: DbtCall, a: ListArgs): Promise<string[]> {
  mkdirSync(a.targetPath, { recursive: true });
  const ids: string[] = [];
  const o = await call.launch({
    ...call,
    argv: listArgv(a),
    onText: (line) => {
      const t = line.trim();
      if (!t.startsWith('{')) return;
      try {
        const id = (JSON.parse(t) as { unique_id?: unknown }).unique_id;
        if (typeof id === 'string') ids.push(id);
      } catch {
        /* not a node line */
      }
    },
  });
  if (o.exitCode !== 0) throw failure('ls (resolving the selection)', o);
  return ids;
}

/** Runs `dbt parse` into targetPath. */
export async function parseProject(
  call: DbtCall,
  a: ProjectArgs & { targetPath: string; logPath: string },
): Promise<void> {
  mkdirSync(a.targetPath, { recursive: true });
  const o = await (call.parse ?? call.launch)({ ...call, argv: parseArgv(a) });
  if (o.exitCode !== 0) throw failure('parse', o);
}

/** The manifest.json dbt parse or ls wrote into targetPath. */
export function manifestOf(targetPath: string): Manifest {
  const path = join(targetPath, 'manifest.json');
  if (!existsSync(path)) throw new DbtError(`dbt did not write ${path}; parallel-dbt needs dbt-core 1.8 or newer.`);
  return readManifest(path);
}
