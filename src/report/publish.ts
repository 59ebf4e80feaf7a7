// Hands the report to the runner: merged run_results.json, job summary, annotations, outputs, exit status.
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { GithubReporting } from './github/index.js';
import { artifactName, uploadArtifactSets, type UploadOutcome } from './artifacts.js';
import { bundleArtifacts, type ChunkFiles } from './bundle.js';
import type { RunResultsArtifact } from '../dbt/types.js';
import type { Settings } from '../inputs/settings.js';
import { annotationsFor } from './annotations.js';
import { isBlocking, type RunReport } from './model.js';
import { compareRuns, gatePasses } from './compare.js';
import { readBase } from './base.js';
import { githubFileUrl, renderSummary } from './summary.js';
import { renderJunit } from './junit.js';

export interface PublishInput {
  settings: Settings;
  report: RunReport;
  merged: RunResultsArtifact;
  /** Masks known secrets in everything written or printed. */
  mask: (text: string) => string;
  /** The check run / PR comment, when a token allows them. */
  github?: GithubReporting;
  cancelled?: boolean;
  /** dbt could not run at all: this one line replaces the per-node annotations. */
  fatal?: string;
}

export async function publish({ settings, report: unmasked, merged, mask, github, cancelled, fatal }: PublishInput): Promise<void> {
  const raw = withComparison(unmasked, settings, merged);
  const report = { ...raw, nodes: raw.nodes.map((n) => ({ ...n, message: n.message === null ? null : mask(n.message), compiledCode: n.compiledCode ? mask(n.compiledCode) : n.compiledCode })) };
  mkdirSync(settings.workDir, { recursive: true });
  const resultsPath = join(settings.workDir, 'run_results.json');
  writeFileSync(resultsPath, mask(`${JSON.stringify(merged, null, 2)}\n`));
  const junitPath = join(settings.workDir, 'junit.xml');
  const byUid = new Map(raw.nodes.map((n) => [n.uid, n]));
  writeFileSync(junitPath, mask(renderJunit(merged, (uid) => ({ name: byUid.get(uid)?.name ?? uid, file: byUid.get(uid)?.file }))));
  core.setOutput('junit', junitPath);

  const c = report.counts;
  core.setOutput('results', resultsPath);
  core.setOutput('passed', c.passed);
  core.setOutput('failed', c.failed);
  core.setOutput('warned', c.warned);
  core.setOutput('errored', c.errored);
  core.setOutput('skipped', c.skipped);
  const failedNodes = report.nodes.filter((n) => n.bucket === 'failed' || n.bucket === 'errored' || n.bucket === 'skipped').map((n) => n.uid);
  core.setOutput('failed-nodes', JSON.stringify(failedNodes));
  const newFailed = (report.comparison ?? compareRuns(report.nodes, undefined)).newFailures;
  core.setOutput('new-failures', newFailed.length);
  core.setOutput('new-failed-nodes', JSON.stringify(newFailed));
  core.setOutput('fixed-nodes', JSON.stringify((report.comparison?.fixed ?? []).map((f) => f.uid)));
  core.setOutput('flaky', report.flaky?.length ?? 0);

  const summary = mask(renderSummary(report, { fileUrl: githubFileUrl(process.env) }));
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(summary).write();
  } else {
    core.info(summary);
  }
  if (fatal !== undefined) {
    await github?.abandon(mask(fatal), cancelled ? 'cancelled' : 'failure');
    core.setFailed(mask(fatal));
    return;
  }
  const annotations = annotationsFor(report).map((a) => ({ ...a, message: mask(a.message) }));
  const rel = relative(settings.workspace, join(settings.projectDir, 'dbt_project.yml')).split(sep).join('/');
  const gh = github
    ? await github.finish({ report, summaryMarkdown: summary, annotations, fallbackFile: rel.startsWith('..') || isAbsolute(rel) ? undefined : rel, conclusion: cancelled ? 'cancelled' : undefined, commentMode: settings.commentMode })
    : { annotationsDelivered: false };
  if (gh.annotationsDelivered) {
    // Every problem is on the check run already; workflow-command annotations would show each one twice.
    core.info(`${annotations.length} problem(s) annotated on the check run${github?.checkUrl ? `: ${github.checkUrl}` : ''}.`);
  } else {
    for (const a of annotations) {
      const props = { title: a.title, file: a.file, startLine: a.file ? (a.line ?? 1) : undefined };
      if (a.level === 'error') core.error(a.message, props);
      else core.warning(a.message, props);
    }
  }
  core.info(`Merged results: ${resultsPath} (${c.total} node(s): ${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.warned} warned, ${c.skipped} skipped)`);
  if (!report.ok) {
    const what = `dbt ${report.command}: ${c.errored} errored, ${c.failed} failed, ${c.skipped} skipped of ${c.total} node(s)`;
    core.setFailed(settings.failOn === 'new' ? `${what}; ${newFailed.length} of them not already failing on the base (fail-on: new).` : `${what}.`);
  } else if (settings.failOn === 'new' && report.nodes.some((n) => isBlocking(n.bucket))) {
    core.info(`fail-on: new — ${report.comparison?.existingFailures.length ?? 0} node(s) already failing on the base are reported but do not fail the step.`);
  }
}

