// manifest.json, the one owner of the format: the parts of it this action reads (dbt-core 1.8+, schema v12), and
// reading it with a check that gives one line naming the file and what is wrong. The check covers what the action
// reads of every node (a manifest dbt wrote always passes it); everything else in the file is kept as read.
import { DbtArtifactError } from './errors.js';
import { isObject, isStrings, parseJson, readJson } from './json.js';

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
  /** The YAML key a generic test was declared under (models, sources, …). */
  file_key_name?: string | null;
  tags?: string[];
  /** The node's SQL as written (dbt skips a node whose SQL is blank). */
  raw_code?: string;
}

export interface Manifest {
  metadata: { dbt_version: string; project_name?: string; adapter_type?: string; [k: string]: unknown };
  nodes: Record<string, ManifestNode>;
  sources?: Record<string, ManifestNode>;
  unit_tests?: Record<string, ManifestNode>;
  functions?: Record<string, ManifestNode>;
  parent_map?: Record<string, string[]>;
  child_map?: Record<string, string[]>;
}

/** The groups of the manifest that hold nodes (what can depend on or be depended on). */
const NODE_GROUPS = ['nodes', 'sources', 'unit_tests', 'functions'] as const;

/** All nodes of the manifest that can depend on or be depended on. */
export function manifestNodes(m: Manifest): Map<string, ManifestNode> {
  const all = new Map<string, ManifestNode>();
  for (const group of [m.nodes, m.sources ?? {}, m.unit_tests ?? {}, m.functions ?? {}]) {
    for (const [uid, n] of Object.entries(group)) all.set(uid, n);
  }
  return all;
}

/** Reads and checks a manifest.json; a file that cannot be read or is not one throws one line naming it. */
export function readManifest(path: string): Manifest {
  return checkManifest(readJson(path), path);
}

/** A manifest.json's text, checked; `source` names it in the error. */
export function parseManifest(text: string, source: string): Manifest {
  return checkManifest(parseJson(text, source), source);
}

/** Parsed JSON checked as a manifest.json; `source` names it in the error. */
function checkManifest(doc: unknown, source: string): Manifest {
  const bad = (why: string): DbtArtifactError => new DbtArtifactError(`${source} is not a dbt manifest.json (${why})`);
  if (!isObject(doc) || !isObject(doc.metadata) || typeof doc.metadata.dbt_version !== 'string')
    throw bad('no "metadata.dbt_version"');
  if (!isObject(doc.nodes)) throw bad('no "nodes" object');
  for (const group of NODE_GROUPS) {
    const nodes = doc[group];
    if (nodes === undefined && group !== 'nodes') continue;
    if (!isObject(nodes)) throw bad(`"${group}" is not an object`);
    for (const [uid, n] of Object.entries(nodes)) {
      const why = nodeProblem(uid, n);
      if (why !== undefined) throw bad(`${group}["${uid}"]: ${why}`);
    }
  }
  return doc as unknown as Manifest;
}

/** What is wrong with one node, if anything (what the action reads of it, with the types dbt writes). */
function nodeProblem(uid: string, n: unknown): string | undefined {
  if (!isObject(n)) return 'not an object';
  if (n.unique_id !== uid) return '"unique_id" is not its key';
  for (const k of ['name', 'resource_type', 'package_name', 'original_file_path'] as const)
    if (typeof n[k] !== 'string') return `"${k}" is not a string`;
  if (!isStrings(n.fqn)) return '"fqn" is not a list of strings';
  if (n.config !== undefined && !isObject(n.config)) return '"config" is not an object';
  if (
    n.depends_on !== undefined &&
    !(isObject(n.depends_on) && (n.depends_on.nodes === undefined || isStrings(n.depends_on.nodes)))
  )
    return '"depends_on.nodes" is not a list of strings';
  return undefined;
}
