// What a measured step cost: wall seconds, CPU seconds from /proc (every process this script started and waited
// for, and the PostgreSQL server's), the load average at its start; and the machine's cores.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { round } from './util.mjs';

/** @type {number | undefined} */
let clockTicks;
/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 when it cannot say). */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** @type {number | undefined} */
let nproc;
/** The machine's cores as `nproc` says (the default of --parallel, the CPU term of the lower bounds). */
export function cores() {
  nproc ??= Number(execFileSync('nproc').toString().trim());
  return nproc;
}

/**
 * CPU seconds of a process from /proc: [own, reaped children].
 * @param {number | string} pid
 */
export function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tck = ticksPerSecond();
    return [(Number(f[11]) + Number(f[12])) / tck, (Number(f[13]) + Number(f[14])) / tck];
  } catch {
    return [0, 0];
  }
}

/** CPU seconds used so far by every process this script started and waited for (dbt, the action, Python). */
export const childrenCpu = () => procCpu('self')[1];

/**
 * CPU seconds of a PostgreSQL server: its postmaster and every backend it has reaped.
 * @param {string} dataDir   the cluster's data folder (holds postmaster.pid)
 */
export function postgresCpu(dataDir) {
  try {
    const pid = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
    const [own, kids] = procCpu(pid);
    return own + kids;
  } catch {
    return 0;
  }
}

/**
 * Wall, CPU (client side and PostgreSQL) and load around one measured step.
 * @template {{ wall?: number }} T
 * @param {() => Promise<T>} fn
 * @param {() => number} serverCpu   the PostgreSQL server's CPU seconds so far
 */
export async function measured(fn, serverCpu) {
  const load = loadavg()[0];
  const c0 = childrenCpu();
  const p0 = serverCpu();
  const t0 = Date.now();
  const out = await fn();
  return {
    ...out,
    wall: out.wall ?? (Date.now() - t0) / 1000,
    cpuClient: round(childrenCpu() - c0),
    cpuPostgres: round(serverCpu() - p0),
    load1: round(load, 2),
  };
}
