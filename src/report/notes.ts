// The notes a run report carries beside its nodes: what the plan warned of, and what happened on the way
// (duplicates, a cancellation, retries, fail-fast). Pure: facts in, lines out, in the order the summary shows them.
import type { FlakyNode, NodeOutcome } from './model.js';

/** Retried nodes named in the note; the rest are counted. */
const RETRIED_LISTED = 10;
/** Duplicated nodes named in the note. */
const DUPLICATES_LISTED = 5;

export interface RunFacts {
  /** Notes of the plan (groups, hooks), shown first. */
  planNotes: string[];
  /** A matrix shard's id, and how many nodes it ran. */
  shard?: { id: string; nodes: number };
  /** Nodes that two chunks reported. */
  duplicates: string[];
  cancelled: boolean;
  /** Nodes that ran more than once, with each attempt's status. */
  retried: FlakyNode[];
  /** Why fail-fast stopped the run, when it did. */
  failFast?: string;
}

export function runNotes(f: RunFacts): string[] {
  const notes: string[] = [];
  if (f.shard !== undefined) notes.push(`Matrix shard ${f.shard.id}: ${f.shard.nodes} node(s) of the selection.`);
  notes.push(...f.planNotes);
  if (f.duplicates.length > 0)
    notes.push(
      `${f.duplicates.length} node(s) were reported by two chunks; the first result is kept: ${f.duplicates.slice(0, DUPLICATES_LISTED).join(', ')}`,
    );
  if (f.cancelled)
    notes.push(
      'The run was cancelled: nodes that had not finished are reported as errors, those that never started as skipped.',
    );
  if (f.retried.length > 0) {
    const listed = f.retried
      .slice(0, RETRIED_LISTED)
      .map((x) => `${x.uid} (${x.statuses.join(' → ')})`)
      .join(', ');
    notes.push(
      `${f.retried.length} node(s) needed a retry: ${listed}${f.retried.length > RETRIED_LISTED ? ', …' : ''}`,
    );
  }
  if (f.failFast !== undefined) notes.push(`fail-fast: ${f.failFast} Everything not yet run was skipped.`);
  return notes;
}

/** dbt could not run at all (every chunk stopped before its first node): one error line instead of one per node. */
export function fatalLine(
  fatal: string | undefined,
  nodes: Pick<NodeOutcome, 'bucket'>[],
  command: string,
): string | undefined {
  const anyRan = nodes.some((n) => n.bucket !== 'errored' && n.bucket !== 'skipped');
  return fatal !== undefined && !anyRan
    ? `dbt could not run: ${fatal}. Fix the project, profile or connection so that 'dbt ${command}' works on its own.`
    : undefined;
}
