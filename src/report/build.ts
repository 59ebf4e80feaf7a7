// Builds the report model from the chunks' results and the manifest.
import type { Manifest, RunResult } from '../dbt/types.js';
import type { Settings } from '../inputs/settings.js';
import type { Chunk } from '../plan/chunks.js';
import { manifestNodes } from '../plan/graph.js';
import { countOf, nodeFacts, outcomeOf, type RunReport } from './model.js';

export interface ReportInput {
  command: string;
  manifest: Manifest;
  settings: Pick<Settings, 'projectDir' | 'workspace'>;
  chunks: { chunk: Chunk; results: RunResult[]; startedAt?: number; endedAt?: number; predicted?: number }[];
  planNotes: string[];
  wallSeconds: number;
}

export function buildReport(i: ReportInput): RunReport {
  const all = manifestNodes(i.manifest);
  const root = i.manifest.metadata.project_name;
  const nodes = i.chunks.flatMap((c) =>
    c.results.map((r) => outcomeOf(r, nodeFacts(all.get(r.unique_id), r.unique_id, i.settings.projectDir, i.settings.workspace, root), c.chunk.name)));
  const chunks = i.chunks.map((c) => ({
    index: c.chunk.index,
    name: c.chunk.name,
    counts: countOf(nodes.filter((n) => n.chunk === c.chunk.name)),
    seconds: c.startedAt !== undefined && c.endedAt !== undefined ? (c.endedAt - c.startedAt) / 1000 : 0,
    predicted: c.predicted,
  }));
  const counts = countOf(nodes);
  return {
    command: i.command,
    ok: counts.failed === 0 && counts.errored === 0 && counts.skipped === 0,
    counts,
    wallSeconds: i.wallSeconds,
    chunkSeconds: chunks.reduce((s, c) => s + c.seconds, 0),
    chunks,
    nodes,
    notes: i.planNotes,
  };
}
