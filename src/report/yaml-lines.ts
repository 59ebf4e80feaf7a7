// Finds where a generic test is declared in a dbt properties (schema) YAML file, so its annotation lands on that
// line. Pure: the file's text in, a 1-based line out; anything that cannot be found falls back one step
// (the test's entry → its column → its model, seed, snapshot or source table → line 1).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';

export interface TestDeclaration {
  /** Top-level key of the YAML file: models, seeds, snapshots, sources (from the test's file_key_name). */
  section?: string;
  /** The model, seed or snapshot name, or the source name. */
  parent: string;
  /** For a source test: the source table. */
  table?: string;
  column?: string | null;
  /** test_metadata.name (not_null, relationships, expression_is_true, …). */
  testName: string;
  /** test_metadata.namespace (dbt_utils, …). */
  namespace?: string | null;
  /** The test node's name: a custom `name:` in the YAML equals it. */
  nodeName?: string;
  /** test_metadata.kwargs: tells apart two tests of the same kind on one column. */
  kwargs?: Record<string, unknown>;
}

const TEST_KEYS = ['data_tests', 'tests'];

export function declarationLine(text: string, d: TestDeclaration): number {
  return declarationFinder(text)(d);
}

/**
 * Answers for many tests of one file. Large files are not parsed whole: the block of the model (seed, snapshot,
 * source) is found by its `- name:` line and only that block is parsed; the whole file is parsed only when
 * that fails (a quoted or flow-style name).
 */
