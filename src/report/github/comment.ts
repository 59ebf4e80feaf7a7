// One pull request comment per job, found again by a hidden marker and edited in place on later pushes.
import { problems, type RunReport } from '../model.js';
import { escapeHtml } from '../summary.js';
import { cut, sliceSafe } from './check-annotations.js';
import { DEFAULT_RETRY, messageOf, statusOf, withRetry, type Log, type Octokit, type RetryPolicy } from './client.js';

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
  const counts = [[c.errored, 'errored'], [c.failed, 'failed'], [c.skipped, 'skipped'], [c.warned, 'warned'], [c.passed, 'passed']]
    .filter(([n]) => n).map(([n, w]) => `${n} ${w}`).join(' · ');
  const head = [
    i.marker,
    `### ${r.ok ? '✅' : '❌'} dbt ${escapeHtml(r.command)}: ${c.total === 0 ? 'no nodes selected' : `${counts} (${c.total} node${c.total === 1 ? '' : 's'})`}`,
    '',
  ];
  const links = [
    i.runUrl ? `[Workflow run](${i.runUrl})` : '',
    i.checkUrl ? `[every problem annotated](${i.checkUrl})` : '',
    i.sha ? `commit \`${i.sha.slice(0, 7)}\`` : '',
  ].filter(Boolean);
  const foot = ['', links.join(' · '), ''];

  const bad = problems(r.nodes);
  const rows: string[] = [];
  const max = i.maxRows ?? 25;
  if (bad.length > 0) {
    const tableHead = ['| Status | Node | File | Message |', '|---|---|---|---|'];
    const fixed = [...head, ...tableHead, ...foot].join('\n').length + 200; // + the "…and N more" line
    let size = fixed;
    for (const n of bad.slice(0, max)) {
      const rowsNote = n.failures !== null && n.failures > 0 && n.bucket !== 'errored' ? ` (${n.failures} row${n.failures === 1 ? '' : 's'})` : '';
      const row = `| ${icon(n.bucket)} ${cell(n.status)}${rowsNote} | \`${cell(cut(n.name, 200))}\` <sub>${cell(n.resourceType)}</sub> | ${n.file ? cell(cut(n.file, 300)) : ''} | ${cell(cut(oneLine(n.message ?? ''), 300))} |`;
      if (size + row.length + 1 > limit) break;
      rows.push(row);
      size += row.length + 1;
    }
    head.push(...tableHead);
    if (rows.length < bad.length) rows.push('', `…and ${bad.length - rows.length} more: see the workflow run's summary${i.checkUrl ? ' and the check run' : ''}.`);
  }
  const body = [...head, ...rows, ...foot].join('\n');
  return body.length <= limit ? body : sliceSafe(body, limit);
}

export interface UpsertCommentInput {
  octokit: Octokit;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  marker: string;
  log: Log;
  retry?: RetryPolicy;
}

export interface CommentOutcome {
  id: number;
  action: 'created' | 'updated';
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
      if (existing !== undefined) {
        const { data } = await i.octokit.rest.issues.updateComment({ ...where, comment_id: existing, body: sliceSafe(body, COMMENT_LIMIT) });
        return { id: data.id, action: 'updated' as const, url: data.html_url };
      }
      const { data } = await i.octokit.rest.issues.createComment({ ...where, issue_number: i.issueNumber, body: sliceSafe(body, COMMENT_LIMIT) });
      return { id: data.id, action: 'created' as const, url: data.html_url };
    }, retry);
  } catch (e) {
    const s = statusOf(e);
    const why = (s === 403 || s === 404) && !/rate limit/i.test(messageOf(e))
      ? `the token cannot comment on pull requests (${messageOf(e)}); give the job 'permissions: pull-requests: write'`
      : messageOf(e);
    i.log.warning(`No pull request comment on #${i.issueNumber}: ${why}.`);
    return undefined;
  }
}

async function findComment(octokit: Octokit, params: { owner: string; repo: string; issue_number: number }, marker: string): Promise<number | undefined> {
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...params, per_page: 100 })) {
    const hit = page.data.find((c) => c.body?.includes(marker));
    if (hit) return hit.id;
  }
  return undefined;
}

function icon(b: string): string {
  return b === 'errored' ? '💥' : b === 'failed' ? '❌' : b === 'warned' ? '⚠️' : b === 'skipped' ? '⏭️' : '✅';
}

function cell(s: string): string {
  return escapeHtml(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
