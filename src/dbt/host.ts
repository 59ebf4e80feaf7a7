// The worker host (worker_host.py): one Python process of the user's dbt-core that imports dbt once, parses once and
// forks one pre-loaded worker per chunk. Each worker is still its own OS process (dbt's one-invocation-per-process
// rule), but starts from the parsed manifest in memory instead of paying imports and a partial parse again.
// This module speaks the host's framed protocol and gives every invocation the same outcome as a `dbt` process.
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodeRequest,
  FrameReader,
  NoticeReader,
  type ErrorMessage,
  type ExitMessage,
  type ForkCheckMessage,
  type Frame,
  type HostRequest,
  type ProfileFacts,
  type ReadyMessage,
  type ShareSpec,
  type StateAhead,
} from './host-protocol.js';
import {
  childEnv,
  DbtOutput,
  DEFAULT_GRACE_MS,
  spawnErrorOf,
  type DbtInvocation,
  type DbtLauncher,
  type DbtRunOutcome,
  type WorkerShare,
} from './process.js';

export type { ProfileFacts } from './host-protocol.js';

/** worker_host.py sits beside this module (src/dbt/) and beside the bundle (dist/). */
export const HOST_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker_host.py');

/** Why the host cannot be used; the caller falls back to one `dbt` process per invocation and says why. */
export class HostUnavailable extends Error {}

/** The messages that end a request. */
type Ending = ExitMessage | ForkCheckMessage | ErrorMessage;

interface Pending {
  output: DbtOutput;
  /** The worker's notices (frames of kind N). */
  notices?: NoticeReader;
  pid?: number;
  done: (m: Ending) => void;
  lost: (why: string) => void;
}

/** The host itself is killed this long after SIGTERM when it does not exit (it holds no query of its own). */
const HOST_KILL_AFTER_MS = 3000;
/** A lost worker's pid is polled this often until it is gone... */
const EXIT_POLL_MS = 100;
/** ...and given up on this long after SIGKILL (it is then the kernel's to reap). */
const EXIT_WAIT_AFTER_KILL_MS = 10_000;

/**
 * The Python interpreter behind a dbt-core entry-point script: its `#!` line, or the `exec` line pip writes when
 * that path is too long or has spaces. Undefined when it cannot be told.
 */
