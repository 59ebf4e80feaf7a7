// The plan as the log shows it before running.
import type { Plan } from './chunks.js';

/** `slots`: nodes that can run at once (processes × threads). */
export function lowerBound(p: Plan, slots: number): number {
  return Math.max(p.criticalPath, p.totalWork / Math.max(1, slots));
}

export function renderPlan(p: Plan, processes: number, threads: number): string {
  const slots = processes * threads;
  const lines = [`Plan: ${p.chunks.length} chunk(s), ${p.chunks.reduce((n, c) => n + c.nodes.length, 0)} node(s); predicted makespan ${p.makespan.toFixed(1)} s, lower bound ${lowerBound(p, slots).toFixed(1)} s (critical path ${p.criticalPath.toFixed(1)} s, work ${p.totalWork.toFixed(1)} s over ${processes} process(es) × ${threads} thread(s))`];
  for (const c of p.chunks) {
    const after = c.dependsOn.length > 0 ? `, after ${c.dependsOn.join(', ')}` : '';
    lines.push(`  ${c.index}. ${c.name}: ${c.nodes.length} node(s), ~${c.predicted.toFixed(1)} s${after}`);
  }
  return lines.join('\n');
}
