// Which selected nodes dbt executes (plan/nodes.ts runnableSelected): the action's node list must be exactly dbt's.
import { describe, expect, test } from '@jest/globals';
import { runnableSelected } from '../src/plan/nodes.js';
import type { Manifest, ManifestNode } from '../src/dbt/manifest.js';

function node(uid: string, resource_type: string, extra: Partial<ManifestNode> = {}): ManifestNode {
  return {
    unique_id: uid,
    name: uid.split('.').pop()!,
    resource_type,
    package_name: 'p',
    original_file_path: 'x.sql',
    fqn: [],
    raw_code: 'select 1',
    ...extra,
  };
}

describe('runnableSelected', () => {
  const nodes = [
    node('model.p.a', 'model'),
    node('model.p.eph', 'model', { config: { materialized: 'ephemeral' } }),
    node('model.p.blank', 'model', { raw_code: '  \n' }),
    node('seed.p.s', 'seed', { raw_code: '' }),
    node('test.p.on_missing_model', 'test', { config: { enabled: false } }),
    node('test.p.t', 'test'),
    node('operation.p.p-on-run-start-0', 'operation'),
  ];
  const m: Manifest = {
    metadata: { dbt_version: '1.11.0' },
    nodes: Object.fromEntries(nodes.map((n) => [n.unique_id, n])),
    unit_tests: { 'unit_test.p.a.u': node('unit_test.p.a.u', 'unit_test', { raw_code: undefined }) },
  };

  test('keeps what dbt runs and drops disabled, blank, ephemeral and non-runnable nodes', () => {
    expect(runnableSelected(m, [...Object.keys(m.nodes), 'unit_test.p.a.u', 'model.p.unknown'])).toEqual([
      'model.p.a',
      'seed.p.s',
      'test.p.t',
      'unit_test.p.a.u',
    ]);
  });

  test('a disabled unit test is dropped too', () => {
    const off: Manifest = {
      ...m,
      unit_tests: { 'unit_test.p.a.u': node('unit_test.p.a.u', 'unit_test', { config: { enabled: false } }) },
    };
    expect(runnableSelected(off, ['unit_test.p.a.u'])).toEqual([]);
  });
});
