// Runs one dbt process with execa (never a shell), streaming its output line by line.
import { execa } from 'execa';
import type { CachedRelationKey, PeerStatus, PoolSpec, WorkerNotice } from './host-protocol.js';
import { LineSplitter } from './lines.js';
import type { DbtLogEvent } from './events.js';

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
  /** Set when the invocation was lost with the process that ran it (a worker whose host died). */
  lost?: string;
  /** Its CPU seconds (user + system), where the launcher measured them (forked workers). */
  cpuSeconds?: number;
}

const TAIL = 40;
/** How long dbt gets after SIGINT (to cancel its queries and write its results) before SIGKILL, unless told. */
export const DEFAULT_GRACE_MS = 5000;

/** dbt's environment: ours minus the action's inputs (a model could read a token input with env_var()). */
export function childEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('INPUT_')) out[k] = v;
  // DBT_ENGINE_HINTS_ENABLED: dbt 1.12 prints a hint per process and writes ~/.dbt/hint_ts.json from each of them.
  return {
    ...out,
    DO_NOT_TRACK: '1',
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_ENGINE_HINTS_ENABLED: 'false',
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
  };
}

/** Turns a dbt process's output streams into events, text lines and an error tail (shared by both run paths). */
export class DbtOutput {
  readonly tail: string[] = [];
  private readonly out: LineSplitter;
  private readonly err: LineSplitter;

  constructor(o: Pick<DbtRunOptions, 'onEvent' | 'onText'>) {
    const remember = (line: string): void => {
      this.tail.push(line);
      if (this.tail.length > TAIL) this.tail.shift();
    };
    const onLine =
      (stream: 'stdout' | 'stderr') =>
      (line: string): void => {
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
    this.out = new LineSplitter(onLine('stdout'));
    this.err = new LineSplitter(onLine('stderr'));
  }

  stdout(b: Buffer): void {
    this.out.push(b);
  }

  stderr(b: Buffer): void {
    this.err.push(b);
  }

  end(): void {
    this.out.end();
    this.err.end();
  }
}

/** Starts one dbt invocation and resolves when it has ended: a process of its own, or a forked worker. */
/** Why the process never ran (not found, not executable), as execa tells it; undefined when it ran. */
export function spawnErrorOf(r: {
  failed: boolean;
  exitCode?: number;
  isTerminated: boolean;
  shortMessage?: string;
}): string | undefined {
  return r.failed && r.exitCode === undefined && !r.isTerminated ? r.shortMessage : undefined;
}

export type DbtLauncher = (o: DbtInvocation) => Promise<DbtRunOutcome>;
export type DbtInvocation = Omit<DbtRunOptions, 'exe'> & {
  /** This invocation is one of several of one run (forked workers only): see WorkerShare. */
  share?: WorkerShare;
};

// The worker host's wire types, where the run/ layer has always imported them from.
export {
  START_UID,
  type CachedRelationKey,
  type PeerStatus,
  type PoolSpec,
  type WorkerNotice,
} from './host-protocol.js';

/**
 * How a forked worker takes part in a run of several invocations, so that together they behave as one dbt
 * invocation (worker_host.py SharedRun; DBT-FACTS §16): it learns every final status of the others (a node another
 * worker built enters its relation cache; a node whose parents run elsewhere waits for them inside dbt), sees the
 * run's whole selection as dbt's selected resources, and runs the project hooks only where its roles say.
 */
export interface WorkerShare {
  /** Every node the run selects: dbt's selected_resources, and the schemas the on-run-start worker creates. */
  runNodes: string[];
  /**
   * on-run-start: 'run' here (the schemas of the whole run, then the hooks; it tells onNotice), 'wait' until
   * START_UID arrives (then skip the hooks), or 'skip' (they have run).
   */
  start: 'run' | 'wait' | 'skip';
  /** on-run-end: 'skip' in the chunks; 'run' in the end-only invocation, which runs no node. */
  end: 'run' | 'skip';
  /** End-only invocation: a run_results.json of the whole run, handed to on-run-end as `results`. */
  results?: string;
  /** Gated plans: per node of this invocation, its parents that run elsewhere; dbt queues it once they are done. */
  waitsFor?: Record<string, string[]>;
  /** Final statuses known before the start (START_UID among them once known). */
  known: [string, PeerStatus][];
  /** The run's workers take ready nodes from one pool (every worker selects the whole run); see PoolSpec. */
  pool?: PoolSpec;
  /** Calls back with every final status from now on (START_UID too); returns the unsubscribe. */
  subscribe: (listener: (uid: string, status: PeerStatus) => void) => () => void;
  /** What the worker reports of itself: its on-run-start has run, it is past its start-up, its cache dropped relations. */
  onNotice?: (n: WorkerNotice) => void;
  /** Relations other workers' caches dropped (a `drop ... cascade` took dependent views along); returns the unsubscribe. */
  subscribeDrops?: (listener: (relations: CachedRelationKey[]) => void) => () => void;
}

/** The subprocess path: every invocation is a `dbt` process started with execa. */
export function subprocessLauncher(exe: string): DbtLauncher {
  return (o) => {
    if (o.share !== undefined) throw new Error('internal: a shared invocation needs a forked worker');
    return runDbt({ ...o, exe });
  };
}

export async function runDbt(o: DbtRunOptions): Promise<DbtRunOutcome> {
  const started = Date.now();
  const output = new DbtOutput(o);

  const sub = execa(o.exe, o.argv, {
    cwd: o.cwd,
    env: childEnv(o.env),
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    killSignal: 'SIGINT',
    forceKillAfterDelay: o.graceMs ?? DEFAULT_GRACE_MS,
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
  sub.stdout?.on('data', (b: Buffer) => output.stdout(b));
  sub.stderr?.on('data', (b: Buffer) => output.stderr(b));
  const result = await sub;
  o.killSignal?.removeEventListener('abort', killNow);
  output.end();
  const spawnError = spawnErrorOf(result);
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: Boolean(result.timedOut),
    cancelled: Boolean(result.isCanceled),
    durationMs: Date.now() - started,
    tail: output.tail,
    spawnError,
  };
}
