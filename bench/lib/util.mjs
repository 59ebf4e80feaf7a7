// Small helpers every part of the benchmark uses: rounding, the median, its stderr log line, JSON files, copies.
import { cpSync, readFileSync, rmSync } from 'node:fs';

/**
 * x rounded to d decimals; undefined, null and NaN pass through.
 * @template {number | undefined} T
 * @param {T} x
 * @param {number} [d]
 * @returns {T}
 */
export const round = (x, d = 1) =>
  /** @type {T} */ (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** d) / 10 ** d);

/**
 * The median of the finite values (the mean of the middle two for an even count); undefined when there is none.
 * @param {number[]} xs
 */
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/**
 * Several runs of one measure as one row: the run with the median wall (the lower middle one for an even count),
 * with the median of every wall as its wall and, when there were several, every wall (to 0.01 s).
 * @template {{ wall: number }} T
 * @param {T[]} runs  at least one
 * @returns {T & { walls?: number[] }}
 */
export function medianRun(runs) {
  const sorted = [...runs].sort((x, y) => x.wall - y.wall);
  /** @type {T & { walls?: number[] }} */
  const v = { ...sorted[Math.floor((sorted.length - 1) / 2)] };
  if (runs.length > 1) {
    v.walls = runs.map((x) => round(x.wall, 2));
    v.wall = median(runs.map((x) => x.wall)) ?? v.wall;
  }
  return v;
}

/** One progress line on stderr. @param {string} msg */
export const log = (msg) => console.error(`bench: ${msg}`);

/** @param {unknown} e */
export const errorText = (e) => (e instanceof Error ? e.message : String(e));

/**
 * A JSON file, or undefined when it is missing or unreadable.
 * @param {string} path
 * @returns {any}
 */
export function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A fresh copy of a dbt project without its target/ and logs/ (a cold parse, as on a fresh CI checkout).
 * @param {string} src
 * @param {string} dest
 */
export function copyProject(src, dest) {
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !/[/\\](target|logs)([/\\]|$)/.test(p.slice(src.length)) });
  return dest;
}
