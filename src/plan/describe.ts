// The plan as the log shows it before running.
import { growingPool, type Plan } from './chunks.js';
import type { Machine } from './shape.js';

/**
 * No run of this plan's nodes can be shorter: the longest chain, the work spread over every thread, and (with a
 * machine) dbt's own per-node CPU spread over the processes that can each have a core.
 */
export function lowerBound(p: Plan, processes: number, threads: number, machine?: Machine): number {
  const nodes = p.chunks.reduce((n, c) => n + c.nodes.length, 0);
  const cpu = machine ? (nodes * machine.perNodeCpu) / Math.max(1, Math.min(processes, machine.cores)) : 0;
  return Math.max(p.criticalPath, p.totalWork / Math.max(1, processes * threads), cpu);
}

export function renderPlan(p: Plan, processes: number, threads: number, machine?: Machine): string {
  const nodes = p.chunks.reduce((n, c) => n + c.nodes.length, 0);
  const pool = growingPool(p);
  if (pool !== undefined) {
    const active = pool.active;
    return [
      `Plan: a pool of ${p.chunks.length} workers sharing ${pool.slots} node slots, ${nodes} node(s); predicted makespan ${p.makespan.toFixed(1)} s, lower bound ${lowerBound(p, active, threads, machine).toFixed(1)} s (critical path ${p.criticalPath.toFixed(1)} s, work ${p.totalWork.toFixed(1)} s)`,
      ...p.chunks.map(
        (c, i) =>
          `  ${c.index}. ${c.name}: ${i < active ? 'takes ready nodes from the start' : 'joins when the workers taking nodes are measured CPU-bound with ready nodes waiting'}`,
      ),
    ].join('\n');
  }
  const lines = [
    `Plan: ${p.chunks.length} chunk(s), ${p.chunks.reduce((n, c) => n + c.nodes.length, 0)} node(s) on ${processes} process(es) × ${threads} thread(s); predicted makespan ${p.makespan.toFixed(1)} s, lower bound ${lowerBound(p, processes, threads, machine).toFixed(1)} s (critical path ${p.criticalPath.toFixed(1)} s, work ${p.totalWork.toFixed(1)} s)`,
  ];
  for (const c of p.chunks) {
    const after = c.dependsOn.length > 0 ? `, after ${c.dependsOn.join(', ')}` : '';
    lines.push(`  ${c.index}. ${c.name}: ${c.nodes.length} node(s), ~${c.predicted.toFixed(1)} s${after}`);
  }
  return lines.join('\n');
}
