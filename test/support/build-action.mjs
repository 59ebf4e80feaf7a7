// Jest globalSetup of the integration project: builds the action from src/ as it is now into .test-build/ (git-ignored),
// once per jest run, and tells the harness where it is (PARALLEL_DBT_TEST_BUNDLE). The integration tests run that
// build, never the committed dist/, so a stale dist/ cannot pass them and an edit to src/ is tested without
// `npm run build`. The build is package.json's own `build` script with dist/ swapped for .test-build/, so the two
// cannot drift apart (e.g. the worker host file copied beside index.js, which src/dbt/host.ts looks for there).
// It also points TMPDIR at this jest run's own folder (temp-root.mjs), removed by the globalTeardown.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ROOT } from '../../scripts/lib/action-run.mjs';
import { makeTempRoot } from './temp-root.mjs';

export const TEST_BUILD = join(ROOT, '.test-build');

/** package.json's build script, writing to `out` (a directory name relative to the repository root) instead of dist. */
export function buildCommand(out) {
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.build;
  const distPath = /(?<=^|[\s=])dist(?=$|[\s/])/g; // "dist" as a path word: `-o dist`, `rm -rf dist`, `dist/x`
  const command = script.replace(distPath, out);
  if (command === script || /(?<=^|[\s=])dist(?=$|[\s/])/.test(command))
    throw new Error(`build-action.mjs: cannot point package.json's build script at ${out}/: ${script}`);
  return command;
}

export default function buildAction() {
  makeTempRoot();
  const started = Date.now();
  execFileSync('sh', ['-c', buildCommand('.test-build')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` },
  });
  const bundle = join(TEST_BUILD, 'index.js');
  if (!existsSync(bundle)) throw new Error(`build-action.mjs: the build wrote no ${bundle}`);
  process.env.PARALLEL_DBT_TEST_BUNDLE = bundle;
  process.stdout.write(
    `\nintegration tests: built src/ into .test-build/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
