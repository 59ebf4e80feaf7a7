// The JUnit XML of the merged results (src/report/junit.ts renderJunit), directly: the captured real dbt runs (green,
// and red with warn, error, skipped and fail) with names and files from their manifests, and hostile strings. The
// XML is read back with a small strict reader below (well-formedness: one root, balanced tags, quoted attributes, no
// raw < or & outside markup, only XML 1.0 characters; line ends and attribute values normalized as XML 1.0 says), so
// escaping is checked by what a JUnit reader gets back.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../src/dbt/manifest.js';
import type { RunResult, RunResultsArtifact } from '../src/dbt/run-results.js';
import { nodeStatus } from '../src/dbt/statuses.js';
import { renderJunit } from '../src/report/junit.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

function captured<T>(variant: 'green' | 'red', file: string): T {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'captured', variant, file), 'utf8')) as T;
}

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescape(s: string, where: string): string {
  if (/[<]/.test(s)) throw new Error(`raw < in ${where}: ${s}`);
  return s.replace(/&([^;]*);|&/g, (m, e: string | undefined) => {
    if (e === undefined || !(e in ENTITIES)) throw new Error(`bad & in ${where}: ${s}`);
    return ENTITIES[e];
  });
}

/**
 * A strict reader of the XML subset renderJunit writes; throws on anything not well-formed. Like any XML 1.0
 * processor it reads CR LF and CR as LF (§2.11) and a literal tab or line break in an attribute value as a space
 * (§3.3.3).
 */
