// Builds the report model from the chunks' results and the manifest: files relative to the repository root,
// a generic test's line in its YAML file, and for each skipped node the failure upstream that caused it.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { manifestNodes, type Manifest, type ManifestNode } from '../dbt/manifest.js';
import type { RunResult } from '../dbt/run-results.js';
import { isFailure } from '../dbt/statuses.js';
import type { Chunk } from '../plan/chunks.js';
import {
  countOf,
  flakyOf,
  nodeFacts,
  outcomeOf,
  type ChunkSummary,
  type FlakyNode,
  type NodeOutcome,
  type RunReport,
  type SpeedEstimate,
} from './model.js';
import { declarationFinder, type TestDeclaration } from './yaml-lines.js';

export interface ReportInput {
  command: string;
  manifest: Manifest;
  /** The repository root (files are reported relative to it) and the dbt project inside it. */
  paths: { projectDir: string; workspace: string };
  /** startedAt/endedAt: epoch ms of the chunk's process(es); predicted: the planner's estimate in seconds. */
  chunks: { chunk: Chunk; results: RunResult[]; startedAt?: number; endedAt?: number; predicted?: number }[];
  planNotes: string[];
  wallSeconds: number;
  speedEstimate?: SpeedEstimate;
  /** Reads a file by absolute path (a generic test's YAML); undefined when unreadable. Default: the disk. */
  readFile?: (absPath: string) => string | undefined;
  /** Nodes that ran more than once, with every attempt's status (the flaky ones are reported). */
  retried?: FlakyNode[];
}

export function buildReport(i: ReportInput): RunReport {
  const all = manifestNodes(i.manifest);
  const root = i.manifest.metadata.project_name;
  const read = cachedReader(i.readFile ?? readFromDisk);
  const finders = new Map<string, ((d: TestDeclaration) => number) | undefined>();
  const finder = (path: string): ((d: TestDeclaration) => number) | undefined => {
    if (!finders.has(path)) {
      const text = read(path);
      finders.set(path, text === undefined ? undefined : declarationFinder(text));
    }
    return finders.get(path);
  };
  const nodes = i.chunks.flatMap((c) =>
    c.results.map((r) => {
      const m = all.get(r.unique_id);
      const o = outcomeOf(r, nodeFacts(m, r.unique_id, i.paths.projectDir, i.paths.workspace, root), c.chunk.name);
      // Lines matter where a node is annotated or linked: the problems.
      if (o.bucket !== 'passed' && o.file !== undefined && m !== undefined) {
        const line = yamlLine(m, all, i.paths.projectDir, finder);
        if (line !== undefined) o.line = line;
      }
      return o;
    }),
  );
  assignCauses(nodes, all);

  const firstStart = Math.min(...i.chunks.map((c) => c.startedAt ?? Infinity));
  const chunks = i.chunks.map((c): ChunkSummary => ({
    index: c.chunk.index,
    name: c.chunk.name,
    counts: countOf(nodes.filter((n) => n.chunk === c.chunk.name)),
    seconds: c.startedAt !== undefined && c.endedAt !== undefined ? (c.endedAt - c.startedAt) / 1000 : 0,
    predicted: c.predicted ?? c.chunk.predicted,
    ...(c.startedAt !== undefined && Number.isFinite(firstStart)
      ? { startedAfter: (c.startedAt - firstStart) / 1000 }
      : {}),
    ...(c.chunk.predictedStart !== undefined ? { predictedStart: c.chunk.predictedStart } : {}),
  }));
  const counts = countOf(nodes);
  return {
    command: i.command,
    ok: counts.failed === 0 && counts.errored === 0 && counts.skipped === 0,
    counts,
    wallSeconds: i.wallSeconds,
    ...(i.speedEstimate !== undefined ? { speedEstimate: i.speedEstimate } : {}),
    chunks,
    nodes,
    notes: i.planNotes,
    ...(i.retried !== undefined && flakyOf(i.retried).length > 0 ? { flaky: flakyOf(i.retried) } : {}),
  };
}

