// Where the benchmark keeps things: bench/ itself, its work folder (git-ignored) and the dbt it runs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DBT_BIN } from '../../scripts/lib/action-run.mjs';

export { ROOT, DIST_BUNDLE } from '../../scripts/lib/action-run.mjs';
/** bench/ */
export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
/** bench/work/: generated projects, logs, targets, the src/plan bundle, the prefect venv. */
export const WORK = join(BENCH, 'work');
/** The dbt of the project's venv (.dbt-venv, or PARALLEL_DBT_VENV). */
export const DBT = join(DBT_BIN, 'dbt');
