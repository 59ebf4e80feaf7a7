// Renders the job summary (GitHub-flavoured Markdown) from the report. Pure: no I/O, no logging.
//
// Order: one status line, notes, the failures (each with its chunk, linked file, dbt's message, failing rows
// and compiled SQL), warnings, the per-chunk table (predicted vs actual), the slowest nodes, every node.
// GitHub drops a step summary over 1 MiB, so the text is rendered at the richest level that fits: every node →
// failures without the node list → without SQL → the first failures in a table → counts. Each level is a
// whole document; nothing is ever cut mid-table.
//
// Everything from dbt is escaped: HTML-escaped (and Markdown-escaped) in text and table cells, and shown
// verbatim in fenced code blocks whose fence is longer than any run of backticks in the content.
import { annotationsFor, hiddenAnnotations, labelOf, type AnnotationSlots } from './annotations.js';
import { relativeChange } from './compare.js';
import { clip, oneLine } from '../shared/text.js';
import { isFailure } from '../dbt/statuses.js';
import {
  isTest,
  problems,
  type Change,
  type ChunkSummary,
  type Counts,
  type NodeOutcome,
  type RunReport,
} from './model.js';

export const SUMMARY_LIMIT_BYTES = 1024 * 1024;
/** Notes shown at the top, each cut at NOTE_CHARS; the rest are counted (the log has them all). */
const NOTES_SHOWN = 20;
const NOTE_CHARS = 1000;
/** Rows of the slowest-nodes table unless told. */
const SLOWEST_ROWS = 10;

export interface SummaryOptions {
  /** Link to a file at the commit; see githubFileUrl. Without it files are shown unlinked. */
  fileUrl?: (file: string, line?: number) => string;
  /** Upper bound of the UTF-8 size. Default: GitHub's 1 MiB step-summary limit. */
  maxBytes?: number;
  /** Annotation slots still free in this step (default 10 errors, 10 warnings): says how many won't show. */
  annotationSlots?: AnnotationSlots;
  /** Rows of the slowest-nodes table (default 10). */
  slowest?: number;
}

/** Links to `<server>/<owner>/<repo>/blob/<sha>/<file>#L<line>`, from the runner's GITHUB_* variables. */
export function githubFileUrl(
  env: Record<string, string | undefined>,
): ((file: string, line?: number) => string) | undefined {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const repo = env.GITHUB_REPOSITORY;
  const sha = env.GITHUB_SHA;
  if (!repo || !sha) return undefined;
  return (file, line) =>
    `${server}/${repo}/blob/${sha}/${file.split('/').map(encodeURIComponent).join('/')}${line !== undefined && line > 1 ? `#L${line}` : ''}`;
}

/** How much a level shows. */
interface Level {
  allNodes: boolean;
  sql: boolean;
  /** Failures shown as blocks; the next `tableRows` as table rows; the rest counted. */
  blocks: number;
  tableRows: number;
  messageChars: number;
  sqlChars: number;
  /** Names listed per cause ("skipped because of it"). */
  skippedNames: number;
  warningRows: number;
  /** Only the status line, notes and the chunk table. */
  countsOnly?: boolean;
  omitted?: string;
}

const LEVELS: Level[] = [
  {
    allNodes: true,
    sql: true,
    blocks: Infinity,
    tableRows: 0,
    messageChars: 20_000,
    sqlChars: 50_000,
    skippedNames: Infinity,
    warningRows: Infinity,
  },
  {
    allNodes: false,
    sql: true,
    blocks: Infinity,
    tableRows: 0,
    messageChars: 20_000,
    sqlChars: 50_000,
    skippedNames: 200,
    warningRows: Infinity,
    omitted: 'the list of all nodes',
  },
  {
    allNodes: false,
    sql: false,
    blocks: Infinity,
    tableRows: 0,
    messageChars: 2_000,
    sqlChars: 0,
    skippedNames: 50,
    warningRows: 500,
    omitted: 'the list of all nodes and the compiled SQL',
  },
  {
    allNodes: false,
    sql: false,
    blocks: 20,
    tableRows: 1_000,
    messageChars: 300,
    sqlChars: 0,
    skippedNames: 0,
    warningRows: 100,
    omitted: 'the list of all nodes, the compiled SQL and most failures’ details',
  },
  {
    allNodes: false,
    sql: false,
    blocks: 0,
    tableRows: 0,
    messageChars: 0,
    sqlChars: 0,
    skippedNames: 0,
    warningRows: 0,
    countsOnly: true,
    omitted: 'every node’s details',
  },
];

