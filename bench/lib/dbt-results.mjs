// What dbt left behind, read the same way for every variant: node statuses from run_results.json (and whether a
// variant built the same as one dbt), and a dbt process's first node START from its JSON log lines.
import { readFileSync } from 'node:fs';
import { readJson } from './util.mjs';

/**
 * unique_id -> list of statuses (a node run by two processes appears twice).
 * @param {string[]} runResultsFiles
 * @returns {Map<string, { status: string, message?: string }[]>}
 */
export function statusesOf(runResultsFiles) {
  const out = new Map();
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? [])
      (out.get(r.unique_id) ?? out.set(r.unique_id, []).get(r.unique_id)).push({
        status: String(r.status),
        message: r.message,
      });
  }
  return out;
}

/** The statuses of a node that built or passed. */
export const OK = new Set(['success', 'pass']);
/**
 * Compares a variant's statuses with the single process's: is it the same build?
 * @param {Map<string, { status: string, message?: string }[]>} reference
 * @param {Map<string, { status: string, message?: string }[]>} got
 */
export function compare(reference, got) {
  /** @type {{ missing: number, notOk: number, duplicates: number, extra: number, byStatus: Record<string, number>, example?: string, correct?: boolean, text?: string }} */
  const diff = { missing: 0, notOk: 0, duplicates: 0, extra: 0, byStatus: {}, example: undefined };
  for (const [uid, ref] of reference) {
    const g = got.get(uid);
    if (!g) {
      diff.missing++;
      continue;
    }
    if (g.length > 1) diff.duplicates += g.length - 1;
    const bad = g.find((x) => !OK.has(x.status));
    if (bad && OK.has(ref[0].status)) {
      diff.notOk++;
      diff.byStatus[bad.status] = (diff.byStatus[bad.status] ?? 0) + 1;
      if (!diff.example && bad.message)
        diff.example = `${uid}: ${
          String(bad.message)
            .split('\n')
            .find((l) => l.trim()) ?? ''
        }`.slice(0, 220);
    }
  }
  for (const uid of got.keys()) if (!reference.has(uid)) diff.extra++;
  diff.correct = diff.missing === 0 && diff.notOk === 0 && diff.duplicates === 0 && diff.extra === 0;
  const parts = [];
  if (diff.notOk)
    parts.push(
      Object.entries(diff.byStatus)
        .map(([s, k]) => `${k} ${s}`)
        .join(', '),
    );
  if (diff.missing) parts.push(`${diff.missing} not run`);
  if (diff.duplicates) parts.push(`${diff.duplicates} run twice`);
  if (diff.extra) parts.push(`${diff.extra} extra`);
  diff.text = diff.correct ? 'same as one dbt' : `wrong: ${parts.join('; ')}`;
  return diff;
}

/**
 * Epoch ms of a dbt process's first node START, from its JSON log lines (`--log-format json`: the LogStartLine
 * event, "N of M START …", with a µs timestamp); falls back to the first node's timing in run_results.json.
 * @param {string} logFile
 * @param {string[]} runResultsFiles
 * @returns {{ at: number, source: string } | undefined}
 */
export function firstNodeStartAt(logFile, runResultsFiles) {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes(' START ')) continue;
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      if (ev?.info?.name === 'LogStartLine' || /^\d+ of \d+ START /.test(ev?.info?.msg ?? '')) {
        const at = parseDbtTs(ev.info.ts);
        if (at !== undefined) return { at, source: 'dbt JSON log (LogStartLine)' };
      }
    }
  } catch {
    /* no log */
  }
  let first = Infinity;
  for (const f of runResultsFiles) {
    for (const r of readJson(f)?.results ?? []) {
      for (const tm of r.timing ?? [])
        if (tm.started_at) first = Math.min(first, parseDbtTs(tm.started_at) ?? Infinity);
    }
  }
  return Number.isFinite(first) ? { at: first, source: 'run_results.json timing' } : undefined;
}

/**
 * dbt's timestamps: ISO 8601 with µs, with or without the Z.
 * @param {string | undefined} ts
 */
export function parseDbtTs(ts) {
  if (!ts) return undefined;
  const norm = ts.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(/Z$|[+-]\d\d:\d\d$/.test(norm) ? norm : `${norm}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}
