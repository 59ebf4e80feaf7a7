// One pull request comment per job, found again by a hidden marker and edited in place on later pushes.
import { createHash } from 'node:crypto';
import { problems, type RunReport } from '../model.js';
import { isBlocking } from '../../dbt/statuses.js';
import { labelOf } from '../annotations.js';
import { escapeHtml } from '../summary.js';
import { clip, oneLine, sliceSafe } from '../../shared/text.js';
import { DEFAULT_RETRY, messageOf, statusOf, withRetry, type Octokit, type RetryPolicy } from './client.js';
import type { Logger } from '../../shared/log.js';

/** GitHub refuses issue and PR comment bodies longer than this. */
export const COMMENT_LIMIT = 65536;

/** The hidden line that identifies this job's comment (one per check name, so matrix jobs keep their own). */
export function commentMarker(key: string): string {
  return `<!-- parallel-dbt: ${key.replace(/--+/g, '-').replace(/[<>]/g, '')} -->`;
}

export interface CommentInput {
  report: RunReport;
  marker: string;
  /** The workflow run's page. */
  runUrl?: string;
  /** The check run's page, where every annotation is. */
  checkUrl?: string;
  sha?: string;
  /** Problem rows listed at most (default 25); fewer when the size limit needs it. */
  maxRows?: number;
  /** For tests; default COMMENT_LIMIT. */
  limit?: number;
}

/** The comment body: marker, status line, the top problems and the links. Pure; always under the limit. */
export function renderPrComment(i: CommentInput): string {
  const limit = i.limit ?? COMMENT_LIMIT;
  const r = i.report;
  const c = r.counts;
  const counts = [
    [c.errored, 'errored'],
    [c.failed, 'failed'],
    [c.skipped, 'skipped'],
    [c.warned, 'warned'],
    [c.passed, 'passed'],
  ]
    .filter(([n]) => n)
    .map(([n, w]) => `${n} ${w}`)
    .join(' · ');
  const head = [
    i.marker,
    `### ${r.ok ? '✅' : '❌'} dbt ${escapeHtml(r.command)}: ${c.total === 0 ? 'no nodes selected' : `${counts} (${c.total} node${c.total === 1 ? '' : 's'})`}`,
    '',
    ...changeLines(r),
  ];
  const links = [
    i.runUrl ? `[Workflow run](${i.runUrl})` : '',
    i.checkUrl ? `[every problem annotated](${i.checkUrl})` : '',
    i.sha ? `commit \`${i.sha.slice(0, 7)}\`` : '',
  ].filter(Boolean);
  const foot = ['', links.join(' · '), ''];

  const bad = problems(r.nodes, r.comparison?.since);
  const rows: string[] = [];
  const max = i.maxRows ?? 25;
  if (bad.length > 0) {
    const tableHead = ['| Status | Node | File | Message |', '|---|---|---|---|'];
    const fixed = [...head, ...tableHead, ...foot].join('\n').length + 200; // + the "…and N more" line
    let size = fixed;
    for (const n of bad.slice(0, max)) {
      const rowsNote =
        n.failures !== null && n.failures > 0 && n.bucket !== 'errored'
          ? ` (${n.failures} row${n.failures === 1 ? '' : 's'})`
          : '';
      const since = r.comparison?.since.get(n.uid);
      const label =
        since === undefined ? '' : since === 'new' ? ` · 🆕 ${labelOf(n, since)}` : ` · ${labelOf(n, since)}`;
      const row = `| ${icon(n.bucket)} ${cell(n.status)}${rowsNote}${label} | \`${cell(clip(n.name, 200))}\` <sub>${cell(n.resourceType)}</sub> | ${n.file ? cell(clip(n.file, 300)) : ''} | ${cell(clip(oneLine(n.message ?? ''), 300))} |`;
      if (size + row.length + 1 > limit) break;
      rows.push(row);
      size += row.length + 1;
    }
    head.push(...tableHead);
    if (rows.length < bad.length)
      rows.push(
        '',
        `…and ${bad.length - rows.length} more: see the workflow run's summary${i.checkUrl ? ' and the check run' : ''}.`,
      );
  }
  const body = [...head, ...rows, ...foot].join('\n');
  return body.length <= limit ? body : sliceSafe(body, limit);
}

