// Writes the inputs and outputs tables of README.md from action.yml (the single spec), between markers.
// `node scripts/readme-inputs.mjs --check` exits 1 when README.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'));
const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ')
    .trim();

export function tables() {
  const inputs = Object.entries(action.inputs).map(([name, i]) => {
    const def = i.default === undefined || i.default === '' ? '' : `\`${cell(i.default)}\``;
    return `| \`${name}\` | ${def} | ${cell(i.description)} |`;
  });
  const outputs = Object.entries(action.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`);
  return [
    '<!-- inputs:start (generated from action.yml by scripts/readme-inputs.mjs) -->',
    '| Input | Default | Meaning |',
    '|---|---|---|',
    ...inputs,
    '',
    '| Output | Meaning |',
    '|---|---|',
    ...outputs,
    '<!-- inputs:end -->',
  ].join('\n');
}

const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const re = /<!-- inputs:start[\s\S]*?<!-- inputs:end -->/;
if (!re.test(readme)) {
  console.error('README.md has no <!-- inputs:start --> … <!-- inputs:end --> block');
  process.exit(1);
}
const next = readme.replace(re, tables());
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md inputs/outputs tables differ from action.yml: run node scripts/readme-inputs.mjs');
    process.exit(1);
  }
} else writeFileSync(readmePath, next);
