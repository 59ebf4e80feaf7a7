// Report annotations → Checks API annotation objects, validated up front so a batch is rarely refused.
import type { Annotation } from '../annotations.js';
import { clip } from '../../shared/text.js';

/** What the check run is given: the report's annotations (a line, when known, marks a single line). */
export type SourceAnnotation = Annotation;

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
    annotations.push({
      path,
      start_line: start,
      end_line: start,
      annotation_level: a.level === 'error' ? 'failure' : 'warning',
      message: clip(a.message.trim() === '' ? a.title : a.message, MESSAGE_LIMIT),
      title: clip(a.title, TITLE_LIMIT),
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
