// Runs one dbt process with execa (never a shell), streaming its output line by line.
import { execa } from 'execa';
import { LineSplitter } from './lines.js';
import type { DbtLogEvent } from './types.js';

export interface DbtRunOptions {
  exe: string;
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Each JSON log event (lines of `--log-format json`). */
  onEvent?: (event: DbtLogEvent) => void;
  /** Each stdout line that is not a JSON event, and each stderr line. */
  onText?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Past this the process gets SIGINT, then SIGKILL after graceMs. */
  timeoutMs?: number;
  graceMs?: number;
  /** Aborting sends SIGINT (dbt cancels its queries and writes partial results), then SIGKILL after graceMs. */
  signal?: AbortSignal;
  /** Aborting kills the process (and its descendants) at once. */
  killSignal?: AbortSignal;
}

export interface DbtRunOutcome {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** Last lines of non-event output and error-level event messages, for error reports. */
  tail: string[];
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

const TAIL = 40;

/** dbt's environment: ours minus the action's inputs (a model could read a token input with env_var()). */
export function childEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('INPUT_')) out[k] = v;
  return { ...out, DO_NOT_TRACK: '1', DBT_SEND_ANONYMOUS_USAGE_STATS: 'false', PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
}

export async function runDbt(o: DbtRunOptions): Promise<DbtRunOutcome> {
  const started = Date.now();
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
  };
  const onLine = (stream: 'stdout' | 'stderr') => (line: string): void => {
    if (stream === 'stdout' && line.startsWith('{')) {
      let ev: DbtLogEvent | undefined;
      try {
        ev = JSON.parse(line) as DbtLogEvent;
      } catch {
        ev = undefined;
      }
      if (ev?.info?.name !== undefined) {
        if (ev.info.level === 'error') remember(ev.info.msg);
        o.onEvent?.(ev);
        return;
      }
    }
    if (line.trim() !== '') remember(line);
    o.onText?.(line, stream);
  };
  const out = new LineSplitter(onLine('stdout'));
  const err = new LineSplitter(onLine('stderr'));

  const sub = execa(o.exe, o.argv, {
    cwd: o.cwd,
    env: childEnv(o.env),
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    killSignal: 'SIGINT',
    forceKillAfterDelay: o.graceMs ?? 5000,
    timeout: o.timeoutMs,
    cancelSignal: o.signal,
    cleanup: true,
    killDescendants: true,
  });
  const killNow = (): void => {
    sub.kill('SIGKILL');
  };
  if (o.killSignal?.aborted) killNow();
  o.killSignal?.addEventListener('abort', killNow, { once: true });
  sub.stdout?.on('data', (b: Buffer) => out.push(b));
  sub.stderr?.on('data', (b: Buffer) => err.push(b));
  const result = await sub;
  o.killSignal?.removeEventListener('abort', killNow);
  out.end();
  err.end();
  const spawnError = result.failed && result.exitCode === undefined && !result.isTerminated ? result.shortMessage : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: Boolean(result.timedOut),
    cancelled: Boolean(result.isCanceled),
    durationMs: Date.now() - started,
    tail,
    spawnError,
  };
}
