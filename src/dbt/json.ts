// What the readers of dbt's JSON files (run-results.ts, manifest.ts) share: reading the text, parsing it, and the
// checks of a parsed value. Every problem is one DbtArtifactError line naming the file.
import { readFileSync } from 'node:fs';
import { DbtArtifactError } from './errors.js';

/** The parsed JSON of a file; one line naming it when it cannot be read or is not JSON. */
export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DbtArtifactError(`cannot read ${path} (${firstLine(e)})`);
  }
  return parseJson(text, path);
}

/** Parsed JSON; `source` names the text in the error. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DbtArtifactError(`${source} is not JSON (${firstLine(e)})`);
  }
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isStrings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

export function isNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function isNullOr(x: unknown, type: 'string' | 'number'): boolean {
  return x === null || typeof x === type;
}

/** An error's first line (fs errors may come from another realm: not `instanceof Error`, still with a message). */
function firstLine(e: unknown): string {
  const m = typeof e === 'object' && e !== null && 'message' in e ? e.message : e;
  return String(m).split('\n')[0];
}