/** The delta against the base, the fixed and the flaky nodes, and the state fingerprint (for comment-mode: changes). */
function changeLines(r: RunReport): string[] {
  const out = [`<!-- parallel-dbt-state: ${problemState(r)} -->`];
  const byUid = new Map(r.nodes.map((n) => [n.uid, n]));
  const names = (uids: string[]): string =>
    `${uids
      .slice(0, 20)
      .map((u) => `\`${cell(clip(byUid.get(u)?.name ?? u, 200))}\``)
      .join(', ')}${uids.length > 20 ? `, …and ${uids.length - 20} more` : ''}`;
  const c = r.comparison;
  if (c) {
    out.push(
      `**Against the base:** ${c.newFailures.length} new failure${c.newFailures.length === 1 ? '' : 's'} · ${c.existingFailures.length} already failing · ${c.fixed.length} fixed${c.files.length === 0 ? ' (no base found: every problem counts as new)' : ''}`,
      '',
    );
    if (c.fixed.length > 0) out.push(`✅ Fixed: ${names(c.fixed.map((f) => f.uid))}`, '');
  }
  if (r.flaky && r.flaky.length > 0)
    out.push(`🔁 Flaky (passed only on a retry): ${names(r.flaky.map((f) => f.uid))}`, '');
  return out;
}

/** A short hash of the problems, their statuses and labels: equal when nothing a reviewer sees has changed. */
export function problemState(r: RunReport): string {
  const since = r.comparison?.since;
  const lines = r.nodes
    .filter((n) => n.bucket !== 'passed')
    .map((n) => `${n.uid}:${n.status}:${since?.get(n.uid) ?? ''}`)
    .sort();
  lines.push(
    `fixed:${(r.comparison?.fixed ?? [])
      .map((f) => f.uid)
      .sort()
      .join(',')}`,
    `flaky:${(r.flaky ?? [])
      .map((f) => f.uid)
      .sort()
      .join(',')}`,
  );
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/** The fingerprint a comment body carries, if any. */
export function stateOf(body: string | undefined): string | undefined {
  return body === undefined ? undefined : /<!-- parallel-dbt-state: ([0-9a-f]+) -->/.exec(body)?.[1];
}

/**
 * Whether to write the comment (comment-mode): always; changes — when there is none yet or its problems
 * changed; failures — once something failed, and afterwards to keep it current (so it turns green when fixed).
 */
export function shouldWriteComment(
  mode: 'always' | 'changes' | 'failures',
  r: RunReport,
  existingBody: string | undefined,
  newBody: string,
): { write: boolean; why?: string } {
  if (mode === 'changes' && existingBody !== undefined && stateOf(existingBody) === stateOf(newBody))
    return {
      write: false,
      why: 'comment-mode changes: the problems are the same as in the comment, so it is left as it is',
    };
  if (mode === 'failures' && existingBody === undefined && !r.nodes.some((n) => isBlocking(n.bucket)))
    return { write: false, why: 'comment-mode failures: nothing failed, so no comment is written' };
  return { write: true };
}

export interface UpsertCommentInput {
  octokit: Octokit;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  marker: string;
  log: Logger;
  retry?: RetryPolicy;
  /** Decides, given the existing comment's body, whether to write at all (default: always). */
  shouldWrite?: (existingBody: string | undefined) => { write: boolean; why?: string };
}

export interface CommentOutcome {
  /** Absent when no comment exists and none was written. */
  id?: number;
  action: 'created' | 'updated' | 'unchanged' | 'not written';
  url?: string;
}

/** Edits the comment carrying `marker` (all pages are searched), else creates it. On failure: one warning. */
export async function upsertPrComment(i: UpsertCommentInput): Promise<CommentOutcome | undefined> {
  const retry = i.retry ?? DEFAULT_RETRY;
  const body = i.body.includes(i.marker) ? i.body : `${i.marker}\n${i.body}`;
  const where = { owner: i.owner, repo: i.repo };
  try {
    // Searched again on every try: a create whose answer was lost must be edited, not made twice.
    return await withRetry(async () => {
      const existing = await findComment(i.octokit, { ...where, issue_number: i.issueNumber }, i.marker);
      const decision = i.shouldWrite?.(existing?.body) ?? { write: true };
      if (!decision.write) {
        if (decision.why) i.log.info(`Pull request comment on #${i.issueNumber}: ${decision.why}.`);
        return existing !== undefined
          ? { id: existing.id, action: 'unchanged' as const }
          : { action: 'not written' as const };
      }
      if (existing !== undefined) {
        const { data } = await i.octokit.rest.issues.updateComment({
          ...where,
          comment_id: existing.id,
          body: sliceSafe(body, COMMENT_LIMIT),
        });
        return { id: data.id, action: 'updated' as const, url: data.html_url };
      }
      const { data } = await i.octokit.rest.issues.createComment({
        ...where,
        issue_number: i.issueNumber,
        body: sliceSafe(body, COMMENT_LIMIT),
      });
      return { id: data.id, action: 'created' as const, url: data.html_url };
    }, retry);
  } catch (e) {
    const s = statusOf(e);
    const why =
      (s === 403 || s === 404) && !/rate limit/i.test(messageOf(e))
        ? `the token cannot comment on pull requests (${messageOf(e)}); give the job 'permissions: pull-requests: write'`
        : messageOf(e);
    i.log.warning(`No pull request comment on #${i.issueNumber}: ${why}.`);
    return undefined;
  }
}

async function findComment(
  octokit: Octokit,
  params: { owner: string; repo: string; issue_number: number },
  marker: string,
): Promise<{ id: number; body: string } | undefined> {
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...params, per_page: 100 })) {
    const hit = page.data.find((c) => c.body?.includes(marker));
    if (hit) return { id: hit.id, body: hit.body ?? '' };
  }
  return undefined;
}

function icon(b: string): string {
  return b === 'errored' ? '💥' : b === 'failed' ? '❌' : b === 'warned' ? '⚠️' : b === 'skipped' ? '⏭️' : '✅';
}

function cell(s: string): string {
  return escapeHtml(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
