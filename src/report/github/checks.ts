// The check run: created in progress once the plan is known, completed with the summary and every annotation.
// Nothing here throws: GitHub reporting is a bonus, never a reason for the step to fail.
import { randomUUID } from 'node:crypto';
import type { RunReport } from '../model.js';
import { clip, sliceSafe } from '../../shared/text.js';
import { batches, toCheckAnnotations, type CheckAnnotation, type SourceAnnotation } from './check-annotations.js';
import { DEFAULT_RETRY, messageOf, statusOf, withRetry, type Octokit, type RetryPolicy } from './client.js';
import type { Logger } from '../../shared/log.js';

/** The Checks API's limit for output.summary and output.text. */
export const CHECK_TEXT_LIMIT = 65535;
/** Past this many annotations the rest is left to the summary (20 requests of 50). */
export const DEFAULT_MAX_ANNOTATIONS = 1000;
/** Requests spent isolating annotations the API refuses (422), per check run. */
const BISECT_BUDGET = 24;

export interface CheckRunHandle {
  octokit: Octokit;
  owner: string;
  repo: string;
  id: number;
  name: string;
  htmlUrl?: string;
  retry: RetryPolicy;
  log: Logger;
}

export interface StartCheckRunInput {
  octokit: Octokit;
  owner: string;
  repo: string;
  /** The PR's head commit on pull_request events, else GITHUB_SHA. */
  sha: string;
  name: string;
  detailsUrl?: string;
  /** Shown while the chunks run, e.g. the plan. */
  title?: string;
  summary?: string;
  log: Logger;
  retry?: RetryPolicy;
}

/** Creates the check run in progress. Without permission (403/404) or on any failure: one warning, undefined. */
export async function startCheckRun(i: StartCheckRunInput): Promise<CheckRunHandle | undefined> {
  const retry = i.retry ?? DEFAULT_RETRY;
  // A create whose answer was lost (timeout, 502 after the write) may still have made the run: before trying
  // again, look for it by this external_id, so a retry never leaves a second run stuck "in progress".
  const externalId = `parallel-dbt-${randomUUID()}`;
  let tries = 0;
  try {
    const run = await withRetry(async () => {
      if (tries++ > 0) {
        const { data } = await i.octokit.rest.checks.listForRef({
          owner: i.owner,
          repo: i.repo,
          ref: i.sha,
          check_name: i.name,
          filter: 'all',
          per_page: 100,
        });
        const made = data.check_runs.find((c) => c.external_id === externalId);
        if (made) return made;
      }
      const { data } = await i.octokit.rest.checks.create({
        owner: i.owner,
        repo: i.repo,
        name: i.name,
        head_sha: i.sha,
        status: 'in_progress',
        external_id: externalId,
        started_at: new Date().toISOString(),
        ...(i.detailsUrl ? { details_url: i.detailsUrl } : {}),
        output: {
          title: i.title ?? 'dbt is running',
          summary: truncateMarkdown(i.summary ?? 'The chunks are running.', CHECK_TEXT_LIMIT),
        },
      });
      return data;
    }, retry);
    return {
      octokit: i.octokit,
      owner: i.owner,
      repo: i.repo,
      id: run.id,
      name: i.name,
      htmlUrl: run.html_url ?? undefined,
      retry,
      log: i.log,
    };
  } catch (e) {
    const s = statusOf(e);
    const why =
      (s === 403 || s === 404) && !/rate limit/i.test(messageOf(e))
        ? `the token cannot create check runs (${messageOf(e)}); give the job 'permissions: checks: write'`
        : `creating it failed (${messageOf(e)})`;
    i.log.warning(
      `No check run '${i.name}': ${why}. Falling back to workflow-command annotations (at most 10 errors and 10 warnings are shown per step).`,
    );
    return undefined;
  }
}

export interface CompleteCheckRunInput {
  report: RunReport;
  summaryMarkdown: string;
  annotations: SourceAnnotation[];
  /** Repository-relative file for nodes without one (e.g. the project's dbt_project.yml). */
  fallbackFile?: string;
  /** Default: success when report.ok, else failure. */
  conclusion?: 'success' | 'failure' | 'cancelled' | 'neutral';
  maxAnnotations?: number;
}

export interface CheckRunOutcome {
  /** The check run was marked completed. */
  completed: boolean;
  /** Annotations the API accepted. */
  annotated: number;
  /** Annotations the API refused (422), by title. */
  rejected: string[];
  /** Not sent: over maxAnnotations, without any file, or after a batch failed for good. */
  notSent: number;
  /** A batch failed for good (not a 422): the annotations after it were not sent. */
  batchFailed: boolean;
}

/**
 * Sends the annotations in updates of at most 50 (the API appends each update's annotations), then completes
 * the run with its conclusion and the summary. A refused batch (422) is split until the refused annotations
 * are isolated and dropped; the others still go.
 */
