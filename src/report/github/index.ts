// PR status for main.ts and publish.ts: a check run started after planning, completed with every annotation,
// and one PR comment kept up to date. Decides what is possible (token, event, fork) and never throws.
import {
  completeCheckRun,
  abandonCheckRun,
  startCheckRun,
  type CheckRunHandle,
  type CheckRunOutcome,
  type CompleteCheckRunInput,
} from './checks.js';
import { commentMarker, renderPrComment, shouldWriteComment, upsertPrComment, type CommentOutcome } from './comment.js';
import { createOctokit, type Octokit, type RetryPolicy } from './client.js';
import type { Logger } from '../../shared/log.js';
import { readGithubTarget, type GithubTarget } from './context.js';

export { checkTitle, truncateMarkdown, CHECK_TEXT_LIMIT } from './checks.js';
export { renderPrComment, commentMarker, shouldWriteComment, problemState, COMMENT_LIMIT } from './comment.js';
export type { CheckRunOutcome, CommentOutcome };

type Env = Record<string, string | undefined>;

export interface GithubReportingInput {
  /** Input github-token; empty = no check run, no comment. */
  token: string;
  /** Input check-name; empty = "<job id> / dbt <command>". */
  checkName: string;
  /** Input pr-comment. */
  prComment: boolean;
  command: string;
  env: Env;
  log: Logger;
  /** Shown on the check run while the chunks run (e.g. the rendered plan). */
  planSummary?: string;
  /** Tests: a client and a faster retry. */
  octokit?: Octokit;
  retry?: RetryPolicy;
}

/** What the check run is completed with (see CompleteCheckRunInput), and whether the PR comment is due. */
export interface FinishInput extends Omit<CompleteCheckRunInput, 'maxAnnotations'> {
  /** Input comment-mode (default always). */
  commentMode?: 'always' | 'changes' | 'failures';
}

export interface FinishOutcome {
  /** Every annotation went to the check run: workflow-command annotations would only repeat them. */
  annotationsDelivered: boolean;
  check?: CheckRunOutcome;
  comment?: CommentOutcome;
}

export interface GithubReporting {
  /** The check run's page, when one was created. */
  checkUrl?: string;
  finish(i: FinishInput): Promise<FinishOutcome>;
  /** Completes the check run when the action stops without a report. */
  abandon(reason: string, conclusion?: 'failure' | 'cancelled'): Promise<void>;
}

/** Starts what this run may do on GitHub; the answer is always usable (a no-op when nothing is possible). */
export async function startGithubReporting(i: GithubReportingInput): Promise<GithubReporting> {
  const wantsComment = i.prComment;
  if (!i.token) {
    i.log.info('github-token is empty: no check run and no pull request comment.');
    return idle();
  }
  const target = readGithubTarget(i.env);
  if (typeof target === 'string') {
    i.log.info(`No check run and no pull request comment: ${target}.`);
    return idle();
  }
  if (target.readOnlyFork) {
    i.log.info(
      'This pull request comes from a fork: GitHub gives its workflow a read-only token, so there is no check run and no comment; the problems are reported as workflow-command annotations (10 per level are shown).',
    );
    return idle();
  }
  const name = i.checkName || `${i.env.GITHUB_JOB ? `${i.env.GITHUB_JOB} / ` : ''}dbt ${i.command}`;
  const octokit = i.octokit ?? createOctokit(i.token, target.apiUrl);
  const check = await startCheckRun({
    octokit,
    owner: target.owner,
    repo: target.repo,
    sha: target.sha,
    name,
    detailsUrl: target.runUrl,
    title: `dbt ${i.command} is running`,
    summary: i.planSummary,
    log: i.log,
    retry: i.retry,
  });
  if (wantsComment && target.pullRequest === undefined)
    i.log.info(`pr-comment: this ${target.eventName || 'event'} run has no pull request; no comment.`);
  const commentTo = wantsComment ? target.pullRequest?.number : undefined;
  return {
    checkUrl: check?.htmlUrl,
    finish: (f) =>
      finish({ octokit, target, check, commentTo, marker: commentMarker(name), log: i.log, retry: i.retry }, f),
    abandon: async (reason, conclusion) => {
      if (check) await abandonCheckRun(check, reason, conclusion);
    },
  };
}

interface Started {
  octokit: Octokit;
  target: GithubTarget;
  check?: CheckRunHandle;
  commentTo?: number;
  marker: string;
  log: Logger;
  retry?: RetryPolicy;
}

async function finish(s: Started, f: FinishInput): Promise<FinishOutcome> {
  const check = s.check ? await completeCheckRun(s.check, f) : undefined;
  let comment: CommentOutcome | undefined;
  if (s.commentTo !== undefined) {
    const body = renderPrComment({
      report: f.report,
      marker: s.marker,
      runUrl: s.target.runUrl,
      checkUrl: s.check?.htmlUrl,
      sha: s.target.sha,
    });
    const mode = f.commentMode ?? 'always';
    comment = await upsertPrComment({
      octokit: s.octokit,
      owner: s.target.owner,
      repo: s.target.repo,
      issueNumber: s.commentTo,
      body,
      marker: s.marker,
      log: s.log,
      retry: s.retry,
      shouldWrite: (existing) => shouldWriteComment(mode, f.report, existing, body),
    });
  }
  return { annotationsDelivered: check !== undefined && !check.batchFailed, check, comment };
}

function idle(): GithubReporting {
  return { finish: async () => ({ annotationsDelivered: false }), abandon: async () => {} };
}
