// The plan of one runner's share: named groups, or the process × thread shape predicted fastest. Pure: the graph,
// the weights, the machine and what the user allowed in; the plan, its budget and every line worth saying out.
import type { Manifest } from '../dbt/manifest.js';
import type { Budget } from './budget.js';
import { growingPool, type Plan } from './chunks.js';
import type { PlanGraph } from './graph.js';
import { planGroups, type GroupMembers } from './groups.js';
import {
  budgetNote,
  chooseShape,
  shapeCandidates,
  type Machine,
  type ShapeChoice,
  type ShapeRequest,
} from './shape.js';

/** Commands whose dbt process runs the project's on-run-start / on-run-end hooks. */
const HOOK_COMMANDS = new Set(['build', 'run', 'seed', 'snapshot', 'test']);

/** The project's on-run-start / on-run-end hooks that `dbt <command>` runs (none for a command that runs no hooks). */
export function hooksRun(m: Manifest, command: string): { start: number; end: number } {
  return HOOK_COMMANDS.has(command) ? projectHooks(m) : { start: 0, end: 0 };
}

export interface RunPlanInput {
  graph: PlanGraph;
  weight: (uid: string) => number;
  machine: Machine;
  request: ShapeRequest;
  /** Named groups (input groups): one chunk per group, dependencies between them respected. */
  groups?: GroupMembers[];
  manifest: Manifest;
  command: string;
  /** Forked workers share one run: its hooks run once whatever the chunks (run/share.ts). */
  hooksOnce?: boolean;
}

export interface RunPlan {
  plan: Plan;
  budget: Budget;
  /** The shape comparison, when the shape was chosen (not with groups). */
  choice?: ShapeChoice;
  /** Each shape tried with its predicted makespan, and the one used (when more than one was tried). */
  shapesLine?: string;
  /** The budget could not be met as asked (a warning before the run). */
  budgetWarning?: string;
  /** The connections used of max-connections, when it was given. */
  connectionsLine?: string;
  /** What the user should know, before the run and in the report: group notes, hooks that run once per chunk. */
  notes: string[];
}

export function planRun(i: RunPlanInput): RunPlan {
  const notes: string[] = [];
  let plan: Plan;
  let budget: Budget;
  let choice: ShapeChoice | undefined;
  if (i.groups !== undefined && i.groups.length > 0) {
    const gp = planGroups(i.graph, i.groups, i.weight);
    plan = gp;
    notes.push(...gp.notes);
    const shapes = shapeCandidates({ ...i.request, chunks: gp.chunks.length });
    budget = shapes[shapes.length - 1];
  } else {
    choice = chooseShape(i.graph, i.weight, i.machine, i.request);
    plan = choice.plan;
    budget = choice.shape;
  }
  const connectionsLine =
    i.request.maxConnections === undefined
      ? undefined
      : plan.pooled !== undefined && plan.pooled.slots > 0
        ? `Connections: at most ${budget.peak} of max-connections ${i.request.maxConnections} (the pool's ${plan.pooled.slots} node slots, plus the main connection of each of ${budget.parallel - 1} worker(s) starting while others run).`
        : `Connections: at most ${budget.peak} of max-connections ${i.request.maxConnections} (processes × (threads + 1)).`;
  const hooks = i.hooksOnce === true ? undefined : hooksNote(i.manifest, plan.chunks.length, i.command);
  if (hooks !== undefined) notes.push(hooks);
  return {
    plan,
    budget,
    choice,
    notes,
    connectionsLine,
    budgetWarning: budgetNote(i.request, budget),
    shapesLine: choice !== undefined && choice.tried.length > 1 ? shapesLine(choice) : undefined,
  };
}

/** Every shape tried with its predicted makespan, and the one used. */
function shapesLine(c: ShapeChoice): string {
  const tried = c.tried.map((t) => `${t.shape.parallel}×${t.shape.threads} → ~${t.makespan.toFixed(1)} s`).join(', ');
  const pool = growingPool(c.plan);
  if (pool !== undefined) {
    const start =
      pool.active === 1
        ? 'one takes nodes from the start, as plain dbt (no wider shape is predicted at least 5 % faster)'
        : `${pool.active} take nodes from the start (predicted fastest)`;
    return `Shapes (processes × threads): ${tried}; using a pool of ${c.shape.parallel} workers sharing ${pool.slots} node slots: ${start}; the others join while the run goes if dbt is measured CPU-bound with ready nodes waiting.`;
  }
  const why =
    c.shape.parallel === 1 ? ' (one process, as plain dbt: no wider shape is predicted at least 5 % faster)' : '';
  return `Shapes (processes × threads): ${tried}; using ${c.shape.parallel} × ${c.shape.threads}${why}.`;
}

/** Hooks run once per dbt process, so with several chunks they run several times: say so before running. */
export function hooksNote(m: Manifest, chunks: number, command: string): string | undefined {
  const hooks = projectHooks(m);
  if (chunks <= 1 || hooks.start + hooks.end === 0 || !HOOK_COMMANDS.has(command)) return undefined;
  return `The project has ${hooks.start} on-run-start and ${hooks.end} on-run-end hook(s): on this run path (one dbt process per chunk) every process runs them, so they run ${chunks} times, each on-run-end seeing only its chunk's results. Forked workers (Linux, worker-host: auto) run them once; otherwise keep them idempotent, or use chunks: 1.`;
}

/** on-run-start / on-run-end hooks of the project and its packages (manifest operation nodes). */
export function projectHooks(m: Manifest): { start: number; end: number } {
  let start = 0;
  let end = 0;
  for (const [uid, n] of Object.entries(m.nodes)) {
    if (n.resource_type !== 'operation') continue;
    if (/on-run-start/.test(uid)) start++;
    else if (/on-run-end/.test(uid)) end++;
  }
  return { start, end };
}
