// publish (src/report/publish.ts) through a recording ReportSink: what the runner is told, with no @actions/core and
// no module mock. The report is the captured real red `dbt build` (test/fixtures/captured/red) as one chunk.
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../src/dbt/manifest.js';
import type { RunResultsArtifact } from '../src/dbt/run-results.js';
import { buildReport } from '../src/report/build.js';
import { publish, type PublishOptions, type ReportSink } from '../src/report/publish.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const read = <T>(variant: string, file: string): T =>
  JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'captured', variant, file), 'utf8')) as T;

interface Recorded {
  outputs: Record<string, string | number>;
  lines: { level: 'info' | 'notice' | 'warning'; line: string }[];
  annotations: Parameters<ReportSink['annotate']>[0][];
  summary?: string;
  failed: string[];
}

function recordingSink(): { sink: ReportSink; got: Recorded } {
  const got: Recorded = { outputs: {}, lines: [], annotations: [], failed: [] };
  const sink: ReportSink = {
    info: (line) => got.lines.push({ level: 'info', line }),
    notice: (line) => got.lines.push({ level: 'notice', line }),
    warning: (line) => got.lines.push({ level: 'warning', line }),
    debug: () => {},
    output: (name, value) => {
      got.outputs[name] = value;
    },
    summary: async (markdown) => {
      got.summary = markdown;
    },
    annotate: (a) => got.annotations.push(a),
    fail: (message) => got.failed.push(message),
  };
  return { sink, got };
}

function runOf(variant: 'green' | 'red'): { report: ReturnType<typeof buildReport>; merged: RunResultsArtifact } {
  const manifest = read<Manifest>(variant, 'manifest.json');
  const merged = read<RunResultsArtifact>(variant, 'run_results.json');
  const nodes = merged.results.map((r) => r.unique_id);
  const report = buildReport({
    command: 'build',
    manifest,
    paths: { projectDir: join(ROOT, 'example'), workspace: ROOT },
    planNotes: [],
    wallSeconds: 10,
    chunks: [
      {
        chunk: { index: 1, name: 'chunk-1', nodes, dependsOn: [], work: 0, predicted: 0 },
        results: merged.results,
        startedAt: 0,
        endedAt: 10_000,
      },
    ],
  });
  return { report, merged };
}

const options = (workDir: string, o: Partial<PublishOptions> = {}): PublishOptions => ({
  workDir,
  workspace: ROOT,
  projectDir: join(ROOT, 'example'),
  compareTo: [],
  failOn: 'any',
  commentMode: 'always',
  ...o,
});

describe('publish through a ReportSink', () => {
  test('red run: counts as outputs, files written, one annotation per cause, the step fails with the counts', async () => {
    const { report, merged } = runOf('red');
    const { sink, got } = recordingSink();
    const dir = mkdtempSync(join(tmpdir(), 'publish-'));
    await publish({ options: options(dir), report, merged, mask: (t) => t, sink, env: {} });
    const statuses = merged.results.map((r) => r.status);
    expect(got.outputs).toMatchObject({
      passed: statuses.filter((s) => s === 'success' || s === 'pass').length,
      failed: 1,
      errored: 1,
      warned: 1,
      skipped: 1,
      results: join(dir, 'run_results.json'),
      junit: join(dir, 'junit.xml'),
      'new-failures': 3,
      'fixed-nodes': '[]',
      flaky: 0,
    });
    expect(JSON.parse(String(got.outputs['failed-nodes'])).sort()).toEqual(
      merged.results
        .filter((r) => ['error', 'fail', 'skipped'].includes(r.status))
        .map((r) => r.unique_id)
        .sort(),
    );
    expect(JSON.parse(readFileSync(join(dir, 'run_results.json'), 'utf8')).results).toHaveLength(merged.results.length);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain(`tests="${merged.results.length}"`);
    expect(got.summary).toMatch(/^### ❌ dbt build/);
    // The skipped child is listed under its cause, not annotated on its own: error, failure, warning.
    expect(got.annotations.map((a) => a.level).sort()).toEqual(['error', 'error', 'warning']);
    for (const a of got.annotations) {
      // A file gets a line (1 when the declaration's line is unknown); no file, no line.
      if (a.file) expect(a.startLine).toBeGreaterThanOrEqual(1);
      else expect(a.startLine).toBeUndefined();
    }
    expect(got.annotations.some((a) => a.file?.startsWith('example/'))).toBe(true);
    expect(got.failed).toEqual(['dbt build: 1 errored, 1 failed, 1 skipped of 99 node(s).']);
  });

  test('secrets are masked in the files, the summary and the annotations', async () => {
    const { report, merged } = runOf('red');
    const secret = merged.results
      .find((r) => r.status === 'error')!
      .message!.split(' ')
      .find((w) => w.length > 6)!;
    const { sink, got } = recordingSink();
    const dir = mkdtempSync(join(tmpdir(), 'publish-'));
    await publish({ options: options(dir), report, merged, mask: (t) => t.split(secret).join('***'), sink, env: {} });
    expect(readFileSync(join(dir, 'run_results.json'), 'utf8')).not.toContain(secret);
    expect(got.summary).not.toContain(secret);
    expect(got.annotations.map((a) => a.message).join('\n')).not.toContain(secret);
    expect(got.annotations.map((a) => a.message).join('\n')).toContain('***');
  });

  test('dbt could not run: the one fatal line replaces the annotations and fails the step', async () => {
    const { report, merged } = runOf('red');
    const { sink, got } = recordingSink();
    await publish({
      options: options(mkdtempSync(join(tmpdir(), 'publish-'))),
      report,
      merged,
      mask: (t) => t,
      sink,
      env: {},
      fatal: 'dbt could not run: no profile',
    });
    expect(got.annotations).toEqual([]);
    expect(got.failed).toEqual(['dbt could not run: no profile']);
    expect(got.outputs.errored).toBe(1);
  });

  test('green run passes; fail-on: new without compare-to warns that every failure counts as new', async () => {
    const { report, merged } = runOf('green');
    const { sink, got } = recordingSink();
    await publish({
      options: options(mkdtempSync(join(tmpdir(), 'publish-')), { failOn: 'new' }),
      report,
      merged,
      mask: (t) => t,
      sink,
      env: {},
    });
    expect(got.failed).toEqual([]);
    expect(got.annotations).toEqual([]);
    expect(got.lines).toContainEqual({
      level: 'warning',
      line: "fail-on: new has nothing to compare with ('compare-to' is empty): every failure counts as new.",
    });
  });

  test('compare-to naming nothing is a notice (a first run has no base), and the run is judged as without one', async () => {
    const { report, merged } = runOf('red');
    const { sink, got } = recordingSink();
    await publish({
      options: options(mkdtempSync(join(tmpdir(), 'publish-')), {
        compareTo: [join(tmpdir(), 'no-such-base', '*.json')],
      }),
      report,
      merged,
      mask: (t) => t,
      sink,
      env: {},
    });
    expect(got.lines.filter((l) => l.level === 'notice')).toHaveLength(1);
    expect(got.failed).toHaveLength(1);
  });
});
