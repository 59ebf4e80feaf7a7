// manifest.json through its owner (src/dbt/manifest.ts): the captured real manifests parse as they are, every node
// group is found, and a file that is not a manifest is one line naming the file and what is wrong.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DbtError } from '../src/dbt/errors.js';
import { manifestNodes, parseManifest, readManifest } from '../src/dbt/manifest.js';
import { manifestOf } from '../src/dbt/prepare.js';
import { oneLine } from './support/errors.js';

const CAPTURED = fileURLToPath(new URL('./fixtures/captured/', import.meta.url));
const text = (variant: string): string => readFileSync(join(CAPTURED, variant, 'manifest.json'), 'utf8');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'manifest-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the captured manifests', () => {
  test.each(['green', 'red'])(
    '%s parses as written; manifestNodes has every node, source, unit test and function',
    (variant) => {
      const raw = JSON.parse(text(variant)) as Record<string, Record<string, unknown>>;
      const m = readManifest(join(CAPTURED, variant, 'manifest.json'));
      expect(m).toEqual(raw);
      const groups = ['nodes', 'sources', 'unit_tests', 'functions'].map((g) => Object.keys(raw[g] ?? {}).length);
      expect(groups[0]).toBeGreaterThan(90);
      expect(manifestNodes(m).size).toBe(groups.reduce((a, b) => a + b, 0));
      expect(m.metadata.project_name).toBe('parallel_dbt_example');
      expect(m.metadata.adapter_type).toBe('postgres');
    },
  );

  test('dbt prepare reads what parse wrote into the target, and says so when dbt wrote nothing', () => {
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'manifest.json'), text('green'));
    expect(Object.keys(manifestOf(join(dir, 'target')).nodes)).toEqual(Object.keys(JSON.parse(text('green')).nodes));
    expect(() => manifestOf(join(dir, 'nowhere'))).toThrow(DbtError);
    expect(() => manifestOf(join(dir, 'nowhere'))).toThrow(
      `dbt did not write ${join(dir, 'nowhere', 'manifest.json')}; parallel-dbt needs dbt-core 1.8 or newer.`,
    );
  });
});

describe('a file that is not a manifest.json: one line naming it', () => {
  type Doc = Record<string, unknown> & {
    nodes: Record<string, Record<string, unknown>>;
    metadata: Record<string, unknown>;
  };
  const doc = (): Doc => JSON.parse(text('green'));
  const first = Object.keys((JSON.parse(text('green')) as Doc).nodes)[0];
  const withNode = (d: Doc, change: Record<string, unknown>): Doc => ({
    ...d,
    nodes: { ...d.nodes, [first]: { ...d.nodes[first], ...change } },
  });

  test.each<[string, (d: Doc) => unknown, string]>([
    [
      'run results',
      () => JSON.parse(readFileSync(join(CAPTURED, 'green', 'run_results.json'), 'utf8')),
      'no "nodes" object',
    ],
    ['no dbt version', (d) => ({ ...d, metadata: {} }), 'no "metadata.dbt_version"'],
    ['nodes a list', (d) => ({ ...d, nodes: [] }), 'no "nodes" object'],
    ['sources a list', (d) => ({ ...d, sources: [] }), '"sources" is not an object'],
    [
      'a node under another key',
      (d) => withNode(d, { unique_id: 'model.p.other' }),
      `nodes["${first}"]: "unique_id" is not its key`,
    ],
    [
      'a node without resource_type',
      (d) => withNode(d, { resource_type: undefined }),
      `nodes["${first}"]: "resource_type" is not a string`,
    ],
    ['an fqn that is text', (d) => withNode(d, { fqn: 'a.b' }), `nodes["${first}"]: "fqn" is not a list of strings`],
    [
      'depends_on.nodes that is text',
      (d) => withNode(d, { depends_on: { nodes: 'model.p.x' } }),
      `nodes["${first}"]: "depends_on.nodes" is not a list of strings`,
    ],
  ])('%s', (_, change, why) => {
    expect(oneLine(() => parseManifest(JSON.stringify(change(doc())), '/t/manifest.json'))).toBe(
      `/t/manifest.json is not a dbt manifest.json (${why})`,
    );
  });

  test('not JSON, or no file', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"metadata": ');
    expect(oneLine(() => readManifest(broken))).toMatch(new RegExp(`^${broken} is not JSON \\(.+\\)$`));
    expect(oneLine(() => readManifest(join(dir, 'missing.json')))).toMatch(/^cannot read .*missing\.json \(ENOENT/);
  });
});
