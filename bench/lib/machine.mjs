// The machine and versions a run measured on (the report's first line): cores, memory, CPU, Node, dbt, PostgreSQL,
// the commit whose dist/ the action was, the load average at the start.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { DBT, ROOT } from './paths.mjs';
import { round } from './util.mjs';

/**
 * @param {{ cores: number, pg: import('./postgres.mjs').BenchPostgres }} o
 */
export async function machineInfo({ cores, pg }) {
  /** @param {string} cmd @param {string[]} args */
  const ver = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { env: { ...process.env, DO_NOT_TRACK: '1' } }).toString();
    } catch (e) {
      return String(/** @type {any} */ (e).stdout ?? '');
    }
  };
  const dbtv = ver(DBT, ['--version']);
  const postgres = await pg.version().catch(() => 'PostgreSQL');
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    if (execFileSync('git', ['status', '--porcelain', '--', 'dist'], { cwd: ROOT }).toString().trim())
      commit += ' + uncommitted changes to dist/';
  } catch {
    /* not a checkout */
  }
  return {
    cores,
    memoryGiB: Math.round(totalmem() / 1073741824),
    cpuModel: cpus()[0]?.model ?? '?',
    node: process.version,
    dbt: /installed:\s*([\d.]+)/.exec(dbtv)?.[1] ?? '?',
    dbtPostgres: /postgres:\s*([\d.]+)/.exec(dbtv)?.[1] ?? '?',
    postgres,
    commit,
    loadAtStart: loadavg()
      .map((x) => round(x, 2))
      .join(' '),
  };
}
