// Renders the job summary (GitHub-flavoured Markdown) from the report. Pure: no I/O, no logging.
import { problems, type Counts, type RunReport } from './model.js';

export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes text for a Markdown table cell. */
function cell(s: string): string {
  return escapeHtml(s).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

function countsLine(c: Counts): string {
  const parts = [`${c.passed} passed`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.errored) parts.push(`${c.errored} errored`);
  if (c.warned) parts.push(`${c.warned} warned`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  return parts.join(' · ');
}

export interface SummaryOptions {
  /** How many problem nodes to list in full. */
  maxProblems?: number;
  /** Link files: `${repoUrl}/blob/${sha}/${file}`. */
  fileUrl?: (file: string) => string;
}

export function renderSummary(r: RunReport, o: SummaryOptions = {}): string {
  const out: string[] = [];
  const icon = r.ok ? '✅' : '❌';
  const speedup = r.wallSeconds > 0 && r.chunks.length > 1 ? ` · ${(r.chunkSeconds / r.wallSeconds).toFixed(1)}× the chunks' summed time` : '';
  out.push(`### ${icon} dbt ${r.command}: ${r.counts.total === 0 ? 'no nodes selected' : countsLine(r.counts)}`);
  out.push('');
  out.push(`${r.counts.total} nodes in ${r.chunks.length} chunk${r.chunks.length === 1 ? '' : 's'} · ${duration(r.wallSeconds)} wall${speedup}`);
  out.push('');
  for (const n of r.notes) out.push(`> ${escapeHtml(n)}`, '');

  const bad = problems(r.nodes);
  if (bad.length > 0) {
    const limit = o.maxProblems ?? 50;
    out.push(`#### Problems (${bad.length})`, '');
    out.push('| Status | Node | Chunk | File | Message |', '|---|---|---|---|---|');
    for (const n of bad.slice(0, limit)) {
      const file = n.file ? (o.fileUrl ? `<a href="${escapeHtml(o.fileUrl(n.file))}">${escapeHtml(n.file)}</a>` : cell(n.file)) : '';
      const rows = n.failures !== null && n.failures > 0 && n.bucket !== 'errored' ? ` (${n.failures} row${n.failures === 1 ? '' : 's'})` : '';
      out.push(`| ${statusIcon(n.bucket)} ${cell(n.status)}${rows} | \`${cell(n.name)}\` <sub>${cell(n.resourceType)}</sub> | ${cell(n.chunk)} | ${file} | ${cell(oneLine(n.message ?? ''))} |`);
    }
    if (bad.length > limit) out.push('', `…and ${bad.length - limit} more (see the merged run_results.json).`);
    out.push('');
  }

  if (r.chunks.length > 0) {
    out.push('#### Chunks', '');
    out.push('| Chunk | Nodes | ✅ Pass | ❌ Fail | 💥 Error | ⚠️ Warn | ⏭️ Skip | Time |', '|---|--:|--:|--:|--:|--:|--:|--:|');
    for (const c of r.chunks) {
      out.push(`| ${c.index}. ${cell(c.name)} | ${c.counts.total} | ${c.counts.passed} | ${c.counts.failed} | ${c.counts.errored} | ${c.counts.warned} | ${c.counts.skipped} | ${duration(c.seconds)} |`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

function statusIcon(b: string): string {
  return b === 'errored' ? '💥' : b === 'failed' ? '❌' : b === 'warned' ? '⚠️' : b === 'skipped' ? '⏭️' : '✅';
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 500 ? `${t.slice(0, 497)}…` : t;
}