/**
 * The report compared with the base (compare-to), its verdict set by fail-on. Without compare-to the report
 * is unchanged (fail-on: new then counts every failure as new: there is nothing older to excuse it).
 */
function withComparison(r: RunReport, s: Settings, merged: RunResultsArtifact): RunReport {
  if (s.compareTo.length === 0) {
    if (s.failOn === 'new') core.warning("fail-on: new has nothing to compare with ('compare-to' is empty): every failure counts as new.");
    return r;
  }
  const read = readBase(s.compareTo, { dbtVersion: merged.metadata.dbt_version, packages: new Set(r.nodes.map((n) => n.uid.split('.')[1])) });
  for (const n of read.notes) (n.level === 'notice' ? core.notice : core.warning)(n.message);
  const comparison = compareRuns(r.nodes, read.base);
  if (read.base) core.info(`compare-to: ${read.base.files.length} base file(s), ${read.base.nodes.size} node(s): ${comparison.newFailures.length} new failure(s), ${comparison.existingFailures.length} already failing, ${comparison.fixed.length} fixed.`);
  return { ...r, comparison, ok: gatePasses(r.nodes, comparison, s.failOn) };
}

export interface UploadInput {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  chunks: ChunkFiles[];
  merged: Record<string, string>;
  mask: (text: string) => string;
  cancelled: boolean;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Set in matrix shards: part of every name. */
  shard?: string;
}

/** One artifact per chunk plus one for the merged files; a failed upload is a warning, never a lost result. */
export async function uploadRunArtifacts(u: UploadInput): Promise<UploadOutcome[]> {
  const name = (chunk?: string): string => artifactName({ prefix: u.settings.artifactName, job: u.env.GITHUB_JOB ?? 'job', runAttempt: u.env.GITHUB_RUN_ATTEMPT ?? '1', shard: u.shard, chunk });
  const sets = bundleArtifacts({
    stagingDir: join(u.settings.workDir, 'artifacts-staging'), chunks: u.chunks, merged: u.merged, mask: u.mask,
    names: { chunk: (c) => name(c.replace(/^chunk-/, '')), merged: name(u.shard === undefined ? 'merged' : undefined) },
  });
  const upload = uploadArtifactSets(sets, { retentionDays: u.settings.retentionDays, localDir: localArtifactsDir(u.settings), env: u.env, log: u.log });
  // After a cancellation the runner kills the step within seconds: upload what fits, say what did not.
  const outcomes = u.cancelled
    ? await Promise.race([upload, new Promise<UploadOutcome[]>((r) => setTimeout(() => r(sets.map((s) => ({ name: s.name, ok: false, error: 'skipped: the run was cancelled and time ran out' }))), 4000))])
    : await upload;
  for (const o of outcomes) if (!o.ok) u.warn(`Artifact ${o.name} was not uploaded: ${o.error}. The results and the summary are complete without it.`);
  return outcomes;
}

/** Outside GitHub Actions, artifacts are copied here (beside the work dir, so later jobs on this machine find them). */
export function localArtifactsDir(s: Settings): string {
  return join(s.workDir, '..', 'parallel-dbt-artifacts');
}
