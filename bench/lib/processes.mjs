// The processes the benchmark starts (dbt, Python, ncc, Node): output to a file, a timeout, and one place that
// knows which are still running so that Ctrl-C can stop them.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();

/** SIGKILL to every process run() started that has not ended yet. */
export function killChildren() {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Runs a command with stdout+stderr to a file; resolves with exit code and wall seconds (SIGINT at the timeout,
 * SIGKILL 10 s later).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env: NodeJS.ProcessEnv, cwd: string, log: string, timeoutMs?: number }} o
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, error?: string, seconds: number, startedAt: number }>}
 */
export function run(cmd, args, { env, cwd, log, timeoutMs = 20 * 60 * 1000 }) {
  return new Promise((res) => {
    mkdirSync(dirname(log), { recursive: true });
    const fd = openSync(log, 'w');
    const started = Date.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd] });
    live.add(child);
    /** @type {NodeJS.Timeout | undefined} */
    let killer;
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    }, timeoutMs);
    /** @param {number | null} code @param {NodeJS.Signals | null} signal @param {string} [error] */
    const done = (code, signal, error) => {
      clearTimeout(timer);
      clearTimeout(killer);
      live.delete(child);
      try {
        closeSync(fd);
      } catch {
        /* closed */
      }
      res({ code, signal, error, seconds: (Date.now() - started) / 1000, startedAt: started });
    };
    child.on('error', (e) => done(null, null, e.message));
    child.on('close', (code, signal) => done(code, signal));
  });
}
