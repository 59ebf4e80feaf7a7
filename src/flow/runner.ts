// The runner's side of every layer: @actions/core behind the Logger and ReportSink the layers are given, and the
// narrow options each layer takes, cut from the action's Settings. Only flow/ and main.ts know either.
import * as core from '@actions/core';
import type { Settings } from '../inputs/settings.js';
import type { Logger } from '../shared/log.js';
import type { PublishOptions, ReportSink } from '../report/publish.js';
import type { RunOptions } from '../run/execute.js';

/** Log lines to the runner, masked where they can hold secrets. */
export function runnerLog(mask: (t: string) => string = (t) => t): Logger {
  return { info: (l) => core.info(mask(l)), warning: (l) => core.warning(mask(l)), debug: (l) => core.debug(l) };
}

/** Outputs, the job summary, annotations and the step's failure, as the runner reads them. */
export const runnerSink: ReportSink = {
  info: (l) => core.info(l),
  notice: (l) => core.notice(l),
  warning: (l) => core.warning(l),
  output: (name, value) => core.setOutput(name, value),
  summary: async (markdown) => {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write();
    else core.info(markdown);
  },
  annotate: ({ level, message, title, file, startLine }) => {
    const props = { title, file, startLine };
    if (level === 'error') core.error(message, props);
    else core.warning(message, props);
  },
  fail: (message) => core.setFailed(message),
};

export function publishOptions(s: Settings): PublishOptions {
  return { workDir: s.workDir, workspace: s.workspace, projectDir: s.projectDir, compareTo: s.compareTo, failOn: s.failOn, commentMode: s.commentMode };
}

export function runOptions(s: Settings): RunOptions {
  return {
    command: s.command, state: s.state, defer: s.defer, flags: s.flags, failFast: s.failFast, staggerSeconds: s.staggerSeconds,
    memoryLimitPercent: s.memoryLimitPercent, timeoutMinutes: s.timeoutMinutes, retries: s.retries, retryOn: s.retryOn, workDir: s.workDir, stallSeconds: s.stallSeconds,
  };
}
