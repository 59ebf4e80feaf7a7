// Shapes of the dbt artifacts and log events this action reads (dbt-core 1.8+, run_results v6 / manifest v12).

import type { NodeStatus } from './statuses.js';

export interface TimingInfo { name: string; started_at?: string | null; completed_at?: string | null }

/** One entry of run_results.json `results`. */
export interface RunResult {
  unique_id: string;
  status: NodeStatus | string;
  timing: TimingInfo[];
  thread_id: string | null;
  execution_time: number;
  adapter_response: Record<string, unknown>;
  message: string | null;
  failures: number | null;
  compiled?: boolean | null;
  compiled_code?: string | null;
  relation_name?: string | null;
  batch_results?: unknown;
  [key: string]: unknown;
}

export interface RunResultsArtifact {
  metadata: { dbt_schema_version: string; dbt_version: string; generated_at: string; invocation_id: string | null; env?: Record<string, string>; [k: string]: unknown };
  results: RunResult[];
  elapsed_time: number;
  args: Record<string, unknown>;
}

/** The parts of a manifest node this action uses. */
export interface ManifestNode {
  unique_id: string;
  name: string;
  resource_type: string;
  package_name: string;
  original_file_path: string;
  patch_path?: string | null;
  fqn: string[];
  database?: string | null;
  schema?: string;
  alias?: string;
  config?: { materialized?: string; severity?: string; enabled?: boolean; [k: string]: unknown };
  depends_on?: { nodes?: string[]; macros?: string[] };
  attached_node?: string | null;
  test_metadata?: { name: string; kwargs?: Record<string, unknown>; namespace?: string | null } | null;
  column_name?: string | null;
  tags?: string[];
  /** The node's SQL as written (dbt skips a node whose SQL is blank). */
  raw_code?: string;
}

export interface Manifest {
  metadata: { dbt_version: string; project_name?: string; [k: string]: unknown };
  nodes: Record<string, ManifestNode>;
  sources?: Record<string, ManifestNode>;
  unit_tests?: Record<string, ManifestNode>;
  functions?: Record<string, ManifestNode>;
  parent_map?: Record<string, string[]>;
  child_map?: Record<string, string[]>;
}

/** One line of `--log-format json` output. */
export interface DbtLogEvent {
  info: { name: string; code?: string; level: string; msg: string; ts?: string; invocation_id?: string };
  data: {
    node_info?: { unique_id: string; node_status?: string; resource_type?: string; node_path?: string; node_name?: string };
    [k: string]: unknown;
  };
}
