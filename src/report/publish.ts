// Hands the report to the runner: merged run_results.json, JUnit, job summary, annotations, outputs, exit status.
// What reaches the runner goes through a ReportSink (flow/ backs it with @actions/core); this file decides what.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { GithubReporting } from './github/index.js';
import { runResultsText, type RunResultsArtifact } from '../dbt/run-results.js';
import { annotationsFor, type Annotation } from './annotations.js';
import type { RunReport } from './model.js';
import { isBlocking } from '../dbt/statuses.js';
import { compareRuns, passesFailOn } from './compare.js';
import { readBase } from './base.js';
import { githubFileUrl, renderSummary } from './summary.js';
import { renderJunit } from './junit.js';
import type { Logger } from '../shared/log.js';

/** What the runner is told: log lines (the Logger), outputs, the job summary, annotations, the step's failure. */
export interface ReportSink extends Logger {
  output(name: string, value: string | number): void;
  /** The job summary (printed to the log where there is none). */
  summary(markdown: string): Promise<void>;
  /** A workflow-command annotation. */
  annotate(a: Pick<Annotation, 'level' | 'message' | 'title' | 'file'> & { startLine?: number }): void;
  fail(message: string): void;
}

/** The inputs the report depends on. */
export interface PublishOptions {
  /** Where run_results.json and junit.xml are written. */
  workDir: string;
  /** The repository root (annotation paths are relative to it) and the dbt project inside it. */
  workspace: string;
  projectDir: string;
  /** Paths or globs of the base's run_results.json (compare-to). */
  compareTo: string[];
  failOn: 'any' | 'new';
  commentMode: 'always' | 'changes' | 'failures';
}

export interface PublishInput {
  options: PublishOptions;
  report: RunReport;
  merged: RunResultsArtifact;
  /** Masks known secrets in everything written or printed. */
  mask: (text: string) => string;
  sink: ReportSink;
  env: NodeJS.ProcessEnv;
  /** The check run / PR comment, when a token allows them. */
  github?: GithubReporting;
  cancelled?: boolean;
  /** dbt could not run at all: this one line replaces the per-node annotations. */
  fatal?: string;
}

export async function publish({
  options: o,
  report: unmasked,
  merged,
  mask,
  sink,
  env,
  github,
  cancelled,
  fatal,
}: PublishInput): Promise<void> {
  const raw = withComparison(unmasked, o, merged, sink);
  const report = {
    ...raw,
    nodes: raw.nodes.map((n) => ({
      ...n,
      message: n.message === null ? null : mask(n.message),
      compiledCode: n.compiledCode ? mask(n.compiledCode) : n.compiledCode,
    })),
  };
  mkdirSync(o.workDir, { recursive: true });
  const resultsPath = join(o.workDir, 'run_results.json');
  writeFileSync(resultsPath, mask(runResultsText(merged)));
  const junitPath = join(o.workDir, 'junit.xml');
  const byUid = new Map(raw.nodes.map((n) => [n.uid, n]));
  writeFileSync(
    junitPath,
    mask(renderJunit(merged, (uid) => ({ name: byUid.get(uid)?.name ?? uid, file: byUid.get(uid)?.file }))),
  );
  sink.output('junit', junitPath);

  const c = report.counts;
  sink.output('results', resultsPath);
  sink.output('passed', c.passed);
  sink.output('failed', c.failed);
  sink.output('warned', c.warned);
  sink.output('errored', c.errored);
  sink.output('skipped', c.skipped);
  const failedNodes = report.nodes.filter((n) => isBlocking(n.bucket)).map((n) => n.uid);
  sink.output('failed-nodes', JSON.stringify(failedNodes));
  const newFailed = (report.comparison ?? compareRuns(report.nodes, undefined)).newFailures;
  sink.output('new-failures', newFailed.length);
  sink.output('new-failed-nodes', JSON.stringify(newFailed));
  sink.output('fixed-nodes', JSON.stringify((report.comparison?.fixed ?? []).map((f) => f.uid)));
  sink.output('flaky', report.flaky?.length ?? 0);

  const summary = mask(renderSummary(report, { fileUrl: githubFileUrl(env) }));
  await sink.summary(summary);
  if (fatal !== undefined) {
    await github?.abandon(mask(fatal), cancelled ? 'cancelled' : 'failure');
    sink.fail(mask(fatal));
    return;
  }
  const annotations = annotationsFor(report).map((a) => ({ ...a, message: mask(a.message) }));
  const rel = relative(o.workspace, join(o.projectDir, 'dbt_project.yml')).split(sep).join('/');
  const gh = github
    ? await github.finish({
        report,
        summaryMarkdown: summary,
        annotations,
        fallbackFile: rel.startsWith('..') || isAbsolute(rel) ? undefined : rel,
        conclusion: cancelled ? 'cancelled' : undefined,
        commentMode: o.commentMode,
      })
    : { annotationsDelivered: false };
  if (gh.annotationsDelivered) {
    // Every problem is on the check run already; workflow-command annotations would show each one twice.
    sink.info(
      `${annotations.length} problem(s) annotated on the check run${github?.checkUrl ? `: ${github.checkUrl}` : ''}.`,
    );
  } else {
    for (const a of annotations)
      sink.annotate({
        level: a.level,
        message: a.message,
        title: a.title,
        file: a.file,
        startLine: a.file ? (a.line ?? 1) : undefined,
      });
  }
  sink.info(
    `Merged results: ${resultsPath} (${c.total} node(s): ${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.warned} warned, ${c.skipped} skipped)`,
  );
  if (!report.ok) {
    const what = `dbt ${report.command}: ${c.errored} errored, ${c.failed} failed, ${c.skipped} skipped of ${c.total} node(s)`;
    sink.fail(
      o.failOn === 'new'
        ? `${what}; ${newFailed.length} of them not already failing on the base (fail-on: new).`
        : `${what}.`,
    );
  } else if (o.failOn === 'new' && report.nodes.some((n) => isBlocking(n.bucket))) {
    sink.info(
      `fail-on: new — ${report.comparison?.existingFailures.length ?? 0} node(s) already failing on the base are reported but do not fail the step.`,
    );
  }
}

/**
 * The report compared with the base (compare-to), its verdict set by fail-on. Without compare-to the report
 * is unchanged (fail-on: new then counts every failure as new: there is nothing older to excuse it).
 */
function withComparison(r: RunReport, o: PublishOptions, merged: RunResultsArtifact, sink: ReportSink): RunReport {
  if (o.compareTo.length === 0) {
    if (o.failOn === 'new')
      sink.warning("fail-on: new has nothing to compare with ('compare-to' is empty): every failure counts as new.");
    return r;
  }
  const read = readBase(o.compareTo, {
    dbtVersion: merged.metadata.dbt_version,
    packages: new Set(r.nodes.map((n) => n.uid.split('.')[1])),
  });
  for (const n of read.notes) {
    if (n.level === 'notice') sink.notice(n.message);
    else sink.warning(n.message);
  }
  const comparison = compareRuns(r.nodes, read.base);
  if (read.base)
    sink.info(
      `compare-to: ${read.base.files.length} base file(s), ${read.base.nodes.size} node(s): ${comparison.newFailures.length} new failure(s), ${comparison.existingFailures.length} already failing, ${comparison.fixed.length} fixed.`,
    );
  return { ...r, comparison, ok: passesFailOn(r.nodes, comparison, o.failOn) };
}
