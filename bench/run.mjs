// The benchmark (`npm run bench`): generates dbt projects (bench/generate.mjs), runs each one on an embedded
// PostgreSQL with real dbt in several ways, side by side in one run, and writes one table of wall times and ratios
// to bench/results/latest.md and latest.json. See bench/README.md for the shapes, the variants and the formulas.
// This file is the entry only: the command line, Ctrl-C, and bench/lib/bench.mjs runBench.
//
//   node bench/run.mjs --help
import { cores } from './lib/accounting.mjs';
import { runBench, stopBench } from './lib/bench.mjs';
import { HELP, parseArgs } from './lib/cli.mjs';

const parsed = parseArgs(process.argv.slice(2), cores());
if ('help' in parsed) {
  console.log(HELP);
  process.exit(0);
}
if ('error' in parsed) {
  console.error(`bench: ${parsed.error}; node bench/run.mjs --help lists the options`);
  process.exit(2);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping dbt processes and PostgreSQL`);
    stopBench().finally(() => process.exit(130));
  });
}
try {
  await runBench(parsed.options, cores());
} catch (e) {
  console.error(`bench: failed: ${e instanceof Error ? e.stack : e}`);
  await stopBench();
  process.exit(1);
}
