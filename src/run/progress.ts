// Live progress while the chunks run: a tracker fed with dbt's result events and chunk starts/ends that
// returns lines such as `[ 412/1730 ] 3 chunks running · 2 failed · 03:12 elapsed · ~01:40 left`, and
// decides when one is due. Pure: every time is passed in; printing is the caller's.
import { nodeResultOf, type NodeEventResult } from '../dbt/events.js';
import type { DbtLogEvent } from '../dbt/events.js';
import { bucketOf, isFailure, type Bucket } from '../dbt/statuses.js';

export interface ProgressOptions {
  /** Every node the run will report (the plan's nodes). Events for other nodes are ignored. */
  nodes: Iterable<string>;
  /** When "elapsed" starts (epoch ms); default: the first chunk's start. */
  startedAt?: number;
  /** Names a node for failure lines (e.g. from the manifest: type, name, file relative to the repository). */
  describe?: (uid: string) => NodeLabel | undefined;
  /** Predicted seconds per node: the estimate of time left weighs what is done by it (default: 1 each). */
  weight?: (uid: string) => number;
  /** A line at least this often while nodes finish (default 10 s)… */
  everyMs?: number;
  /** …or after this share of the nodes (default 5 %), but not closer than minGapMs (default 2 s)… */
  everyFraction?: number;
  minGapMs?: number;
  /** …and one this often even when nothing finished, to show the run is alive (default 60 s). */
  heartbeatMs?: number;
}

export interface NodeLabel {
  resourceType?: string;
  name?: string;
  file?: string;
}

export interface ProgressState {
  done: number;
  total: number;
  counts: Record<Bucket, number>;
  running: number;
  elapsedMs: number;
  /** Estimated ms left; undefined until something has finished. */
  leftMs?: number;
}

export interface Printed {
  at: number;
  done: number;
}

export class ProgressTracker {
  private readonly planned: Set<string>;
  private readonly weight: (uid: string) => number;
  private readonly totalWeight: number;
  private readonly finished = new Map<string, Bucket>();
  private readonly running = new Set<string>();
  private doneWeight = 0;
  private firstStart: number | undefined;
  private last: Printed | undefined;
  private readonly counts: Record<Bucket, number> = { passed: 0, failed: 0, warned: 0, errored: 0, skipped: 0 };

  constructor(private readonly o: ProgressOptions) {
    this.planned = new Set(o.nodes);
    this.weight = (uid) => Math.max(0, o.weight?.(uid) ?? 1);
    let w = 0;
    for (const u of this.planned) w += this.weight(u);
    this.totalWeight = w;
  }

  chunkStarted(name: string, at: number): void {
    this.running.add(name);
    if (this.firstStart === undefined) this.firstStart = at;
  }

  /**
   * A chunk ended; its results (run_results.json entries, stand-ins included) settle what no event announced.
   * Returns a failure line for each failure only learnt now (a crash, a timeout).
   */
  chunkEnded(
    name: string,
    _at: number,
    results: { unique_id: string; status: string; execution_time?: number; message?: string | null }[] = [],
  ): string[] {
    this.running.delete(name);
    const lines: string[] = [];
    for (const r of results) {
      const status = r.status;
      if (!this.nodeFinished(r.unique_id, status)) continue;
      const b = bucketOf(status);
      if (isFailure(b)) {
        const why = (r.message ?? '')
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim();
        lines.push(
          failureLine(
            name,
            { uid: r.unique_id, status, seconds: r.execution_time || undefined },
            this.o.describe?.(r.unique_id),
          ) + (why ? ` — ${why}` : ''),
        );
      }
    }
    return lines;
  }

  /** Counts a node's final status once; true when it was new. */
  nodeFinished(uid: string, status: string): boolean {
    if (!this.planned.has(uid) || this.finished.has(uid)) return false;
    const b = bucketOf(status);
    this.finished.set(uid, b);
    this.counts[b]++;
    this.doneWeight += this.weight(uid);
    return true;
  }

  /**
   * Feeds one dbt JSON log event of a chunk. Returns a line to print at once when it announces a failure or an
   * error, so failures show as they happen, not only at the end.
   */
  event(chunk: string, ev: DbtLogEvent): string | undefined {
    const r = nodeResultOf(ev);
    if (r === undefined || !this.nodeFinished(r.uid, r.status)) return undefined;
    const b = bucketOf(r.status);
    if (b !== 'failed' && b !== 'errored') return undefined;
    const failures = typeof ev.data.num_failures === 'number' ? ev.data.num_failures : undefined;
    const label = this.o.describe?.(r.uid) ?? {
      resourceType: ev.data.node_info?.resource_type,
      name: ev.data.node_info?.node_name,
    };
    return failureLine(chunk, r, { ...label, failures });
  }

