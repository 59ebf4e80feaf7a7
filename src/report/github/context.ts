// Where the check run and the PR comment go, read from the runner's environment and event payload.
// Mirrors @actions/github's Context, but from an injected env so tests need no module reload.
import { readFileSync } from 'node:fs';

type Env = Record<string, string | undefined>;

export interface PullRequestTarget {
  number: number;
  /** The PR's head commit: annotations belong on its files (GITHUB_SHA is the merge commit). */
  headSha: string;
  /** The head branch lives in another repository. */
  fromFork: boolean;
}

export interface GithubTarget {
  owner: string;
  repo: string;
  /** The commit the check run is attached to. */
  sha: string;
  eventName: string;
  apiUrl: string;
  /** The workflow run's page (the link in the comment and the check run's details_url). */
  runUrl?: string;
  pullRequest?: PullRequestTarget;
  /**
   * A pull_request event from a fork: GitHub hands such runs a read-only token, so a check run or a
   * comment would only get 403. pull_request_target runs get a write token and are not flagged.
   */
  readOnlyFork: boolean;
}

const READ_ONLY_FORK_EVENTS = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment']);

interface PrPayload {
  number?: number;
  head?: { sha?: string; repo?: { full_name?: string } | null };
  base?: { repo?: { full_name?: string } };
}

/** The target of this run, or undefined (with the reason) when the environment is not a GitHub Actions run. */
export function readGithubTarget(
  env: Env,
  readEvent: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): GithubTarget | string {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  if (!owner || !repo) return 'GITHUB_REPOSITORY is not set (not running on GitHub Actions)';
  let payload: { pull_request?: PrPayload } = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    try {
      payload = JSON.parse(readEvent(eventPath)) as typeof payload;
    } catch {
      payload = {}; // missing or unreadable payload: no pull request known, the check run still goes on GITHUB_SHA
    }
  }
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const pr = payload.pull_request;
  let pullRequest: PullRequestTarget | undefined;
  if (pr && typeof pr.number === 'number' && pr.head?.sha) {
    const base = pr.base?.repo?.full_name ?? `${owner}/${repo}`;
    // A deleted fork has head.repo null: still a fork as far as the token goes.
    const fromFork = (pr.head.repo?.full_name ?? '').toLowerCase() !== base.toLowerCase();
    pullRequest = { number: pr.number, headSha: pr.head.sha, fromFork };
  }
  const sha = pullRequest?.headSha ?? env.GITHUB_SHA ?? '';
  if (!sha) return 'GITHUB_SHA is not set';
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const runUrl = env.GITHUB_RUN_ID
    ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`
    : undefined;
  return {
    owner,
    repo,
    sha,
    eventName,
    runUrl,
    pullRequest,
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    readOnlyFork: pullRequest !== undefined && pullRequest.fromFork && READ_ONLY_FORK_EVENTS.has(eventName),
  };
}
