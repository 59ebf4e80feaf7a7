// The layout's rules, read from the imports of src/: data flows inputs → plan → run → report, flow/ wires them,
// and the dbt boundary knows nothing of the action. A new import that breaks a rule fails here, naming the file.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

interface Import {
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every import of src/ as (file, target): a src-relative path for the project's own files, else the package name. */
function imports(): Import[] {
  const out: Import[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2];
      const to = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      out.push({ from: relative(SRC, file), to });
    }
  }
  return out;
}

const all = imports();
const folder = (path: string): string => (path.includes('/') ? path.split('/')[0] : path);
const breaking = (rule: (i: Import) => boolean): string[] => all.filter(rule).map((i) => `${i.from} → ${i.to}`);

describe('layers', () => {
  test('the imports were read (the rules below are not vacuous)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all).toContainEqual({ from: 'flow/local.ts', to: 'run/execute.ts' });
    expect(all).toContainEqual({ from: 'report/build.ts', to: 'dbt/manifest.ts' });
  });

  test('report/ and run/ do not import each other', () => {
    expect(breaking((i) => folder(i.from) === 'report' && folder(i.to) === 'run')).toEqual([]);
    expect(breaking((i) => folder(i.from) === 'run' && folder(i.to) === 'report')).toEqual([]);
  });

  test('dbt/ imports nothing of the action (only itself and packages)', () => {
    expect(breaking((i) => folder(i.from) === 'dbt' && i.to.endsWith('.ts') && folder(i.to) !== 'dbt')).toEqual([]);
  });

  test('shared/ imports nothing of the action', () => {
    expect(breaking((i) => folder(i.from) === 'shared' && i.to.endsWith('.ts') && folder(i.to) !== 'shared')).toEqual(
      [],
    );
  });

  test('plan/ is pure: only itself, dbt types and shared/', () => {
    expect(
      breaking(
        (i) => folder(i.from) === 'plan' && i.to.endsWith('.ts') && !['plan', 'dbt', 'shared'].includes(folder(i.to)),
      ),
    ).toEqual([]);
  });

  test('artifacts/ is transport only: itself, shared/ and packages', () => {
    expect(
      breaking(
        (i) =>
          folder(i.from) === 'artifacts' && i.to.endsWith('.ts') && !['artifacts', 'shared'].includes(folder(i.to)),
      ),
    ).toEqual([]);
  });

  test('only flow/ and main.ts know the Settings; only flow/runner.ts imports @actions/core', () => {
    const wiring = (f: string): boolean => folder(f) === 'flow' || f === 'main.ts' || folder(f) === 'inputs';
    expect(breaking((i) => i.to === 'inputs/settings.ts' && !wiring(i.from))).toEqual([]);
    expect(breaking((i) => i.to === '@actions/core' && i.from !== 'flow/runner.ts')).toEqual([]);
    expect(all).toContainEqual({ from: 'flow/runner.ts', to: '@actions/core' });
  });

  test('nothing but main.ts starts a flow', () => {
    expect(breaking((i) => folder(i.to) === 'flow' && folder(i.from) !== 'flow' && i.from !== 'main.ts')).toEqual([]);
  });
});