export function renderSummary(r: RunReport, o: SummaryOptions = {}): string {
  const max = o.maxBytes ?? SUMMARY_LIMIT_BYTES;
  let text = '';
  const p = summaryParts(r, o);
  for (const level of LEVELS) {
    text = render(r, p, o, level);
    if (Buffer.byteLength(text, 'utf8') <= max) return text;
  }
  // Only an absurd chunk count or a tiny maxBytes gets here: the status line and what fits of the notes.
  const lines = text.split('\n');
  const out: string[] = [];
  let size = 0;
  for (const l of lines) {
    size += Buffer.byteLength(l, 'utf8') + 1;
    if (size > max - 1 || (l.startsWith('|') && out.length > 0 && !out[out.length - 1].startsWith('|'))) break;
    out.push(l);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** What every level needs, worked out once. */
interface SummaryParts {
  bad: NodeOutcome[];
  failures: NodeOutcome[];
  skipped: NodeOutcome[];
  warnings: NodeOutcome[];
  /** Skipped nodes by the failure that caused them; orphans: skipped without a known cause. */
  skippedBy: Map<string, NodeOutcome[]>;
  orphans: NodeOutcome[];
  hidden: AnnotationSlots;
  slow: NodeOutcome[];
}

function summaryParts(r: RunReport, o: SummaryOptions): SummaryParts {
  const byUid = new Map(r.nodes.map((n) => [n.uid, n]));
  const bad = problems(r.nodes, r.comparison?.since);
  const skipped = bad.filter((n) => n.bucket === 'skipped');
  const skippedBy = new Map<string, NodeOutcome[]>();
  for (const n of skipped) {
    if (n.cause === undefined || !byUid.has(n.cause)) continue;
    const list = skippedBy.get(n.cause);
    if (list) list.push(n);
    else skippedBy.set(n.cause, [n]);
  }
  return {
    bad,
    skipped,
    skippedBy,
    failures: bad.filter((n) => isFailure(n.bucket)),
    warnings: bad.filter((n) => n.bucket === 'warned'),
    orphans: skipped.filter((n) => n.cause === undefined || !byUid.has(n.cause)),
    hidden: hiddenAnnotations(annotationsFor(r), o.annotationSlots),
    slow: slowest(r.nodes, o.slowest ?? SLOWEST_ROWS),
  };
}

function render(r: RunReport, p: SummaryParts, o: SummaryOptions, lv: Level): string {
  const out: string[] = [statusLine(r), ''];
  if (r.comparison) out.push(deltaLine(r), '');
  const { bad, failures, skipped, warnings, skippedBy, orphans, hidden } = p;
  const tag = (n: NodeOutcome): string => sinceTag(r, n);

  // Notes: the plan's, the annotation overflow, and what this level leaves out.
  const notes = r.notes.slice(0, NOTES_SHOWN).map((n) => `⚠️ ${inline(clip(n, NOTE_CHARS))}`);
  if (r.notes.length > NOTES_SHOWN) notes.push(`…and ${num(r.notes.length - NOTES_SHOWN)} more notes (see the log).`);
  if (hidden.error + hidden.warning > 0) {
    const parts = [
      hidden.error ? plural(hidden.error, 'error') : '',
      hidden.warning ? plural(hidden.warning, 'warning') : '',
    ].filter(Boolean);
    const listsAll = !lv.countsOnly && lv.blocks + lv.tableRows >= failures.length && lv.warningRows >= warnings.length;
    notes.push(
      `${parts.join(' and ')} more than GitHub shows as annotations (10 of each per step): ${listsAll ? 'they are all listed below' : 'the merged run_results.json has them all'}.`,
    );
  }
  if (lv.omitted)
    notes.push(
      `Shortened to stay under GitHub’s 1 MiB job-summary limit: ${lv.omitted} left out. The merged run_results.json (output \`results\`) has every node.`,
    );
  for (const n of notes) out.push(`> ${n}`, '>');
  if (notes.length > 0) out.splice(out.length - 1, 1, '');

  if (lv.countsOnly) {
    if (bad.length > 0) out.push(...problemCounts(failures, skipped, warnings), '');
  } else {
    if (failures.length > 0 || orphans.length > 0) {
      out.push(
        `#### Failures (${num(failures.length)}${skipped.length > 0 ? ` · ${num(skipped.length)} skipped` : ''})`,
        '',
      );
      const shown = failures.slice(0, lv.blocks);
      for (const n of shown) out.push(...failureBlock(n, skippedBy.get(n.uid) ?? [], o, lv, tag(n)));
      const rows = failures.slice(shown.length, shown.length + lv.tableRows);
      if (rows.length > 0) {
        out.push('| Status | Node | Chunk | File | Message |', '|---|---|---|---|---|');
        for (const n of rows)
          out.push(
            `| ${icon(n)} ${inline(n.status)}${n.bucket === 'failed' && n.failures !== null ? ` (${plural(n.failures, 'row')})` : ''}${tag(n)} | ${nodeName(n)} | ${inline(n.chunk)} | ${fileLink(n, o)} | ${inline(clip(oneLine(n.message ?? ''), lv.messageChars))} |`,
          );
        out.push('');
      }
      const rest = failures.length - shown.length - rows.length;
      if (rest > 0) out.push(`…and ${plural(rest, 'more failure')} (see the merged run_results.json).`, '');
      if (orphans.length > 0) {
        const names = nameList(orphans, lv.skippedNames);
        out.push(`**⏭️ ${plural(orphans.length, 'node')} skipped**${names ? `: ${names}` : ''}`, '');
      }
    }
    if (warnings.length > 0) {
      out.push(`#### Warnings (${num(warnings.length)})`, '');
      out.push('| Node | Chunk | File | Message |', '|---|---|---|---|');
      for (const n of warnings.slice(0, lv.warningRows))
        out.push(
          `| ${icon(n)} ${nodeName(n)}${tag(n)} | ${inline(n.chunk)} | ${fileLink(n, o)} | ${inline(clip(oneLine(n.message ?? n.status), Math.max(300, lv.messageChars / 10)))} |`,
        );
      out.push('');
      if (warnings.length > lv.warningRows)
        out.push(
          `…and ${plural(warnings.length - lv.warningRows, 'more warning')} (see the merged run_results.json).`,
          '',
        );
    }
  }

  if (!lv.countsOnly) out.push(...changeSections(r, lv));
  if (r.chunks.length > 0) out.push(...chunkTable(r.chunks), '');
  if (!lv.countsOnly) {
    const slow = p.slow;
    if (slow.length > 0) {
      out.push('#### Slowest nodes', '', '| Node | Type | Chunk | Time |', '|---|---|---|--:|');
      for (const n of slow)
        out.push(
          `| ${icon(n)} ${nodeName(n)} | ${inline(n.resourceType)} | ${inline(n.chunk)} | ${duration(n.seconds)} |`,
        );
      out.push('');
    }
  }
  if (lv.allNodes && r.nodes.length > 0) {
    out.push(`<details><summary>All ${num(r.nodes.length)} nodes</summary>`, '');
    out.push('| Node | Type | Chunk | Status | Time |', '|---|---|---|---|--:|');
    for (const n of r.nodes)
      out.push(
        `| ${icon(n)} ${nodeName(n)} | ${inline(n.resourceType)} | ${inline(n.chunk)} | ${inline(n.status)} | ${n.bucket === 'skipped' ? '' : duration(n.seconds)} |`,
      );
    out.push('', '</details>', '');
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** Speed ratios this close to 1 are reported as the same speed. */
const SAME_SPEED = 0.05;

function statusLine(r: RunReport): string {
  const head = `### ${r.ok ? '✅' : '❌'} dbt ${inline(r.command)}: `;
  if (r.counts.total === 0) return `${head}no nodes selected · ${duration(r.wallSeconds)}`;
  const parts = [
    countsText(r.counts),
    `${plural(r.counts.total, 'node')} in ${plural(r.chunks.length, 'chunk')}`,
    `${duration(r.wallSeconds)} wall`,
  ];
  const est = r.speedEstimate;
  if (r.chunks.length > 1 && est !== undefined && est.chosen > 0 && est.oneProcess > 0) {
    const how = est.basis === 'this run' ? "estimated from this run's node times" : 'estimated';
    const ratio = est.oneProcess / est.chosen;
    // The figure is a model's, never a measurement of one dbt process: it is shown where it says faster or the same,
    // and left out where it says slower (the model of a forced shape can be far off; the headline must not call a run
    // slower than it was). Within 5 % it is no claim either way (the planner keeps one process unless 5 % faster).
    if (Math.abs(ratio - 1) < SAME_SPEED) parts.push(`about as fast as one dbt process with the same budget (${how})`);
    else if (ratio > 1)
      parts.push(
        `~${ratio.toFixed(1)}× one dbt process with the same budget (${how}: ${duration(est.chosen)} against ${duration(est.oneProcess)})`,
      );
  }
  return head + parts.join(' · ');
}

/** `1 new failure · 3 already failing · 1 fixed` against the base (compare-to). */
function deltaLine(r: RunReport): string {
  const c = r.comparison!;
  const files =
    c.files.length === 0
      ? 'no base found, so every problem counts as new'
      : `${plural(c.files.length, 'base run_results.json file')}`;
  const parts = [
    plural(c.newFailures.length, 'new failure'),
    `${num(c.existingFailures.length)} already failing`,
    `${num(c.fixed.length)} fixed`,
  ];
  if (r.flaky && r.flaky.length > 0) parts.push(`${num(r.flaky.length)} flaky`);
  return `**Against the base** (${files}): ${parts.join(' · ')}`;
}

/** ` · 🆕 new in this PR` or ` · already failing on the base`, when compared. */
function sinceTag(r: RunReport, n: NodeOutcome): string {
  const since = r.comparison?.since.get(n.uid);
  if (since === undefined) return '';
  return since === 'new' ? ` · 🆕 ${labelOf(n, since)}` : ` · ${labelOf(n, since)}`;
}

/** Fixed, flaky, slower and row-count sections: present only when there is something to say. */
function changeSections(r: RunReport, lv: Level): string[] {
  const out: string[] = [];
  const byUid = new Map(r.nodes.map((n) => [n.uid, n]));
  const nameOf = (uid: string): string => code(byUid.get(uid)?.name ?? uid, true);
  const c = r.comparison;
  const cap = Math.max(20, Math.min(lv.skippedNames, 500));
  if (c && c.fixed.length > 0) {
    out.push(`#### Fixed since the base (${num(c.fixed.length)})`, '');
    const names = c.fixed
      .slice(0, cap)
      .map((f) => `✅ ${nameOf(f.uid)} (was ${inline(f.baseStatus)})`)
      .join(', ');
    out.push(`${names}${c.fixed.length > cap ? `, …and ${num(c.fixed.length - cap)} more` : ''}`, '');
  }
  if (r.flaky && r.flaky.length > 0) {
    out.push(
      `#### Flaky (${num(r.flaky.length)})`,
      '',
      'Passed only on a retry: green in the results, but not to be trusted.',
      '',
    );
    out.push('| Node | Type | Chunk | Attempts |', '|---|---|---|---|');
    for (const f of r.flaky.slice(0, cap)) {
      const n = byUid.get(f.uid);
      out.push(
        `| 🔁 ${nameOf(f.uid)} | ${inline(n?.resourceType ?? f.uid.split('.')[0])} | ${inline(n?.chunk ?? '')} | ${inline(f.statuses.join(' → '))} |`,
      );
    }
    out.push('');
  }
  if (c && c.slower.length > 0) {
    out.push('#### Slower than on the base', '', '| Node | Type | Base | Now | Factor |', '|---|---|--:|--:|--:|');
    for (const x of c.slower)
      out.push(
        `| 🐢 ${nameOf(x.uid)} | ${inline(byUid.get(x.uid)?.resourceType ?? '')} | ${duration(x.base)} | ${duration(x.now)} | ${(x.now / x.base).toFixed(1)}× |`,
      );
    out.push('');
  }
  if (c && c.rows.length > 0) {
    out.push('#### Row counts changed by 20 % or more', '', '| Node | Base | Now | Change |', '|---|--:|--:|--:|');
    for (const x of c.rows.slice(0, cap))
      out.push(`| ${nameOf(x.uid)} | ${num(x.base)} | ${num(x.now)} | ${rowChange(x)} |`);
    if (c.rows.length > cap) out.push('', `…and ${plural(c.rows.length - cap, 'more model')}.`);
    out.push('');
  }
  return out;
}

function rowChange(x: Change): string {
  const rel = relativeChange(x);
  if (!Number.isFinite(rel)) return 'from 0';
  return `${x.now >= x.base ? '+' : '−'}${Math.round(rel * 100)} %`;
}

function countsText(c: Counts): string {
  const parts = [`${num(c.passed)} passed`];
  if (c.failed) parts.push(`${num(c.failed)} failed`);
  if (c.errored) parts.push(`${num(c.errored)} errored`);
  if (c.warned) parts.push(`${num(c.warned)} warned`);
  if (c.skipped) parts.push(`${num(c.skipped)} skipped`);
  return parts.join(' · ');
}

/** A failure as a block: headline, dbt's message, compiled SQL (collapsed), what it made skip. */
function failureBlock(n: NodeOutcome, skipped: NodeOutcome[], o: SummaryOptions, lv: Level, tag = ''): string[] {
  const what =
    n.bucket === 'failed'
      ? n.failures !== null
        ? `${plural(n.failures, 'failing row')}`
        : 'failed'
      : isTest(n)
        ? 'error'
        : n.status === 'error'
          ? 'error'
          : inline(n.status);
  const head = [
    `**${icon(n)} ${inline(n.resourceType)} ${nodeName(n, false)} — ${what}**${tag.replace(/^ · (.*)$/, ' · **$1**')}`,
    `in ${inline(n.chunk)}`,
  ];
  const file = fileLink(n, o);
  if (file) head.push(file);
  if (n.seconds > 0) head.push(duration(n.seconds));
  const out = [head.join(' · '), ''];
  const message = (n.message ?? '').replace(/\s+$/, '').replace(/^\n+/, '');
  if (message) out.push(...fenced(clip(message, lv.messageChars), 'text'), '');
  if (lv.sql && n.compiledCode && n.compiledCode.trim() !== '') {
    const sql = n.compiledCode.replace(/^\s*\n/, '').replace(/\s+$/, '');
    const cutNote =
      sql.length > lv.sqlChars
        ? `\n-- … cut here: ${num(sql.length - lv.sqlChars)} more characters (see the chunk's target/ folder)`
        : '';
    out.push(
      '<details><summary>Compiled SQL</summary>',
      '',
      ...fenced(clip(sql, lv.sqlChars, '') + cutNote, 'sql'),
      '',
      '</details>',
      '',
    );
  }
  if (skipped.length > 0) {
    const names = nameList(skipped, lv.skippedNames);
    out.push(`⏭️ ${plural(skipped.length, 'node')} skipped because of it${names ? `: ${names}` : ''}`, '');
  }
  return out;
}

/** A fenced code block; its fence is longer than any run of backticks inside, so nothing can close it. */
function fenced(text: string, lang: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((s) => s.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, ...text.split(/\r?\n/), fence];
}

/** `a`, `b` in chunk-2; `c` in chunk-3 (at most `max` names). */
function nameList(nodes: NodeOutcome[], max: number): string {
  if (max <= 0) return '';
  const groups = new Map<string, string[]>();
  for (const n of nodes.slice(0, max)) {
    const list = groups.get(n.chunk);
    if (list) list.push(nodeName(n, false));
    else groups.set(n.chunk, [nodeName(n, false)]);
  }
  const text = [...groups].map(([chunk, names]) => `${names.join(', ')} in ${inline(chunk)}`).join('; ');
  return nodes.length > max ? `${text}; …and ${num(nodes.length - max)} more` : text;
}

function problemCounts(failures: NodeOutcome[], skipped: NodeOutcome[], warnings: NodeOutcome[]): string[] {
  const kinds = new Map<string, number>();
  const add = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  for (const n of failures) add(`${icon(n)} ${n.resourceType} ${n.bucket}`);
  for (const n of skipped) add(`${icon(n)} ${n.resourceType} skipped`);
  for (const n of warnings) add(`${icon(n)} ${n.resourceType} warned`);
  return [
    '#### Problems',
    '',
    '| Kind | Nodes |',
    '|---|--:|',
    ...[...kinds].map(([k, c]) => `| ${inline(k)} | ${num(c)} |`),
  ];
}

function chunkTable(chunks: ChunkSummary[]): string[] {
  const out = [
    '#### Chunks',
    '',
    '| Chunk | Nodes | ✅ | ❌ | 💥 | ⚠️ | ⏭️ | Started | Predicted | Actual |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of chunks) {
    const n = c.counts;
    const started =
      c.startedAfter === undefined ? '' : c.startedAfter < 0.005 ? '+0 s' : `+${duration(c.startedAfter)}`;
    const predicted = c.predicted !== undefined ? `~${duration(c.predicted)}` : '';
    out.push(
      `| ${c.index}. ${inline(c.name)} | ${num(n.total)} | ${num(n.passed)} | ${num(n.failed)} | ${num(n.errored)} | ${num(n.warned)} | ${num(n.skipped)} | ${started} | ${predicted} | ${duration(c.seconds)} |`,
    );
  }
  return out;
}

function slowest(nodes: NodeOutcome[], k: number): NodeOutcome[] {
  return nodes
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => n.seconds > 0)
    .sort((a, b) => b.n.seconds - a.n.seconds || a.i - b.i)
    .slice(0, k)
    .map(({ n }) => n);
}

function fileLink(n: NodeOutcome, o: SummaryOptions): string {
  if (n.file === undefined) return '';
  const label = inline(n.line !== undefined && n.line > 1 ? `${n.file}:${n.line}` : n.file);
  return o.fileUrl ? `<a href="${escapeHtml(o.fileUrl(n.file, n.line))}">${label}</a>` : label;
}

function nodeName(n: NodeOutcome, inTable = true): string {
  return code(n.name, inTable);
}

function icon(n: { bucket: string }): string {
  return n.bucket === 'errored'
    ? '💥'
    : n.bucket === 'failed'
      ? '❌'
      : n.bucket === 'warned'
        ? '⚠️'
        : n.bucket === 'skipped'
          ? '⏭️'
          : '✅';
}

/** Escapes text for an HTML attribute or element. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Text for a Markdown paragraph or table cell, on one line: HTML-escaped, and the Markdown punctuation that could
 * start emphasis, a link, code, a strike-through or a cell escaped (`_` only where it is not inside a word, so
 * snake_case stays readable in the raw file).
 */
function inline(s: string): string {
  return s
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*[\]|~]/g, '\\$&')
    .replace(/_/g, (u, at: number, all: string) =>
      /[\p{L}\p{N}]/u.test(all[at - 1] ?? '') && /[\p{L}\p{N}_]/u.test(all[at + 1] ?? '') ? u : '\\_',
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A code span: shown verbatim (no HTML, no Markdown); the backtick fence outruns any backticks inside. */
function code(s: string, inTable: boolean): string {
  const flat = s.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((b) => b.length));
  const fence = '`'.repeat(longest + 1);
  const body = inTable ? flat.replace(/\|/g, '\\|') : flat;
  const pad = longest > 0 || body.startsWith(' ') || body.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function plural(n: number, word: string): string {
  return `${num(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** 0.05 s · 12.3 s · 3 min 12 s · 1 h 03 min */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`;
}
