// How much of the machine's memory is in use (MemAvailable from /proc/meminfo where there is one).
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';

export function memoryUsedPercent(): number {
  try {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const total = Number(/^MemTotal:\s+(\d+)/m.exec(info)?.[1]);
    const avail = Number(/^MemAvailable:\s+(\d+)/m.exec(info)?.[1]);
    if (total > 0 && avail >= 0) return (100 * (total - avail)) / total;
  } catch {
    /* not Linux */
  }
  return (100 * (totalmem() - freemem())) / totalmem();
}
