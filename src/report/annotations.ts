// Annotations for the problem nodes, most important first: GitHub keeps only the first 10 error and the first
// 10 warning annotations of a step (the runner's ExecutionContext), so the order decides what people see.
import { isTest, problems, type NodeOutcome, type RunReport } from './model.js';
import { clip } from '../shared/text.js';

/** Workflow-command annotations GitHub keeps per step and level. */
export const ANNOTATIONS_PER_STEP = 10;
/** GitHub cuts annotation messages here. */
const MESSAGE_LIMIT = 4096;

export interface Annotation {
  level: 'error' | 'warning';
  title: string;
  message: string;
  /** Relative to the repository root. */
  file?: string;
  /** 1-based line in `file` (a generic test's declaration in its YAML file); absent means the file as a whole. */
  line?: number;
  /** The node it is about. */
  uid?: string;
}

export interface AnnotationSlots {
  error: number;
  warning: number;
}

/** Names of skipped nodes listed in their cause's annotation. */
const SKIPPED_NAMES = 30;

/**
 * One annotation per cause: an error or a failure lists what it skipped downstream, so skipped nodes take no
 * annotation of their own (only those whose cause is unknown do). Root causes come first, the ones new in this
 * PR before those already failing on the base (when compared), then unexplained skips, then warnings, then
 * one warning per flaky node (green only after a retry).
 */
export function annotationsFor(r: RunReport): Annotation[] {
  const byUid = new Map(r.nodes.map((n) => [n.uid, n]));
  const ordered = problems(r.nodes, r.comparison?.since);
  const skippedBy = new Map<string, NodeOutcome[]>();
  const listed = new Set<string>();
  for (const n of ordered) {
    if (n.bucket !== 'skipped' || n.cause === undefined || n.cause === n.uid || !byUid.has(n.cause)) continue;
    (skippedBy.get(n.cause) ?? skippedBy.set(n.cause, []).get(n.cause)!).push(n);
    listed.add(n.uid);
  }
  const since = r.comparison?.since;
  const rank = (n: NodeOutcome): number =>
    (n.bucket === 'warned' ? 4 : 0) + (n.bucket === 'skipped' ? 2 : 0) + (since?.get(n.uid) === 'existing' ? 1 : 0);
  const list: Annotation[] = ordered
    .filter((n) => !listed.has(n.uid))
    .map((n, i) => ({ n, i }))
    .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
    .map(({ n }) => {
      const skipped = skippedBy.get(n.uid) ?? [];
      const label = since === undefined ? '' : ` (${labelOf(n, since.get(n.uid) ?? 'new')})`;
      return {
        level: n.bucket === 'warned' ? ('warning' as const) : ('error' as const),
        title: `${titleOf(n)}${skipped.length > 0 ? `, skipped ${skipped.length} downstream` : ''}${label}`,
        message: clip(
          messageOf(n, n.cause !== undefined ? byUid.get(n.cause) : undefined) + skippedText(skipped),
          MESSAGE_LIMIT,
        ),
        ...(n.file !== undefined ? { file: n.file } : {}),
        ...(n.file !== undefined && n.line !== undefined ? { line: n.line } : {}),
        uid: n.uid,
      };
    });
  // Flaky nodes are green in the results; a warning on their file keeps them from passing unnoticed.
  for (const f of r.flaky ?? []) {
    const n = byUid.get(f.uid);
    if (n === undefined) continue;
    list.push({
      level: 'warning',
      title: `dbt ${n.resourceType} ${n.name}: flaky (passed on a retry)`,
      message: `Attempts: ${f.statuses.join(' → ')} (chunk ${n.chunk}). It passed only on a retry; the results show it green.`,
      ...(n.file !== undefined ? { file: n.file } : {}),
      uid: n.uid,
    });
  }
  return list;
}

/** "new in this PR" / "already failing on the base" (a warning: "already warning on the base"). */
export function labelOf(n: { bucket: string }, since: 'new' | 'existing'): string {
  if (since === 'new') return 'new in this PR';
  return n.bucket === 'warned' ? 'already warning on the base' : 'already failing on the base';
}

function skippedText(skipped: NodeOutcome[]): string {
  if (skipped.length === 0) return '';
  const names = skipped
    .slice(0, SKIPPED_NAMES)
    .map((s) => `${s.resourceType} ${s.name}`)
    .join(', ');
  return `\nSkipped because of it (${skipped.length}): ${names}${skipped.length > SKIPPED_NAMES ? `, …and ${skipped.length - SKIPPED_NAMES} more` : ''}.`;
}

/**
 * How many of `list` GitHub will not show, per level, given the slots still free in this step (10 each, less
 * what the step already used: earlier core.warning calls, and a core.setFailed emitted before the annotations).
 */
export function hiddenAnnotations(
  list: Annotation[],
  free: AnnotationSlots = { error: ANNOTATIONS_PER_STEP, warning: ANNOTATIONS_PER_STEP },
): AnnotationSlots {
  const errors = list.filter((a) => a.level === 'error').length;
  const warnings = list.length - errors;
  return {
    error: Math.max(0, errors - Math.max(0, free.error)),
    warning: Math.max(0, warnings - Math.max(0, free.warning)),
  };
}

function titleOf(n: NodeOutcome): string {
  const what = `${n.resourceType} ${n.name}`;
  switch (n.bucket) {
    case 'errored':
      return `dbt ${what}: error`;
    case 'failed':
      return `dbt ${what}: ${rows(n.failures) ?? 'failed'}`;
    case 'warned':
      return `dbt ${what}: warning${n.failures ? ` (${rows(n.failures)})` : ''}`;
    case 'skipped':
      return `dbt ${what}: skipped`;
    default:
      return `dbt ${what}: ${n.status}`;
  }
}

function rows(failures: number | null): string | undefined {
  return failures === null ? undefined : `${failures} failing row${failures === 1 ? '' : 's'}`;
}

function messageOf(n: NodeOutcome, cause: NodeOutcome | undefined): string {
  const where = `(chunk ${n.chunk})`;
  if (n.bucket === 'skipped') {
    if (cause !== undefined) {
      const how = cause.bucket === 'failed' ? (isTest(cause) ? 'failed' : cause.status) : 'errored';
      return `Skipped because upstream ${cause.resourceType} ${cause.name} ${how} ${where}${cause.file ? ` — see ${cause.file}` : ''}.`;
    }
    return `${n.message ?? 'Skipped because an upstream node did not succeed.'} ${where}`;
  }
  return `${(n.message ?? n.status).trim()} ${where}`;
}
