// Which selected nodes a command runs, and default weights until timings from earlier runs are known.
import type { Manifest, ManifestNode } from '../dbt/manifest.js';

/** Resource types `dbt ls` is asked for, per command (what that command would select). */
export function resourceTypesFor(command: string): string[] {
  switch (command) {
    case 'run':
      return ['model'];
    case 'test':
      return ['test', 'unit_test'];
    case 'seed':
      return ['seed'];
    case 'snapshot':
      return ['snapshot'];
    default:
      return []; // build: dbt's default set
  }
}

/** Resource types that produce a result when run. */
const RUNNABLE = new Set(['model', 'seed', 'snapshot', 'test', 'unit_test', 'function']);

/**
 * The nodes of `ids` that dbt executes: runnable types, members of dbt's graph (`config.enabled` not false: a test
 * declared on a model that does not exist stays in `nodes`, disabled), not empty (dbt's selector drops a node whose
 * SQL is blank; graph/selector.py `_is_graph_member`, `_is_empty_node`), ephemeral models left out (compiled into
 * their children).
 */
export function runnableSelected(m: Manifest, ids: string[]): string[] {
  const nodeOf = (uid: string): ManifestNode | undefined => m.nodes[uid] ?? m.unit_tests?.[uid] ?? m.functions?.[uid];
  return [...new Set(ids)].filter((u) => {
    const n = nodeOf(u);
    if (n === undefined || !RUNNABLE.has(n.resource_type)) return false;
    if (n.config?.enabled === false) return false;
    if (
      n.resource_type !== 'seed' &&
      m.nodes[u] !== undefined &&
      typeof n.raw_code === 'string' &&
      n.raw_code.trim() === ''
    )
      return false;
    if (n.resource_type === 'model' && n.config?.materialized === 'ephemeral') return false;
    return true;
  });
}

/** A node that builds a relation, when no earlier run says how long it takes. */
const DEFAULT_BUILD_SECONDS = 1;
/** A test (or any other node): one query that only reads, usually far cheaper than a build. */
const DEFAULT_OTHER_SECONDS = 0.2;

/** Seconds a node is assumed to take when no earlier run says. */
export function defaultWeight(resourceType: string): number {
  switch (resourceType) {
    case 'model':
    case 'seed':
    case 'snapshot':
      return DEFAULT_BUILD_SECONDS;
    default:
      return DEFAULT_OTHER_SECONDS;
  }
}

/** The distinct (database, schema) pairs the nodes write relations into. */
export function schemasOf(m: Manifest, ids: string[]): { database?: string | null; schema: string }[] {
  const seen = new Map<string, { database?: string | null; schema: string }>();
  for (const u of ids) {
    const n = m.nodes[u];
    if (!n || !['model', 'seed', 'snapshot'].includes(n.resource_type) || !n.schema) continue;
    if (n.config?.materialized === 'ephemeral') continue;
    seen.set(`${n.database ?? ''}\u0000${n.schema}`, { database: n.database, schema: n.schema });
  }
  return [...seen.values()];
}