export function pythonOf(dbtPath: string, env: Record<string, string | undefined>): string | undefined {
  let head: string;
  try {
    head = readFileSync(dbtPath, { encoding: 'latin1' }).slice(0, 4096);
  } catch {
    return undefined;
  }
  const lines = head.split('\n');
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(lines[0] ?? '');
  if (!shebang) return undefined;
  const pipExec = /^'''exec' (?:"([^"]+)"|'([^']+)'|(\S+)) "\$0"/m.exec(head);
  if (pipExec) return pipExec[1] ?? pipExec[2] ?? pipExec[3];
  const [, interp, arg] = shebang;
  if (/python/.test(interp)) return interp;
  if (interp.endsWith('/env') && arg !== undefined && /python/.test(arg)) {
    if (isAbsolute(arg)) return arg;
    for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, arg))) return join(dir, arg);
  }
  return undefined;
}

export interface HostStart {
  python: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** The host's own diagnostics (stderr lines). */
  log?: (line: string) => void;
  /** How long importing dbt may take before the host is given up. */
  readyTimeoutMs?: number;
  /** Overrides HOST_SCRIPT (tests). */
  script?: string;
}

export class DbtHost {
  readonly pid: number;
  /** Seconds the host took to import dbt. */
  readonly importSeconds: number;
  /** Set by the first parse that kept its manifest. */
  profile: ProfileFacts | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended: string | undefined;

  private constructor(
    private readonly proc: ResultPromise,
    ready: ReadyMessage,
  ) {
    this.pid = ready.pid;
    this.importSeconds = ready.seconds;
  }

  /** Starts the host and waits until dbt is imported; throws HostUnavailable with the reason otherwise. */
  static async start(o: HostStart): Promise<DbtHost> {
    const proc = execa(o.python, [o.script ?? HOST_SCRIPT], {
      cwd: o.cwd,
      env: childEnv(o.env),
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      killDescendants: true,
      forceKillAfterDelay: HOST_KILL_AFTER_MS,
    });
    let host: DbtHost | undefined;
    const errTail: string[] = [];
    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      const frames = new FrameReader((f) => {
        if (host !== undefined) return host.frame(f);
        if (f.kind !== 'M') return;
        const m = f.message;
        if (m.event === 'ready') resolve(m);
        else reject(new HostUnavailable(('error' in m ? m.error : undefined) ?? `unexpected first message ${m.event}`));
      });
      proc.stdout?.on('data', (b: Buffer) => frames.push(b));
      let errLine = '';
      proc.stderr?.on('data', (b: Buffer) => {
        const lines = (errLine + b.toString('utf8')).split('\n');
        errLine = lines.pop() ?? '';
        for (const l of lines) {
          errTail.push(l);
          if (errTail.length > 20) errTail.shift();
          o.log?.(`worker host: ${l}`);
        }
      });
      void proc.then((r) => {
        const why = spawnErrorOf(r) ?? `it exited with ${r.exitCode ?? r.signal}`;
        const detail = errTail
          .filter((l) => l.trim() !== '')
          .slice(-3)
          .join(' | ');
        if (host === undefined) reject(new HostUnavailable(`${why}${detail ? `: ${detail}` : ''}`));
        else host.lose(`the worker host ${why}${detail ? `: ${detail}` : ''}`);
      });
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), o.readyTimeoutMs ?? 120_000);
    try {
      const m = await ready;
      host = new DbtHost(proc, m);
      return host;
    } catch (e) {
      proc.kill('SIGKILL');
      throw e instanceof HostUnavailable ? e : new HostUnavailable(e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs a dbt command inside the host (deps, parse, ls); `keepManifest` keeps what a parse returns for the workers,
   * and `linkFor` (the command they will run) has the host link its graph for them once, after answering.
   * `stateAhead`: the selection's state the `ls` after this parse reads, read by the host meanwhile.
   */
  invoke(o: DbtInvocation, keepManifest = false, linkFor?: string, stateAhead?: StateAhead): Promise<DbtRunOutcome> {
    return this.request(
      o,
      (id) => ({
        op: 'invoke',
        argv: o.argv,
        keep_manifest: keepManifest,
        id,
        ...(linkFor ? { link_for: linkFor } : {}),
        ...(stateAhead ? { state_ahead: stateAhead } : {}),
      }),
      true,
    );
  }

  /** Runs a dbt command in a worker forked from the host, with the parsed manifest. */
  fork(o: DbtInvocation): Promise<DbtRunOutcome> {
    const share = o.share;
    if (share === undefined) return this.request(o, (id) => ({ op: 'fork', argv: o.argv, id }));
    const unsubscribe: (() => void)[] = [];
    // Subscribed in the same tick as the fork request: no status can fall between `known` and the subscription.
    const outcome = this.request(
      o,
      (id) => ({ op: 'fork', argv: o.argv, share: shareSpecOf(share), id }),
      false,
      (id) => {
        unsubscribe.push(share.subscribe((uid, status) => this.send({ op: 'notify', id, done: [[uid, status]] })));
        if (share.subscribeDrops)
          unsubscribe.push(share.subscribeDrops((dropped) => this.send({ op: 'notify', id, done: [], dropped })));
      },
    );
    return outcome.finally(() => unsubscribe.forEach((u) => u()));
  }

  /** The fork path as a launcher for the chunk runner. */
  launcher(): DbtLauncher {
    return (o) => this.fork(o);
  }

  /**
   * Whether forking is safe now (a parsed manifest, no extra threads), the reason when it is not, and whether this
   * dbt's queue internals allow gated workers (nodes that wait for other workers inside dbt).
   */
  async forkCheck(): Promise<{ ok: boolean; why: string; gate: boolean }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (m: Ending): void =>
        resolve(
          m.event === 'fork_check'
            ? { ok: m.ok, why: m.why, gate: m.gate }
            : { ok: false, why: m.error ?? '', gate: false },
        );
      this.pending.set(id, {
        output: new DbtOutput({}),
        done,
        lost: (why) => resolve({ ok: false, why, gate: false }),
      });
      this.send({ op: 'fork_check', id });
    });
  }

  /** Ends the host: it interrupts what still runs, then exits. */
  async close(): Promise<void> {
    if (this.ended === undefined) {
      this.send({ op: 'shutdown' });
      this.proc.stdin?.end();
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.proc;
    clearTimeout(timer);
  }

  /** `inProcess`: the host itself runs it and reads no request meanwhile, so stopping it means ending the host. */
  private request(
    o: DbtInvocation,
    req: (id: number) => HostRequest,
    inProcess = false,
    onSent?: (id: number) => void,
  ): Promise<DbtRunOutcome> {
    const started = Date.now();
    const id = this.nextId++;
    const output = new DbtOutput(o);
    let timedOut = false;
    let cancelled = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    return new Promise<DbtRunOutcome>((resolve) => {
      const onNotice = o.share?.onNotice;
      const notices = onNotice && new NoticeReader(onNotice);
      const pending: Pending = { output, notices, done: () => {}, lost: () => {} };
      const kill = (sig: 'INT' | 'KILL'): void => {
        if (inProcess) this.proc.kill('SIGKILL');
        else if (this.ended === undefined) this.send({ op: 'signal', id, sig });
        else if (pending.pid !== undefined) signalPid(pending.pid, sig === 'KILL' ? 'SIGKILL' : 'SIGINT');
      };
      const interrupt = (): void => {
        kill('INT');
        timers.push(setTimeout(() => kill('KILL'), o.graceMs ?? DEFAULT_GRACE_MS));
      };
      const onCancel = (): void => {
        cancelled = true;
        interrupt();
      };
      const onKill = (): void => kill('KILL');
      const finish = (
        m: { code?: number | null; signal?: string | null; error?: string; cpu?: number },
        lost?: string,
      ): void => {
        for (const t of timers) clearTimeout(t);
        o.signal?.removeEventListener('abort', onCancel);
        o.killSignal?.removeEventListener('abort', onKill);
        this.pending.delete(id);
        output.end();
        notices?.end();
        resolve({
          exitCode: m.code ?? undefined,
          signal: m.signal ?? undefined,
          timedOut,
          cancelled,
          durationMs: Date.now() - started,
          tail: output.tail,
          spawnError: m.error,
          lost,
          cpuSeconds: m.cpu,
        });
      };
      pending.done = (m) => finish(m.event === 'fork_check' ? {} : m);
      pending.lost = (why) => {
        // The host died: its workers got SIGINT from the kernel (parent-death signal). Wait until they are gone.
        const pid = pending.pid;
        if (pid === undefined) return finish({}, why);
        void waitForExit(pid, o.graceMs ?? DEFAULT_GRACE_MS).then(() => finish({}, why));
      };
      this.pending.set(id, pending);
      if (this.ended !== undefined) return pending.lost(this.ended);
      if (o.timeoutMs !== undefined)
        timers.push(
          setTimeout(() => {
            timedOut = true;
            interrupt();
          }, o.timeoutMs),
        );
      if (o.signal?.aborted) onCancel();
      else o.signal?.addEventListener('abort', onCancel, { once: true });
      if (o.killSignal?.aborted) onKill();
      else o.killSignal?.addEventListener('abort', onKill, { once: true });
      this.send(req(id));
      onSent?.(id);
    });
  }

  private frame(f: Frame): void {
    const p = this.pending.get(f.id);
    if (p === undefined) return;
    if (f.kind === 'O') p.output.stdout(f.bytes);
    else if (f.kind === 'E') p.output.stderr(f.bytes);
    else if (f.kind === 'N') p.notices?.push(f.bytes);
    else {
      const m = f.message;
      if (m.event === 'started') p.pid = m.pid;
      if (m.event === 'exit' && m.profile !== undefined && Object.keys(m.profile).length > 0) this.profile = m.profile;
      if (m.event === 'exit' || m.event === 'fork_check' || m.event === 'error') p.done(m);
    }
  }

  private lose(why: string): void {
    this.ended = why;
    for (const p of [...this.pending.values()]) p.lost(why);
  }

  private send(req: HostRequest): void {
    if (this.ended !== undefined || this.proc.stdin?.writable !== true) return;
    this.proc.stdin.write(encodeRequest(req));
  }
}

/** A WorkerShare as the fork request carries it. */
export function shareSpecOf(share: WorkerShare): ShareSpec {
  return {
    nodes: share.runNodes,
    start: share.start,
    end: share.end,
    results: share.results,
    waits_for: share.waitsFor,
    known: share.known,
    ...(share.pool !== undefined ? { pool: share.pool } : {}),
  };
}

function signalPid(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone; after graceMs it is killed. */
async function waitForExit(pid: number, graceMs: number): Promise<void> {
  const started = Date.now();
  let killed = false;
  while (signalPid(pid, 0)) {
    if (!killed && Date.now() - started > graceMs) {
      signalPid(pid, 'SIGKILL');
      killed = true;
    }
    if (Date.now() - started > graceMs + EXIT_WAIT_AFTER_KILL_MS) return;
    await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
  }
}