  state(now: number): ProgressState {
    const start = this.o.startedAt ?? this.firstStart ?? now;
    const done = this.finished.size;
    const s: ProgressState = {
      done,
      total: this.planned.size,
      counts: { ...this.counts },
      running: this.running.size,
      elapsedMs: Math.max(0, now - start),
    };
    // Time left: the run phase so far, scaled by the (weighted) share still to do.
    const runMs = this.firstStart !== undefined ? Math.max(0, now - this.firstStart) : 0;
    const f = this.totalWeight > 0 ? this.doneWeight / this.totalWeight : done / Math.max(1, s.total);
    if (done >= s.total) s.leftMs = 0;
    else if (f > 0 && runMs > 0) s.leftMs = (runMs * (1 - f)) / f;
    return s;
  }

  line(now: number): string {
    return progressLine(this.state(now));
  }

  /** The progress line when one is due (and remembers it was printed), else undefined. */
  take(now: number): string | undefined {
    const done = this.finished.size;
    if (!progressDue(this.last, now, done, this.planned.size, this.o)) return undefined;
    this.last = { at: now, done };
    return this.line(now);
  }
}

/**
 * Whether a progress line is due: the first once a node finished; then every `everyMs` while nodes finish,
 * after each `everyFraction` of the nodes (at most every `minGapMs`), on completion, and every `heartbeatMs`
 * even when nothing moved.
 */
export function progressDue(
  last: Printed | undefined,
  now: number,
  done: number,
  total: number,
  o: Pick<ProgressOptions, 'everyMs' | 'everyFraction' | 'minGapMs' | 'heartbeatMs'> = {},
): boolean {
  const every = o.everyMs ?? 10_000;
  const step = Math.max(1, Math.ceil(total * (o.everyFraction ?? 0.05)));
  const gap = o.minGapMs ?? 2_000;
  const heartbeat = o.heartbeatMs ?? 60_000;
  if (last === undefined) return done > 0;
  const since = now - last.at;
  if (done === last.done) return since >= heartbeat;
  if (done >= total) return true;
  if (since >= every) return true;
  return done - last.done >= step && since >= gap;
}

/** `[ 412/1730 ] 3 chunks running · 2 failed · 03:12 elapsed · ~01:40 left` */
export function progressLine(s: ProgressState): string {
  const width = String(s.total).length;
  const parts = [
    `${s.running} chunk${s.running === 1 ? '' : 's'} running`,
    `${s.counts.failed + s.counts.errored} failed`,
  ];
  if (s.counts.skipped > 0) parts.push(`${s.counts.skipped} skipped`);
  if (s.counts.warned > 0) parts.push(`${s.counts.warned} warned`);
  parts.push(`${clock(s.elapsedMs)} elapsed`);
  if (s.leftMs !== undefined && s.done < s.total) parts.push(`~${clock(s.leftMs)} left`);
  return `[ ${String(s.done).padStart(width)}/${s.total} ] ${parts.join(' · ')}`;
}

/** One line for a failure as it happens: `✖ chunk-2 · model order_unit_margin (models/x.sql): error in 0.05 s` */
export function failureLine(
  chunk: string,
  r: Pick<NodeEventResult, 'uid' | 'seconds'> & { status: string },
  n: NodeLabel & { failures?: number } = {},
): string {
  const what = [n.resourceType ?? r.uid.split('.')[0], n.name ?? r.uid.split('.').slice(2).join('.')]
    .filter(Boolean)
    .join(' ');
  const where = n.file ? ` (${n.file})` : '';
  const rows =
    n.failures !== undefined && bucketOf(r.status) === 'failed'
      ? `, ${n.failures} failing row${n.failures === 1 ? '' : 's'}`
      : '';
  const time = r.seconds !== undefined ? ` in ${r.seconds.toFixed(2)} s` : '';
  return `✖ ${chunk} · ${what}${where}: ${r.status}${rows}${time}`;
}

/** 03:12, or 1:03:12 past an hour. */
export function clock(ms: number): string {
  const t = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
