// The runner's side of every layer: @actions/core behind the one Runner the layers are given (as their Logger or
// ReportSink), and the narrow options each layer takes, cut from the action's Settings. This is the only file that
// imports @actions/core; only flow/ and main.ts know the Settings.
import * as core from '@actions/core';
import type { Settings } from '../inputs/settings.js';
import type { PublishOptions, ReportSink } from '../report/publish.js';
import type { RunOptions } from '../run/execute.js';

/** What the action tells the runner: log lines, outputs, the job summary, annotations, the step's failure, secrets. */
export interface Runner extends ReportSink {
  /** A value the runner masks wherever it would print it. */
  secret(value: string): void;
}

/** The runner as @actions/core drives it. */
export const githubRunner: Runner = {
  info: (l) => core.info(l),
  notice: (l) => core.notice(l),
  warning: (l) => core.warning(l),
  debug: (l) => core.debug(l),
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
  secret: (value) => core.setSecret(value),
};

export function publishOptions(s: Settings): PublishOptions {
  return {
    workDir: s.workDir,
    workspace: s.workspace,
    projectDir: s.projectDir,
    compareTo: s.compareTo,
    failOn: s.failOn,
    commentMode: s.commentMode,
  };
}

export function runOptions(s: Settings): RunOptions {
  return {
    command: s.command,
    state: s.state,
    defer: s.defer,
    flags: s.flags,
    failFast: s.failFast,
    staggerSeconds: s.staggerSeconds,
    memoryLimitPercent: s.memoryLimitPercent,
    timeoutMinutes: s.timeoutMinutes,
    retries: s.retries,
    retryOn: s.retryOn,
    workDir: s.workDir,
    stallSeconds: s.stallSeconds,
  };
}
