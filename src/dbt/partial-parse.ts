// A saved partial parse (dbt's target/partial_parse.msgpack) as the start of the action's parse, and what dbt did
// with it. dbt itself decides whether the file fits (dbt-core parser/manifest.py read_manifest_for_partial_parse and
// is_partial_parsable: the dbt version, --vars/--profile/--target, the profile's contents, env vars used in
// dbt_project.yml, each project's config) and re-parses only the files whose checksums changed; when it does not fit,
// dbt parses cold and says why in an UnableToPartialParse event. The action never second-guesses that: it copies the
// file to where dbt reads it and reads dbt's verdict from the parse's JSON log file.
import { copyFileSync, existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PARTIAL_PARSE_FILE = 'partial_parse.msgpack';

/** What the parse started from, and what dbt made of it. */
export type SavedParseUse =
  /** No saved parse: a cold parse, as plain dbt's would be. `looked` is where the action looked. */
  | { kind: 'none'; looked: string }
  /** dbt reused it: only the files that changed were parsed again (counts from PartialParsingEnabled, I040). */
  | { kind: 'reused'; from: string; changedFiles?: number }
  /** dbt did not use it and parsed cold, for this reason (UnableToPartialParse I024 / ParsedFileLoadFailed I029). */
  | { kind: 'rejected'; from: string; reason: string };

/** The dbt event names read here, as dbt-core 1.8–1.12 fire them (events/types.py). */
const UNABLE = 'UnableToPartialParse';
const LOAD_FAILED = 'ParsedFileLoadFailed';
const ENABLED = 'PartialParsingEnabled';

/**
 * Puts `saved` (a partial_parse.msgpack, or a folder holding one) where dbt reads it for a parse into `targetPath`.
 * Returns the file copied, or undefined when there is none.
 */
export function seedPartialParse(saved: string, targetPath: string): string | undefined {
  const file = existsSync(saved) && statSync(saved).isDirectory() ? join(saved, PARTIAL_PARSE_FILE) : saved;
  if (!existsSync(file) || !statSync(file).isFile()) return undefined;
  mkdirSync(targetPath, { recursive: true });
  copyFileSync(file, join(targetPath, PARTIAL_PARSE_FILE));
  return file;
}

/** Bytes in a file now (0 when absent): where the next invocation's lines in a shared log file start. */
export function logOffset(logFile: string): number {
  return existsSync(logFile) ? statSync(logFile).size : 0;
}

/**
 * What dbt did with the saved parse `from`, from the JSON events an invocation wrote to `logFile` after `offset`
 * (parse and ls run with `--log-format-file json`; other lines, e.g. deps' text lines before them, are skipped).
 */
export function savedParseOutcome(from: string, logFile: string, offset: number): SavedParseUse {
  let reason: string | undefined;
  let changedFiles: number | undefined;
  for (const line of readFrom(logFile, offset).split('\n')) {
    if (!line.startsWith('{')) continue;
    let ev: { info?: { name?: unknown }; data?: Record<string, unknown> };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      continue;
    }
    const name = ev.info?.name;
    if (name === UNABLE && reason === undefined)
      reason = typeof ev.data?.reason === 'string' ? ev.data.reason : 'dbt did not say why';
    else if (name === LOAD_FAILED && reason === undefined)
      reason = `the file could not be read (${String(ev.data?.exc ?? 'no detail').split('\n')[0]})`;
    else if (name === ENABLED)
      changedFiles = ['added', 'deleted', 'changed'].reduce((n, k) => n + (Number(ev.data?.[k]) || 0), 0);
  }
  if (reason !== undefined) return { kind: 'rejected', from, reason };
  return { kind: 'reused', from, ...(changedFiles !== undefined ? { changedFiles } : {}) };
}

function readFrom(file: string, offset: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** One line for the log and the summary. */
export function describeSavedParse(u: SavedParseUse, relative: (path: string) => string): string {
  switch (u.kind) {
    case 'none':
      return `no saved partial parse at ${relative(u.looked)}: a cold parse, as plain dbt's`;
    case 'reused':
      return `from the saved partial parse ${relative(u.from)}${u.changedFiles !== undefined ? `, ${u.changedFiles} file${u.changedFiles === 1 ? '' : 's'} parsed again` : ''}`;
    case 'rejected':
      return `cold: dbt did not use the saved partial parse ${relative(u.from)} because ${u.reason}`;
  }
}