function readFromDisk(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function cachedReader(read: (path: string) => string | undefined): (path: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (path) => {
    if (!cache.has(path)) cache.set(path, read(path));
    return cache.get(path);
  };
}

/** The line of a generic test's declaration in its YAML file; undefined for any other node (line 1 is implied). */
function yamlLine(
  n: ManifestNode,
  all: Map<string, ManifestNode>,
  projectDir: string,
  finder: (p: string) => ((d: TestDeclaration) => number) | undefined,
): number | undefined {
  if (!n.test_metadata || !/\.ya?ml$/i.test(n.original_file_path)) return undefined;
  const find = finder(isAbsolute(n.original_file_path) ? n.original_file_path : join(projectDir, n.original_file_path));
  const d = find === undefined ? undefined : declarationOf(n, all);
  return d === undefined ? undefined : find!(d);
}

/** Where to look for a generic test: file_key_name says `models.stg_orders` or `sources.raw`. */
function declarationOf(n: ManifestNode, all: Map<string, ManifestNode>): TestDeclaration | undefined {
  const key = (n as ManifestNode & { file_key_name?: string | null }).file_key_name ?? undefined;
  const kwargs = n.test_metadata?.kwargs ?? {};
  let section: string | undefined;
  let parent: string | undefined;
  if (key) {
    const dot = key.indexOf('.');
    section = key.slice(0, dot);
    parent = key.slice(dot + 1);
  } else if (n.attached_node) {
    parent = all.get(n.attached_node)?.name;
  }
  if (parent === undefined) return undefined;
  let table: string | undefined;
  if (section === 'sources') {
    const src = /source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)/.exec(String(kwargs.model ?? ''));
    if (src) table = src[2];
  }
  return {
    section,
    parent,
    table,
    column: n.column_name ?? (typeof kwargs.column_name === 'string' ? kwargs.column_name : null),
    testName: n.test_metadata!.name,
    namespace: n.test_metadata!.namespace,
    nodeName: n.name,
    kwargs,
  };
}

/**
 * For each skipped node, the errored or failed node upstream that made it skip: named by the scheduler's
 * message for skips across chunks, else the nearest failing parent, or a failing test on a parent (dbt build
 * skips what a failing test blocks), or the cause of a skipped parent.
 */
function assignCauses(nodes: NodeOutcome[], all: Map<string, ManifestNode>): void {
  const byUid = new Map(nodes.map((n) => [n.uid, n]));
  const failingTestsOf = new Map<string, string[]>();
  for (const n of nodes) {
    if (!isFailure(n.bucket) || n.resourceType !== 'test') continue;
    for (const p of all.get(n.uid)?.depends_on?.nodes ?? []) {
      const list = failingTestsOf.get(p);
      if (list) list.push(n.uid);
      else failingTestsOf.set(p, [n.uid]);
    }
  }
  const memo = new Map<string, string | null>();
  const parentsOf = (uid: string): string[] => {
    const named = /upstream (\S+)/.exec(byUid.get(uid)?.message ?? '')?.[1];
    return [...(named !== undefined ? [named] : []), ...(all.get(uid)?.depends_on?.nodes ?? [])];
  };
  // Depth-first with an explicit stack: chains of skipped nodes can be thousands long.
  const causeOf = (start: string): string | null => {
    const stack = [start];
    const onStack = new Set(stack);
    while (stack.length > 0) {
      const uid = stack[stack.length - 1];
      let found: string | null = null;
      let descend: string | undefined;
      for (const p of parentsOf(uid)) {
        const o = byUid.get(p);
        if (o !== undefined && isFailure(o.bucket)) found = p;
        else if (failingTestsOf.has(p)) found = failingTestsOf.get(p)![0];
        else if (o?.bucket === 'skipped' && !onStack.has(p)) {
          if (!memo.has(p)) {
            descend = p;
            break;
          }
          found = memo.get(p)!;
        }
        if (found !== null) break;
      }
      if (descend !== undefined) {
        stack.push(descend);
        onStack.add(descend);
        continue;
      }
      memo.set(uid, found);
      stack.pop();
      onStack.delete(uid);
    }
    return memo.get(start) ?? null;
  };
  for (const n of nodes) {
    if (n.bucket !== 'skipped') continue;
    const c = causeOf(n.uid);
    if (c !== null) n.cause = c;
  }
}
