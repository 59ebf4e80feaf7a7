// Runs an action bundle the way the runner does: inputs as INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
// pointing at files. The demo and the benchmark run the committed dist/index.js (the default); the integration tests
// pass `bundle`, a fresh build of src/ (test/support/build-action.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The dbt the tests and demo run: the project's venv, or another one named by PARALLEL_DBT_VENV. */
export const DBT_BIN = join(process.env.PARALLEL_DBT_VENV ?? join(ROOT, '.dbt-venv'), 'bin');
/** The committed bundle, as users run it. */
export const DIST_BUNDLE = join(ROOT, 'dist', 'index.js');

/** Parses the GITHUB_OUTPUT file format (name<<DELIM … DELIM, or name=value). */
export function parseOutputs(text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      out[name] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const j = lines[i].indexOf('=');
      out[lines[i].slice(0, j)] = lines[i].slice(j + 1);
    }
  }
  return out;
}

/**
 * @param {Record<string,string>} inputs action inputs by name (e.g. { 'max-connections': '8' })
 * @param {{ bundle?: string, env?: Record<string,string>, cwd?: string, onStdout?: (s: string) => void, onSpawn?: (child: import('node:child_process').ChildProcess) => void, signalAfterMs?: number, signal?: string, runnerTemp?: string }} [opts]
 */
export function runAction(inputs, opts = {}) {
  const dir = opts.runnerTemp ?? mkdtempSync(join(tmpdir(), 'parallel-dbt-run-'));
  const outputFile = join(dir, 'output.txt');
  const summaryFile = join(dir, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env = {
    ...process.env,
    PATH: `${DBT_BIN}:${process.env.PATH}`,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: opts.cwd ?? ROOT,
    RUNNER_TEMP: dir,
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (k.startsWith('INPUT_')) delete env[k];
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bundle ?? DIST_BUNDLE], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
      opts.onStdout?.(String(b));
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    opts.onSpawn?.(child);
    if (opts.signalAfterMs !== undefined) setTimeout(() => child.kill(opts.signal ?? 'SIGINT'), opts.signalAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code,
        stdout,
        stderr,
        seconds: (Date.now() - started) / 1000,
        outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
        summary: readFileSync(summaryFile, 'utf8'),
        dir,
        runnerTemp: dir,
        exists: existsSync,
      });
    });
  });
}

/** The `::error file=…,title=…::message` and `::warning …` workflow commands in stdout. */
export function annotations(stdout) {
  const out = [];
  for (const line of stdout.split('\n')) {
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const props = {};
    for (const kv of (m[2] ?? '').split(',')) {
      const j = kv.indexOf('=');
      if (j > 0) props[kv.slice(0, j)] = decodeURIComponent(kv.slice(j + 1).replace(/%(?![0-9A-F]{2})/g, '%25'));
    }
    out.push({ level: m[1], ...props, message: m[3].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%') });
  }
  return out;
}
