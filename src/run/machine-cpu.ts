// How many CPU-seconds the machine's cores were busy (any process, and time a hypervisor took from them), to learn
// what else runs on the cores the workers use: a PostgreSQL on the runner, the action itself, other tenants.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/** Linux's USER_HZ: /proc/stat counts in these ticks (100 on every Linux GitHub runs). */
const TICKS_PER_SECOND = 100;

/**
 * Busy CPU-seconds of all cores since boot: /proc/stat's user + nice + system + irq + softirq + steal, else
 * os.cpus() (no steal). Undefined where the cores counted are not the ones this process may use (a container that
 * sees the host's CPUs), as the figure would then be other machines' work.
 */
export function machineBusySeconds(): number | undefined {
  const n = cpus().length;
  if (n === 0 || n !== availableParallelism()) return undefined;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (line.startsWith('cpu ') && f.length >= 8 && f.every((x) => Number.isFinite(x))) {
      const [user, nice, system, , , irq, softirq, steal] = f;
      return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
    }
  } catch {
    /* not Linux */
  }
  return cpus().reduce((s, c) => s + (c.times.user + c.times.nice + c.times.sys + c.times.irq) / 1000, 0);
}