export async function completeCheckRun(h: CheckRunHandle, i: CompleteCheckRunInput): Promise<CheckRunOutcome> {
  const title = checkTitle(i.report);
  const summary = truncateMarkdown(i.summaryMarkdown, CHECK_TEXT_LIMIT);
  const placed = toCheckAnnotations(i.annotations, i.fallbackFile);
  const max = i.maxAnnotations ?? DEFAULT_MAX_ANNOTATIONS;
  const toSend = placed.annotations.slice(0, max);
  const outcome: CheckRunOutcome = {
    completed: false,
    annotated: 0,
    rejected: [],
    batchFailed: false,
    notSent: placed.unplaced + Math.max(0, placed.annotations.length - max),
  };
  const budget = { left: BISECT_BUDGET };
  let broken: string | undefined;

  const list = batches(toSend);
  for (const [n, batch] of list.entries()) {
    if (broken !== undefined) {
      outcome.notSent += batch.length;
      continue;
    }
    const before = outcome.annotated + outcome.rejected.length;
    try {
      await sendBatch(h, { title, summary }, batch, outcome, budget);
    } catch (e) {
      broken = messageOf(e);
      outcome.batchFailed = true;
      outcome.notSent += batch.length - (outcome.annotated + outcome.rejected.length - before);
      h.log.warning(
        `Check run '${h.name}': annotation batch ${n + 1} of ${list.length} failed (${broken}); the remaining annotations are not sent.`,
      );
    }
  }

  const notes = outputNotes(outcome);
  try {
    await complete(h, i.conclusion ?? (i.report.ok ? 'success' : 'failure'), {
      title,
      summary,
      ...(notes ? { text: notes } : {}),
    });
    outcome.completed = true;
  } catch (e) {
    h.log.warning(
      `Check run '${h.name}' could not be completed (${messageOf(e)}); it stays in progress until GitHub times it out.`,
    );
  }
  if (outcome.rejected.length > 0) {
    h.log.warning(
      `Check run '${h.name}': GitHub refused ${outcome.rejected.length} annotation(s): ${outcome.rejected.slice(0, 5).join('; ')}${outcome.rejected.length > 5 ? '; …' : ''}`,
    );
  }
  return outcome;
}

/** Completes a started check run when the action stops before it has a report (a crash, a bad input). */
export async function abandonCheckRun(
  h: CheckRunHandle,
  reason: string,
  conclusion: 'failure' | 'cancelled' = 'failure',
): Promise<void> {
  try {
    await complete(h, conclusion, {
      title: clip(reason.split('\n')[0] || 'parallel-dbt stopped', 255),
      summary: truncateMarkdown(reason, CHECK_TEXT_LIMIT),
    });
  } catch (e) {
    h.log.warning(`Check run '${h.name}' could not be completed (${messageOf(e)}).`);
  }
}

/** Marks the check run completed with its conclusion and output (retried as every update is). */
async function complete(
  h: CheckRunHandle,
  conclusion: 'success' | 'failure' | 'cancelled' | 'neutral',
  output: { title: string; summary: string; text?: string },
): Promise<void> {
  await withRetry(
    () =>
      h.octokit.rest.checks.update({
        owner: h.owner,
        repo: h.repo,
        check_run_id: h.id,
        status: 'completed',
        conclusion,
        completed_at: new Date().toISOString(),
        output,
      }),
    h.retry,
  );
}

/** One update carrying `batch`; on 422, halves until the refused annotations are alone, within the budget. */
async function sendBatch(
  h: CheckRunHandle,
  output: { title: string; summary: string },
  batch: CheckAnnotation[],
  outcome: CheckRunOutcome,
  budget: { left: number },
): Promise<void> {
  try {
    await withRetry(
      () =>
        h.octokit.rest.checks.update({
          owner: h.owner,
          repo: h.repo,
          check_run_id: h.id,
          output: { ...output, annotations: batch },
        }),
      h.retry,
    );
    outcome.annotated += batch.length;
  } catch (e) {
    if (statusOf(e) !== 422) throw e;
    if (batch.length === 1 || budget.left < 2) {
      outcome.rejected.push(...batch.map((a) => `${a.title ?? a.path} (${a.path}:${a.start_line}: ${messageOf(e)})`));
      return;
    }
    budget.left -= 2;
    const half = Math.ceil(batch.length / 2);
    await sendBatch(h, output, batch.slice(0, half), outcome, budget);
    await sendBatch(h, output, batch.slice(half), outcome, budget);
  }
}

/** The check run's one-line title: the command and its counts (and, compared with the base, what is new and fixed). */
export function checkTitle(r: RunReport): string {
  const c = r.counts;
  if (c.total === 0) return `dbt ${r.command}: no nodes selected`;
  const parts = [
    [c.errored, 'errored'],
    [c.failed, 'failed'],
    [c.skipped, 'skipped'],
    [c.warned, 'warned'],
    [c.passed, 'passed'],
  ]
    .filter(([n]) => n)
    .map(([n, w]) => `${n} ${w}`);
  const delta = r.comparison
    ? ` · ${r.comparison.newFailures.length} new, ${r.comparison.fixed.length} fixed against the base`
    : '';
  return clip(`dbt ${r.command}: ${parts.join(', ')} of ${c.total}${delta}`, 255);
}

function outputNotes(o: CheckRunOutcome): string | undefined {
  const lines: string[] = [];
  if (o.notSent > 0)
    lines.push(
      `${o.notSent} problem(s) are not annotated (over the annotation limit, without a file in this repository, or after an API failure); the summary and the merged run_results.json list them all.`,
    );
  if (o.rejected.length > 0) lines.push(`GitHub refused ${o.rejected.length} annotation(s).`);
  return lines.length > 0 ? lines.join('\n\n') : undefined;
}

/** At most `limit` characters, cut at a line end, with a note saying so. */
export function truncateMarkdown(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = "\n\n…cut to fit GitHub's size limit: the full summary is on the workflow run's page.\n";
  let end = text.lastIndexOf('\n', limit - note.length);
  if (end < limit / 2) end = limit - note.length;
  return sliceSafe(text, end) + note;
}