export function declarationFinder(text: string): (d: TestDeclaration) => number {
  const lines = text.split(/\r?\n/);
  const items = new Map<string, number[]>();
  const sectionAt: (string | undefined)[] = [];
  let section: string | undefined;
  for (const [i, l] of lines.entries()) {
    const top = /^([A-Za-z_][\w-]*)\s*:/.exec(l);
    if (top) section = top[1];
    sectionAt.push(section);
    const item = /^(\s*)-\s+name\s*:\s*([^\s#'"{}[\],]+)\s*(#.*)?$/.exec(l);
    if (item) {
      const list = items.get(item[2]);
      if (list) list.push(i);
      else items.set(item[2], [i]);
    }
  }
  const blocks = new Map<string, Locate | undefined>();
  let whole: Locate | undefined | null = null;
  return (d) => {
    // The owner's block: the least indented `- name: <parent>` of the section.
    const at = (items.get(d.parent) ?? [])
      .filter((i) => d.section === undefined || sectionAt[i] === d.section)
      .sort((a, b) => indentOf(lines[a]) - indentOf(lines[b]) || a - b)[0];
    if (at !== undefined) {
      const key = `${d.section}\u0000${d.parent}`;
      if (!blocks.has(key)) {
        const indent = indentOf(lines[at]);
        let end = at + 1;
        while (
          end < lines.length &&
          (lines[end].trim() === '' || lines[end].trimStart().startsWith('#') || indentOf(lines[end]) > indent)
        )
          end++;
        const block = lines
          .slice(at, end)
          .map((l) => l.slice(Math.min(indent, indentOf(l))))
          .join('\n');
        blocks.set(key, locator(block, at));
      }
      const found = blocks.get(key)?.(d, (root) => (isSeq(root) && isMap(root.items[0]) ? root.items[0] : undefined));
      if (found !== undefined) return found;
    }
    if (whole === null) whole = locator(text, 0);
    return (
      whole?.(d, (root, dd) => {
        if (!isMap(root)) return undefined;
        const sections = dd.section
          ? [dd.section]
          : root.items.map((p) => scalarText(p.key)).filter((k): k is string => k !== undefined);
        for (const sec of sections) {
          const owner = named(root.get(sec, true), dd.parent);
          if (owner !== undefined) return owner;
        }
        return undefined;
      }) ?? 1
    );
  };
}

type Locate = (
  d: TestDeclaration,
  ownerOf: (root: unknown, d: TestDeclaration) => YAMLMap | undefined,
) => number | undefined;

/** Parses `text` (whose first line is line `offset + 1` of the file) into a function that finds a test in it. */
function locator(text: string, offset: number): Locate | undefined {
  let root: unknown;
  const counter = new LineCounter();
  try {
    root = parseDocument(text, {
      lineCounter: counter,
      keepSourceTokens: false,
      uniqueKeys: false,
      strict: false,
    }).contents;
  } catch {
    return undefined;
  }
  const lineOf = (n: YamlNode | null | undefined): number | undefined =>
    n?.range ? counter.linePos(n.range[0]).line + offset : undefined;
  return (d, ownerOf) => {
    const owner = ownerOf(root, d);
    if (owner === undefined) return undefined;
    const target = d.table !== undefined ? (named(owner.get('tables', true), d.table) ?? owner) : owner;
    const column = d.column ? named(target.get('columns', true), d.column) : undefined;
    const entry = (column !== undefined ? testEntry(column, d) : undefined) ?? testEntry(target, d);
    return lineOf(entry) ?? lineOf(column) ?? lineOf(target);
  };
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** The text of a scalar node (keys and names), or undefined. */
function scalarText(n: unknown): string | undefined {
  return isScalar(n) && n.value !== null && n.value !== undefined ? String(n.value) : undefined;
}

const indexes = new WeakMap<object, { exact: Map<string, YAMLMap>; loose: Map<string, YAMLMap> }>();

/** The map in a sequence whose `name:` is `name` (exact first, then ignoring case and quotes); indexed once per list. */
function named(seq: unknown, name: string): YAMLMap | undefined {
  if (!isSeq(seq)) return undefined;
  const norm = (s: string): string => s.replace(/^["'`]|["'`]$/g, '').toLowerCase();
  let index = indexes.get(seq);
  if (index === undefined) {
    index = { exact: new Map(), loose: new Map() };
    for (const m of seq.items) {
      if (!isMap(m)) continue;
      const n = scalarText(m.get('name', true));
      if (n === undefined) continue;
      if (!index.exact.has(n)) index.exact.set(n, m);
      if (!index.loose.has(norm(n))) index.loose.set(norm(n), m);
    }
    indexes.set(seq, index);
  }
  return index.exact.get(name) ?? index.loose.get(norm(name));
}

/** The entry of `owner`'s data_tests/tests list that declares this test. */
function testEntry(owner: YAMLMap, d: TestDeclaration): YamlNode | undefined {
  const full = d.namespace ? `${d.namespace}.${d.testName}` : d.testName;
  const candidates: { node: YamlNode; score: number }[] = [];
  for (const key of TEST_KEYS) {
    const seq = owner.get(key, true);
    if (!isSeq(seq)) continue;
    for (const item of seq.items) {
      const node = item as YamlNode;
      const described = describe(node);
      if (described === undefined || (described.kind !== full && described.kind !== d.testName)) continue;
      let score = 0;
      if (d.nodeName !== undefined && described.customName === d.nodeName) score += 100;
      score += kwargsMatch(described.args, d.kwargs);
      candidates.push({ node, score });
    }
  }
  // The best match; among equals the first declared.
  return candidates.reduce<{ node: YamlNode; score: number } | undefined>(
    (best, c) => (best === undefined || c.score > best.score ? c : best),
    undefined,
  )?.node;
}

/** What a test entry declares: `- not_null`, `- relationships: {…}`, or `- name: x` + `test_name: y`. */
function describe(n: YamlNode): { kind: string; customName?: string; args: Record<string, unknown> } | undefined {
  if (isScalar(n)) return scalarText(n) !== undefined ? { kind: scalarText(n)!, args: {} } : undefined;
  if (!isMap(n)) return undefined;
  const testName = scalarText(n.get('test_name', true));
  if (testName !== undefined) {
    const body = n.toJSON() as Record<string, unknown>;
    return { kind: testName, customName: scalarText(n.get('name', true)), args: argsOf(body) };
  }
  const first = n.items[0];
  const kind = scalarText(first?.key);
  if (kind === undefined) return undefined;
  const value = isMap(first.value) ? (first.value.toJSON() as Record<string, unknown>) : {};
  return { kind, customName: typeof value.name === 'string' ? value.name : undefined, args: argsOf(value) };
}

/** A test entry's arguments: under `arguments:` (dbt 1.10+) or inline. */
function argsOf(body: Record<string, unknown>): Record<string, unknown> {
  const nested = body.arguments;
  return nested !== null && typeof nested === 'object' ? (nested as Record<string, unknown>) : body;
}

/** How many of the manifest's kwargs the entry repeats with the same value. */
function kwargsMatch(args: Record<string, unknown>, kwargs: Record<string, unknown> | undefined): number {
  if (kwargs === undefined) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === 'model' || k === 'column_name' || !(k in args)) continue;
    if (JSON.stringify(args[k]) === JSON.stringify(v)) n++;
  }
  return n;
}
