// The worker host's wire format, the TypeScript side: worker_host.py's TypedDicts say the same (one type per request,
// message and notice, narrowed by its `op` / `event` / `notice` tag), and test/host-protocol.test.ts drives the real
// Python framing against this module. Shapes are trusted by that contract, not checked field by field at run time.
//
// - stdin (action → host): one JSON request per line (HostRequest).
// - stdout (host → action): frames. Header: kind (1 byte), id (uint32 BE: the invocation, 0 for the host itself),
//   payload length (uint32 BE); then the payload. Kind M: a JSON message (HostMessage); O / E: bytes of an
//   invocation's stdout / stderr; N: bytes of a forked worker's notice lines (one JSON WorkerNotice per line).
// - The worker's control pipe (host → worker, Python on both ends) carries what a notify request says: one
//   "<PeerStatus> <unique_id>" line per final status, and "D <json>" lines of dropped relations.
import { LineSplitter } from './lines.js';

export const FRAME_HEADER_BYTES = 9;

export type FrameKind = 'M' | 'O' | 'E' | 'N';

/** One decoded frame: a message, or a slice of an invocation's stdout (O) or stderr (E) or of a worker's notice lines (N). */
export type Frame = { kind: 'M'; id: number; message: HostMessage } | ByteFrame<'O'> | ByteFrame<'E'> | ByteFrame<'N'>;
type ByteFrame<K extends FrameKind> = { kind: K; id: number; bytes: Buffer };

/** The pseudo node whose final status says that the run's on-run-start hooks have run (blocking: they failed). */
export const START_UID = 'parallel-dbt:on-run-start';

/**
 * What a worker needs of another invocation's final status (the control pipe's first character): 0 it succeeded
 * (what it builds exists), 1 it blocks downstream (dbt skips what follows), 2 it did not succeed but blocks nothing
 * (a model with `on_error: continue`). For START_UID: 0 on-run-start passed, 1 it failed.
 */
export type PeerStatus = 0 | 1 | 2;

/** A relation as a worker's cache keys it: [database, schema, identifier], lower-cased by dbt. */
export type CachedRelationKey = [string | null, string, string];

// ---- requests (stdin) ------------------------------------------------------------------------------------------

/**
 * Runs dbt in the host itself (deps, parse, ls); `keep_manifest`: a parse whose manifest the workers start from;
 * `link_for`: the command they will run, whose graph the host links once after answering (worker_host.py LinkedGraph).
 */
export interface InvokeRequest {
  op: 'invoke';
  argv: string[];
  keep_manifest: boolean;
  id: number;
  link_for?: string;
  /** The selection's state an `ls` after this parse reads: the host reads it meanwhile (worker_host.py StateReadAhead). */
  state_ahead?: StateAhead;
}
/**
 * What dbt's PreviousState is made of (the --state folder, the --target-path, the project's folder), and the folder
 * the host's reader writes into (the action's own: its next run removes what a killed host left there).
 */
export interface StateAhead {
  state: string;
  target: string;
  project_root: string;
  dir: string;
}
/** Forks a worker that runs dbt with the parsed manifest; `share`: it is one of several invocations of one run. */
export interface ForkRequest {
  op: 'fork';
  argv: string[];
  share?: ShareSpec;
  id: number;
}
/** Final statuses of other invocations' nodes (and relations their caches dropped), for worker `id`'s control pipe. */
export interface NotifyRequest {
  op: 'notify';
  id: number;
  done: [string, PeerStatus][];
  dropped?: CachedRelationKey[];
}
/** Interrupts (INT: dbt cancels its queries and writes its results) or kills a forked worker. */
export interface SignalRequest {
  op: 'signal';
  id: number;
  sig: 'INT' | 'KILL';
}
/** Asks whether forking is safe now; answered by a fork_check message. */
export interface ForkCheckRequest {
  op: 'fork_check';
  id: number;
}
/** Ends the host: it interrupts what still runs, then exits. */
export interface ShutdownRequest {
  op: 'shutdown';
}
export type HostRequest =
  InvokeRequest | ForkRequest | NotifyRequest | SignalRequest | ForkCheckRequest | ShutdownRequest;

/** A worker's part in a run of several invocations (worker_host.py SharedRun; process.ts WorkerShare says what each means). */
export interface ShareSpec {
  nodes: string[];
  start: 'run' | 'wait' | 'skip';
  end: 'run' | 'skip';
  results?: string;
  waits_for?: Record<string, string[]>;
  known: [string, PeerStatus][];
  pool?: PoolSpec;
}

/**
 * Workers that take the run's ready nodes from one pool (worker_host.py WorkPool): the folder where each node is
 * claimed, and this worker's name there (its claims log is `<claims>/<worker>.claims`, one unique_id per line).
 */
export interface PoolSpec {
  claims: string;
  worker: string;
  /** This worker's rank (0-based) among the run's `workers`. */
  rank: number;
  workers: number;
  /** Node slots shared by every worker (at most this many nodes at once in all); 0: each worker up to its threads. */
  slots: number;
  /** Workers that take nodes from the start; the others join when the active ones are measured CPU-bound. */
  active: number;
}

