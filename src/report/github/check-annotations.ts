// Report annotations → Checks API annotation objects, validated up front so a batch is rarely refused.
import type { Annotation } from '../annotations.js';

/** What annotationsFor gives, plus the line numbers it may carry. */
export type SourceAnnotation = Annotation & { line?: number; endLine?: number };

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title?: string;
}

/** The Checks API takes at most 50 annotations per create/update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
const MESSAGE_LIMIT = 64 * 1024 - 1;
const TITLE_LIMIT = 255;

export interface PlacedAnnotations {
  annotations: CheckAnnotation[];
  /** Had no file in the repository and no fallback file: left to the summary. */
  unplaced: number;
}

/**
 * Maps annotations to the Checks API's shape. A node without a file in the repository (a package's node) goes
 * on `fallbackFile` (the project's dbt_project.yml) at line 1 when given, else it is left out (it is still in
 * the summary). Paths must be relative to the repository root; anything else falls back the same way.
 */
export function toCheckAnnotations(list: SourceAnnotation[], fallbackFile?: string): PlacedAnnotations {
  const annotations: CheckAnnotation[] = [];
  let unplaced = 0;
  for (const a of list) {
    const own = repoPath(a.file);
    const path = own ?? repoPath(fallbackFile);
    if (path === undefined) {
      unplaced++;
      continue;
    }
    const start = own !== undefined && validLine(a.line) ? Math.floor(a.line as number) : 1;
    const end = own !== undefined && validLine(a.endLine) && Math.floor(a.endLine as number) >= start ? Math.floor(a.endLine as number) : start;
    annotations.push({
      path,
      start_line: start,
      end_line: end,
      annotation_level: a.level === 'error' ? 'failure' : 'warning',
      message: cut(a.message.trim() === '' ? a.title : a.message, MESSAGE_LIMIT),
      title: cut(a.title, TITLE_LIMIT),
    });
  }
  return { annotations, unplaced };
}

/** Consecutive groups of at most `size`. */
export function batches<T>(items: T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function validLine(n: number | undefined): boolean {
  return typeof n === 'number' && Number.isFinite(n) && n >= 1;
}

/** A forward-slash path inside the repository, or undefined. */
function repoPath(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const p = file.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (p === '' || p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.split('/').includes('..')) return undefined;
  return p;
}

/** At most `limit` UTF-16 units, never splitting a surrogate pair, with an ellipsis when cut. */
export function cut(s: string, limit: number): string {
  return s.length <= limit ? s : `${sliceSafe(s, limit - 1)}…`;
}

/** The first `end` UTF-16 units, one fewer if that would split a surrogate pair. */
export function sliceSafe(s: string, end: number): string {
  const e = end > 0 && /[\uD800-\uDBFF]/.test(s[end - 1] ?? '') ? end - 1 : end;
  return s.slice(0, e);
}
