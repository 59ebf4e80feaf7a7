// The command line: the usage text, the shapes and variants it may name, and parseArgs, which checks it whole before
// anything runs.
import { join, resolve } from 'node:path';
import { BENCH } from './paths.mjs';

export const HELP = `usage: node bench/run.mjs [options]        (npm run bench -- [options])

Runs the chosen shapes with real dbt on an embedded PostgreSQL and writes one table to <out>/latest.md and
latest.json (default bench/results/). Generated projects, logs and targets go to bench/work/ (git-ignored).

One shape (--only takes one name or several, comma-separated):
  node bench/run.mjs --only cpu                                                  # every variant, fixed costs, planning
  node bench/run.mjs --only latency --no-prefect --no-fixed --no-plan            # its rows of the table only
  node bench/run.mjs --only remote --scale 0.1 --no-prefect --no-fixed --no-plan # small, for development
  node bench/run.mjs --only cpu --variants single,action --repeat 3              # one dbt vs the action, 3 runs each
  node bench/run.mjs --only example --no-plan --out bench/results/try            # report elsewhere
  node bench/run.mjs --only slimci --no-prefect --no-fixed --no-plan             # a PR run with defer only

Shapes (default: all five, in this order):
  cpu       2,004 nodes, no sleeps: dbt's own CPU is the work.            budget 8   (≈ 4.5 min; --no-prefect ≈ 2.5 min)
  latency   254 nodes, models wait 1.5 s (5 s on a chain) in PostgreSQL.  budget 8   (≈ 4 min; --no-prefect ≈ 3 min)
  remote    1,500 singular tests that each wait 0.1–0.3 s, 20 models.     budget 32  (≈ 7.5 min; --no-prefect ≈ 5 min)
  slimci    remote's project as a PR run with defer: a plain dbt build of it all as prod (timed apart), 4 root
            models changed, then build --select state:modified+ --defer --state <prod target> (≈ 55 % of the
            nodes), each variant into a fresh schema of the same database, starting from the base branch's
            saved partial parse (as CI restores it); their relations' row counts are compared. Only the variants
            single and action. budget 32  (≈ 4 min)
  example   the repository's example/ project: plain dbt build (profile threads) vs the action, default inputs
            (≈ 0.5–1 min; only the variants single and action; --scale only shortens its sleeps; no fixed costs)
  Times: full size, 2 shared cores, the action before the worker host (slimci: with it). All of it ≈ 22 min
  (--no-prefect ≈ 17 min);
  --scale 0.1 takes 0.5–1.5 min per shape.

Options (each value either as the next argument or after '=': --scale 0.1, --scale=0.1):
  --only S,S         shapes to run: cpu, latency, remote, slimci, example (default: all five)
  --scale X          X > 0: multiplies model and test counts, and the sleeps (not below 25 %; remote's 0.1–0.3 s
                     waits stay) (default 1)
  --budget B         B ≥ 2: warehouse connection budget for every generated shape (default: the shape's own: cpu 8,
                     latency 8, remote 32, slimci 32); one dbt gets --threads B-1, the action max-connections B
  --parallel P       P ≥ 1: the action's parallel input on generated shapes (default: nproc)
  --variants V,V     any of single, seed-style, prefect, action (default: all four; single always runs: it is the
                     reference; action means both action rows, without and with timings; the example and
                     slimci only have single and action)
  --repeat N         N ≥ 1: run every variant N times; the table shows the median wall (default 1)
  --no-prefect       skip prefect-dbt (its first use installs it into bench/work/prefect-venv)
  --no-fixed         skip the fixed-cost measurements (cold parse, chunk start-up; ≈ 1 min; on the cpu project,
                     else the first generated shape's; never on the example alone)
  --no-plan          skip the planning of a synthetic 50,000-node manifest (≈ 30 s)
  --plan-nodes N     N ≥ 1: size of that manifest (default 50000)
  --out DIR          where latest.md / latest.json go (default bench/results)
  -h, --help         this text

An unknown option, a missing or invalid value, or an argument that is no option stops the script with one line
and exit status 2.

Everything:
  npm run bench                                                                  # all five shapes (≈ 22 min)
  npm run bench -- --no-prefect                                                  # everything but prefect-dbt`;