/** One request as the host reads it: a line of JSON. */
export function encodeRequest(req: HostRequest): string {
  return `${JSON.stringify(req)}\n`;
}

// ---- messages (frames of kind M) -------------------------------------------------------------------------------

/** What the host's parse learnt of the profile (dbt's own reading of profiles.yml). */
export interface ProfileFacts {
  threads?: number;
  adapter_type?: string;
  /** A DuckDB database path. */
  path?: string;
  /** The warehouse host, where the adapter has one. */
  host?: string;
  error?: string;
}

/** The host imported dbt (frame id 0). */
export interface ReadyMessage {
  event: 'ready';
  pid: number;
  seconds: number;
}
/** The host could not import dbt (frame id 0); it exits. */
export interface FailedMessage {
  event: 'failed';
  error: string;
}
/** A forked worker runs. */
export interface StartedMessage {
  event: 'started';
  id: number;
  pid: number;
}
/**
 * An invocation ended (every invoke and fork ends with one). An invoke adds its `seconds` and the `profile` facts
 * of a kept parse (`{}` otherwise); a fork the host refused says why in `error`; a forked worker its `cpu` seconds
 * (user + system, every thread: the kernel's rusage when the host reaped it).
 */
export interface ExitMessage {
  event: 'exit';
  id: number;
  code: number | null;
  signal: string | null;
  seconds?: number;
  profile?: ProfileFacts;
  error?: string;
  cpu?: number;
}
/** The answer to fork_check: `gate` says whether this dbt's queue internals allow gated workers. */
export interface ForkCheckMessage {
  event: 'fork_check';
  id: number;
  ok: boolean;
  why: string;
  gate: boolean;
}
/** A request the host does not know. */
export interface ErrorMessage {
  event: 'error';
  id: number;
  error: string;
}
export type HostMessage = ReadyMessage | FailedMessage | StartedMessage | ExitMessage | ForkCheckMessage | ErrorMessage;

export function decodeMessage(payload: Buffer): HostMessage {
  return JSON.parse(payload.toString('utf8')) as HostMessage;
}

// ---- notices (frames of kind N) --------------------------------------------------------------------------------

/**
 * A notice a forked worker sends about itself (worker_host.py SharedRun.notice): its on-run-start has run (the
 * start worker), it is past its start-up and its queue runs what is ready, or its cache dropped relations.
 */
export type WorkerNotice =
  | { notice: 'started'; ok: boolean }
  /** Past its start-up (cpu: the CPU seconds it took), its queue runs what is ready. */
  | { notice: 'running'; cpu?: number }
  | { notice: 'dropped'; relations: CachedRelationKey[] }
  /** A pooled worker measured its dbt CPU-bound (load: cores used) with ready nodes waiting: `workers` take nodes now. */
  | { notice: 'grew'; workers: number; load: number; cpu_per_node?: number }
  /**
   * A pooled worker's measure of its own dbt when its ended nodes reach 10, 20, 40, …: those nodes, and its CPU
   * seconds since its first node over them.
   */
  | { notice: 'measured'; nodes: number; cpu_per_node: number };

/** Turns a worker's notice bytes (N frames, cut anywhere) into notices; a line that is not JSON is skipped. */
export class NoticeReader {
  private readonly lines: LineSplitter;
  constructor(onNotice: (n: WorkerNotice) => void) {
    this.lines = new LineSplitter((line) => {
      let n: WorkerNotice;
      try {
        n = JSON.parse(line) as WorkerNotice;
      } catch {
        return; // not a notice
      }
      onNotice(n);
    });
  }

  push(bytes: Buffer): void {
    this.lines.push(bytes);
  }

  end(): void {
    this.lines.end();
  }
}

// ---- framing ---------------------------------------------------------------------------------------------------

/** One frame as the host writes it (tests; the action only reads frames). */
export function encodeFrame(kind: FrameKind, id: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(body.length, 5);
  return Buffer.concat([head, body]);
}

const KINDS: ReadonlySet<string> = new Set<FrameKind>(['M', 'O', 'E', 'N']);

/** Splits the host's stdout into frames, however the stream is cut; a frame of an unknown kind is skipped. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let at = 0;
    while (this.buf.length - at >= FRAME_HEADER_BYTES) {
      const len = this.buf.readUInt32BE(at + 5);
      if (this.buf.length - at < FRAME_HEADER_BYTES + len) break;
      const kind = String.fromCharCode(this.buf[at]);
      const id = this.buf.readUInt32BE(at + 1);
      const payload = this.buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len);
      at += FRAME_HEADER_BYTES + len;
      if (kind === 'M') this.onFrame({ kind, id, message: decodeMessage(payload) });
      else if (KINDS.has(kind)) this.onFrame({ kind: kind as 'O' | 'E' | 'N', id, bytes: payload });
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }
}
