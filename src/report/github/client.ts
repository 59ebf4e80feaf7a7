// The Octokit client from @actions/github, a bounded retry for transient answers, and error classification.
// getOctokit adds no retry plugin: a 5xx is thrown at once, so transient failures are retried here.
import { getOctokit } from '@actions/github';

export type Octokit = ReturnType<typeof getOctokit>;

/**
 * Octokit against `apiUrl` (GITHUB_API_URL; GitHub Enterprise Server has its own). Every request is aborted
 * after `timeoutMs` (then counted as transient): a hung API must not eat the job's last seconds.
 */
export function createOctokit(token: string, apiUrl: string, timeoutMs = 10000): Octokit {
  const octokit = getOctokit(token, { baseUrl: apiUrl });
  octokit.hook.before('request', (options) => {
    if (!options.request?.signal) options.request = { ...options.request, signal: AbortSignal.timeout(timeoutMs) };
  });
  return octokit;
}

export interface RetryPolicy {
  /** Waits before the 2nd, 3rd, … attempt; its length bounds the retries. */
  delaysMs: number[];
  sleep: (ms: number) => Promise<void>;
}

/** Two retries, 1 s then 3 s: the whole report must fit the ~10 s a cancelled job leaves. */
export const DEFAULT_RETRY: RetryPolicy = {
  delaysMs: [1000, 3000],
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The HTTP status of an Octokit error (undefined for anything else). */
export function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** 5xx and 429 are worth another try; Octokit reports a failed or aborted fetch as status 500 too. */
export function isTransient(e: unknown): boolean {
  const s = statusOf(e);
  return s !== undefined && (s >= 500 || s === 429);
}

/** The server's message, on one line. */
export function messageOf(e: unknown): string {
  const s = statusOf(e);
  const m = e instanceof Error ? e.message : String(e);
  return `${s !== undefined ? `HTTP ${s}: ` : ''}${m.replace(/\s+/g, ' ').trim()}`.slice(0, 300);
}

/** Runs `call`, retrying transient failures per `policy`; the last error is thrown. */
export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!isTransient(e) || attempt >= policy.delaysMs.length) throw e;
      await policy.sleep(policy.delaysMs[attempt]);
    }
  }
}
