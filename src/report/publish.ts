// Hands the report to the runner: merged run_results.json, job summary, annotations, outputs, exit status.
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResultsArtifact } from '../dbt/types.js';
import type { Settings } from '../inputs/settings.js';
import { annotationsFor } from './annotations.js';
import type { RunReport } from './model.js';
import { renderSummary } from './summary.js';

export interface PublishInput {
  settings: Settings;
  report: RunReport;
  merged: RunResultsArtifact;
  /** Masks known secrets in everything written or printed. */
  mask: (text: string) => string;
}

export async function publish({ settings, report: raw, merged, mask }: PublishInput): Promise<void> {
  const report = { ...raw, nodes: raw.nodes.map((n) => ({ ...n, message: n.message === null ? null : mask(n.message), compiledCode: n.compiledCode ? mask(n.compiledCode) : n.compiledCode })) };
  mkdirSync(settings.workDir, { recursive: true });
  const resultsPath = join(settings.workDir, 'run_results.json');
  writeFileSync(resultsPath, mask(`${JSON.stringify(merged, null, 2)}\n`));

  const c = report.counts;
  core.setOutput('results', resultsPath);
  core.setOutput('passed', c.passed);
  core.setOutput('failed', c.failed);
  core.setOutput('warned', c.warned);
  core.setOutput('errored', c.errored);
  core.setOutput('skipped', c.skipped);
  const failedNodes = report.nodes.filter((n) => n.bucket === 'failed' || n.bucket === 'errored' || n.bucket === 'skipped').map((n) => n.uid);
  core.setOutput('failed-nodes', JSON.stringify(failedNodes));

  const summary = mask(renderSummary(report));
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(summary).write();
  } else {
    core.info(summary);
  }
  for (const a of annotationsFor(report)) {
    const props = { title: a.title, file: a.file, startLine: a.file ? 1 : undefined };
    if (a.level === 'error') core.error(mask(a.message), props);
    else core.warning(mask(a.message), props);
  }
  core.info(`Merged results: ${resultsPath} (${c.total} node(s): ${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.warned} warned, ${c.skipped} skipped)`);
  if (!report.ok) core.setFailed(`dbt ${report.command}: ${c.errored} errored, ${c.failed} failed, ${c.skipped} skipped of ${c.total} node(s).`);
}