export const ALL_SHAPES = ['cpu', 'latency', 'remote', 'slimci', 'example'];
export const ALL_VARIANTS = ['single', 'seed-style', 'prefect', 'action'];

/**
 * @typedef {object} Options
 * @property {number} scale
 * @property {string[]} only
 * @property {number | undefined} budget   --budget, or undefined: each shape's own
 * @property {number} parallel
 * @property {number} planNodes
 * @property {string} out                  absolute
 * @property {number} repeat
 * @property {boolean} prefect
 * @property {boolean} fixed
 * @property {boolean} plan
 * @property {string[]} variants
 */

/**
 * The command line, checked: every option this script knows (see HELP), nothing else.
 * @param {string[]} args   process.argv.slice(2)
 * @param {number} cores    the default of --parallel
 * @returns {{ help: true } | { error: string } | { options: Options }}
 */
export function parseArgs(args, cores) {
  const withValue = ['--only', '--scale', '--budget', '--parallel', '--variants', '--repeat', '--plan-nodes', '--out'];
  const flags = ['--no-prefect', '--no-fixed', '--no-plan'];
  if (args.includes('--help') || args.includes('-h')) return { help: true };
  /** @type {Map<string, string>} */
  const values = new Map();
  /** @type {Set<string>} */
  const seen = new Set();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (flags.includes(name)) {
      if (eq > 0) return { error: `${name} takes no value` };
      seen.add(name);
    } else if (withValue.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[i + 1];
      if (v === undefined || v === '' || (eq < 0 && v.startsWith('-'))) return { error: `${name} needs a value` };
      if (eq < 0) i++;
      values.set(name, v);
    } else if (a.startsWith('-')) {
      return { error: `unknown option '${a}'` };
    } else {
      return { error: `unexpected argument '${a}' (options start with --)` };
    }
  }
  /** @param {string} v */
  const list = (v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  /**
   * @param {string} name
   * @param {number} dflt
   * @param {(x: number) => boolean} ok
   * @param {string} what   what ok accepts, for the error line
   * @returns {number | { error: string }}
   */
  const num = (name, dflt, ok, what) => {
    const v = values.get(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    return Number.isFinite(x) && ok(x) ? x : { error: `${name}: '${v}' is not ${what}` };
  };
  /** @param {number} min */
  const intAtLeast = (min) => /** @param {number} x */ (x) => Number.isInteger(x) && x >= min;
  const only = list(values.get('--only') ?? ALL_SHAPES.join(','));
  if (only.length === 0) return { error: '--only: no shape given' };
  for (const k of only)
    if (!ALL_SHAPES.includes(k)) return { error: `--only: unknown shape '${k}' (${ALL_SHAPES.join(', ')})` };
  const variants = list(values.get('--variants') ?? ALL_VARIANTS.join(','));
  if (variants.length === 0) return { error: '--variants: no variant given' };
  for (const k of variants)
    if (!ALL_VARIANTS.includes(k)) return { error: `--variants: unknown variant '${k}' (${ALL_VARIANTS.join(', ')})` };
  const scale = num('--scale', 1, (x) => x > 0, 'a number > 0');
  const budget = values.has('--budget') ? num('--budget', 8, intAtLeast(2), 'an integer ≥ 2') : undefined;
  const parallel = num('--parallel', cores, intAtLeast(1), 'an integer ≥ 1');
  const repeat = num('--repeat', 1, intAtLeast(1), 'an integer ≥ 1');
  const planNodes = num('--plan-nodes', 50000, intAtLeast(1), 'an integer ≥ 1');
  for (const x of [scale, budget, parallel, repeat, planNodes]) if (typeof x === 'object') return x;
  return {
    options: {
      scale: Number(scale),
      only,
      budget: budget === undefined ? undefined : Number(budget),
      parallel: Number(parallel),
      planNodes: Number(planNodes),
      out: resolve(values.get('--out') ?? join(BENCH, 'results')),
      repeat: Number(repeat),
      prefect: !seen.has('--no-prefect'),
      fixed: !seen.has('--no-fixed'),
      plan: !seen.has('--no-plan'),
      variants,
    },
  };
}