function parseXml(raw: string): El {
  const doc = raw.replace(/\r\n?/g, '\n');
  // XML 1.0 Char: tab, LF, CR, and U+0020 up (no other C0 controls).
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.exec(doc);
  if (bad)
    throw new Error(`character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML 1.0`);
  const prolog = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(doc);
  if (!prolog) throw new Error('no XML declaration');
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  const stack: El[] = [];
  let root: El | undefined;
  token.lastIndex = prolog[0].length;
  for (let m = token.exec(doc); m !== null; m = token.exec(doc)) {
    const [, close, name, attrText, selfClose, text, stray] = m;
    if (stray !== undefined) throw new Error(`malformed markup at ${m.index}: ${doc.slice(m.index, m.index + 60)}`);
    if (text !== undefined) {
      if (stack.length === 0) {
        if (text.trim() !== '') throw new Error(`text outside the root: ${text}`);
        continue;
      }
      stack[stack.length - 1].text += unescape(text, `text of <${stack[stack.length - 1].name}>`);
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (!open || open.name !== name || attrText.trim() !== '' || selfClose)
        throw new Error(`</${name}> does not close <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`attribute ${a[1]} twice on <${name}>`);
      attrs[a[1]] = unescape(a[2].replace(/[\t\n]/g, ' '), `${name}@${a[1]}`);
    }
    const el: El = { name, attrs, children: [], text: '' };
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (root) throw new Error('more than one root element');
    else root = el;
    if (!selfClose) stack.push(el);
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> not closed`);
  if (!root) throw new Error('no root element');
  return root;
}

const all = (e: El, name: string): El[] => [
  ...(e.name === name ? [e] : []),
  ...e.children.flatMap((c) => all(c, name)),
];

/** What the action passes: each node's display name and its file (here: the manifest's, relative to the project). */
function lookup(manifest: Manifest): (uid: string) => { name: string; file?: string } {
  return (uid) => {
    const n = manifest.nodes[uid];
    return n ? { name: n.name, file: n.original_file_path } : { name: uid };
  };
}

function artifact(results: Partial<RunResult>[], elapsed = 1.5): RunResultsArtifact {
  return {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json',
      dbt_version: '1.11.16',
      generated_at: '2026-11-24T14:14:57.766509Z',
      invocation_id: null,
    },
    results: results.map((r) => ({
      status: 'success',
      timing: [],
      thread_id: null,
      execution_time: 0.25,
      adapter_response: {},
      message: null,
      failures: null,
      unique_id: 'model.p.x',
      ...r,
    })),
    elapsed_time: elapsed,
    args: {},
  };
}

describe('renderJunit on the captured real runs', () => {
  const red = captured<RunResultsArtifact>('red', 'run_results.json');
  const redManifest = captured<Manifest>('red', 'manifest.json');
  const xml = renderJunit(red, lookup(redManifest));
  const root = parseXml(xml);
  const cases = all(root, 'testcase');

  test('well-formed: one <testsuites> root of <testsuite> elements of <testcase> elements', () => {
    expect(root.name).toBe('testsuites');
    expect(root.children.every((s) => s.name === 'testsuite')).toBe(true);
    expect(root.children.flatMap((s) => s.children).every((c) => c.name === 'testcase')).toBe(true);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
  });

  test('one testcase per node, each named and filed as the lookup gives', () => {
    expect(cases).toHaveLength(red.results.length);
    expect(cases.map((c) => c.attrs.classname).sort()).toEqual(red.results.map((r) => r.unique_id).sort());
    for (const c of cases) {
      const n = redManifest.nodes[c.attrs.classname];
      expect(c.attrs.name).toBe(n.name);
      expect(c.attrs.file).toBe(n.original_file_path);
    }
    const margin = cases.find((c) => c.attrs.classname === 'model.parallel_dbt_example.order_unit_margin')!;
    expect(margin.attrs).toMatchObject({ name: 'order_unit_margin', file: 'models/finance/order_unit_margin.sql' });
  });

  test('one suite per resource type, sorted, with its own counts and time', () => {
    expect(root.children.map((s) => s.attrs.name)).toEqual(['dbt model', 'dbt seed', 'dbt snapshot', 'dbt test']);
    for (const s of root.children) {
      const type = s.attrs.name.replace(/^dbt /, '');
      const rs = red.results.filter((r) => r.unique_id.split('.')[0] === type);
      expect(Number(s.attrs.tests)).toBe(rs.length);
      expect(s.children).toHaveLength(rs.length);
      expect(s.children.every((c) => c.attrs.classname.startsWith(`${type}.`))).toBe(true);
      expect(Number(s.attrs.failures)).toBe(rs.filter((r) => r.status === 'fail').length);
      expect(Number(s.attrs.errors)).toBe(rs.filter((r) => r.status === 'error').length);
      expect(Number(s.attrs.skipped)).toBe(rs.filter((r) => r.status === 'skipped').length);
      expect(s.attrs.time).toBe(rs.reduce((a, r) => a + r.execution_time, 0).toFixed(3));
    }
  });

  test("totals: 99 tests, 1 failure (fail), 1 error, 1 skipped; time = the run's elapsed_time", () => {
    expect(root.attrs).toEqual({
      name: 'dbt',
      tests: '99',
      failures: '1',
      errors: '1',
      skipped: '1',
      time: red.elapsed_time.toFixed(3),
    });
    const sum = (k: string) => root.children.reduce((a, s) => a + Number(s.attrs[k]), 0);
    expect([sum('tests'), sum('failures'), sum('errors'), sum('skipped')]).toEqual([99, 1, 1, 1]);
  });

  test('each status gets its element: fail → <failure>, error → <error>, skipped → <skipped>, warn → passes with a note', () => {
    const byUid = new Map(cases.map((c) => [c.attrs.classname, c]));
    const kinds = (uid: string) => byUid.get(uid)!.children.map((c) => c.name);
    const fail = byUid.get('test.parallel_dbt_example.assert_every_campaign_is_profitable')!;
    expect(kinds(fail.attrs.classname)).toEqual(['failure']);
    expect(fail.children[0].attrs.message).toBe('Got 2 results, configured to fail if != 0');
    expect(fail.children[0].text).toBe('Got 2 results, configured to fail if != 0');
    const error = byUid.get('model.parallel_dbt_example.order_unit_margin')!;
    expect(kinds(error.attrs.classname)).toEqual(['error']);
    const message = red.results.find((r) => r.unique_id === error.attrs.classname)!.message!;
    expect(message).toContain('\n');
    // The element's text keeps dbt's line breaks; in the attribute a reader sees them as spaces.
    expect(error.children[0].text).toBe(message);
    expect(error.children[0].attrs.message).toBe(message.replace(/\n/g, ' '));
    const skipped = byUid.get('model.parallel_dbt_example.campaign_unit_margin')!;
    expect(kinds(skipped.attrs.classname)).toEqual(['skipped']);
    // dbt wrote no message: the status stands in.
    expect(skipped.children[0].attrs.message).toBe('skipped');
    const warn = byUid.get('test.parallel_dbt_example.not_null_stg_orders_campaign_id.1c38a7e184')!;
    expect(kinds(warn.attrs.classname)).toEqual(['system-out']);
    expect(warn.children[0].text).toBe('warn: Got 12 results, configured to warn if != 0');
    const passed = cases.filter((c) => c.children.length === 0);
    expect(passed).toHaveLength(26 + 69);
    for (const c of cases)
      expect(c.attrs.time).toBe(red.results.find((r) => r.unique_id === c.attrs.classname)!.execution_time.toFixed(3));
  });

  test('the green run: 95 testcases, nothing failed, errored or skipped', () => {
    const green = captured<RunResultsArtifact>('green', 'run_results.json');
    const g = parseXml(renderJunit(green, lookup(captured<Manifest>('green', 'manifest.json'))));
    expect(g.attrs).toMatchObject({ tests: '95', failures: '0', errors: '0', skipped: '0' });
    expect(all(g, 'testcase')).toHaveLength(95);
    expect(all(g, 'testcase').every((c) => c.children.length === 0)).toBe(true);
  });
});

describe('renderJunit escaping and edge cases', () => {
  test('<, >, &, quotes and control characters in names, files, unique ids and messages come back as written, minus the controls', () => {
    const hostile = 'a < b && c > "d" \'e\'';
    const a = artifact([
      {
        unique_id: 'model.p.m<&>"',
        status: 'error',
        message: `${hostile}\u0000\u0001\u0007\u000b\u000c\u001b[31mred\u001f\ttab\nline\r\nend`,
      },
      { unique_id: 'test.p.t', status: 'fail', message: '</failure><injected attr="x"/>&amp;' },
      { unique_id: 'seed.p.s', status: 'warn', message: ']]> <![CDATA[ x' },
    ]);
    const xml = renderJunit(a, (uid) => ({
      name: `${uid.split('.').pop()} "quoted" & <tagged>`,
      file: `models/${uid.split('.').pop()}&<x>".sql`,
    }));
    const root = parseXml(xml);
    const [m, s, t] = [...all(root, 'testcase')];
    expect(m.attrs.classname).toBe('model.p.m<&>"');
    expect(m.attrs.name).toBe('m<&>" "quoted" & <tagged>');
    expect(m.attrs.file).toBe('models/m<&>"&<x>".sql');
    // C0 controls other than tab, LF and CR are dropped; the rest comes back as written (CR LF read as LF; in the
    // attribute, tab and line breaks read as spaces).
    expect(m.children[0].name).toBe('error');
    expect(m.children[0].text).toBe(`${hostile}[31mred\ttab\nline\nend`);
    expect(m.children[0].attrs.message).toBe(`${hostile}[31mred tab line end`);
    expect(t.children.map((c) => c.name)).toEqual(['failure']);
    expect(t.children[0].text).toBe('</failure><injected attr="x"/>&amp;');
    expect(t.children[0].children).toEqual([]);
    expect(s.children[0].text).toBe('warn: ]]> <![CDATA[ x');
    expect(root.attrs).toMatchObject({ tests: '3', failures: '1', errors: '1', skipped: '0' });
    expect(root.children.map((x) => x.attrs.name)).toEqual(['dbt model', 'dbt seed', 'dbt test']);
  });

  test('runtime error and partial success count as errors; unknown statuses pass; case does not matter', () => {
    const a = artifact([
      { unique_id: 'model.p.a', status: 'runtime error', message: 'boom' },
      { unique_id: 'model.p.b', status: 'partial success', message: 'some batches failed' },
      { unique_id: 'model.p.c', status: nodeStatus('ERROR'), message: 'loud' },
      { unique_id: 'model.p.d', status: 'no-op' },
      { unique_id: 'model.p.e', status: 'reused' },
      { unique_id: 'test.p.f', status: nodeStatus('Fail'), message: 'x' },
      { unique_id: 'test.p.g', status: nodeStatus('SKIPPED') },
    ]);
    const root = parseXml(renderJunit(a, (uid) => ({ name: uid })));
    const kinds = Object.fromEntries(
      all(root, 'testcase').map((c) => [c.attrs.classname, c.children.map((x) => x.name).join(',')]),
    );
    expect(kinds).toEqual({
      'model.p.a': 'error',
      'model.p.b': 'error',
      'model.p.c': 'error',
      'model.p.d': '',
      'model.p.e': '',
      'test.p.f': 'failure',
      'test.p.g': 'skipped',
    });
    expect(root.attrs).toMatchObject({ tests: '7', failures: '1', errors: '3', skipped: '1' });
    const [model, tests] = root.children;
    expect(model.attrs).toMatchObject({ tests: '5', failures: '0', errors: '3', skipped: '0' });
    expect(tests.attrs).toMatchObject({ tests: '2', failures: '1', errors: '0', skipped: '1' });
  });

  test('no file from the lookup: no file attribute; a missing execution_time counts as 0; no results: an empty, valid document', () => {
    const a = artifact(
      [
        { unique_id: 'model.p.a', execution_time: undefined as unknown as number },
        { unique_id: 'model.p.b', execution_time: 1.23456 },
      ],
      4.5,
    );
    const root = parseXml(renderJunit(a, (uid) => ({ name: uid.split('.').pop()! })));
    const [x, y] = all(root, 'testcase');
    expect(x.attrs).toEqual({ name: 'a', classname: 'model.p.a', time: '0.000' });
    expect(y.attrs.time).toBe('1.235');
    expect(root.children[0].attrs.time).toBe('1.235');
    expect(root.attrs.time).toBe('4.500');
    const empty = parseXml(renderJunit(artifact([], 0), () => ({ name: 'x' })));
    expect(empty.attrs).toEqual({ name: 'dbt', tests: '0', failures: '0', errors: '0', skipped: '0', time: '0.000' });
    expect(empty.children).toEqual([]);
  });

  test('the reader itself rejects what is not well-formed (so the checks above can fail)', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${head}<a b="x < y"/>`)).toThrow(/raw </);
    expect(() => parseXml(`${head}<a>x & y</a>`)).toThrow(/bad &/);
    expect(() => parseXml(`${head}<a b="x"" c="y"/>`)).toThrow();
    expect(() => parseXml(`${head}<a><b></a>`)).toThrow(/does not close/);
    expect(() => parseXml(`${head}<a>\u0001</a>`)).toThrow(/U\+0001/);
    expect(() => parseXml(`${head}<a/><b/>`)).toThrow(/more than one root/);
    expect(parseXml(`${head}<a b="&lt;&amp;&quot;">&gt;</a>`)).toEqual({
      name: 'a',
      attrs: { b: '<&"' },
      children: [],
      text: '>',
    });
  });
});
