// Where a forked worker's CPU goes: runs the action on a bench project (bench/work/<shape>/single/project, made by
// an earlier `npm run bench`) against a fresh embedded PostgreSQL, and samples its first pooled worker with py-spy
// (samples of the thread holding the GIL: dbt's serial Python work) for the whole run. Writes collapsed stacks and prints the top frames by self and inclusive time.
//   node bench/profile-worker.mjs <py-spy binary> <shape: cpu|remote> <out dir> [budget]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchPostgres } from './lib/postgres.mjs';
import { runAction } from '../scripts/lib/action-run.mjs';
import { WORK } from './lib/paths.mjs';

const [pyspy, shape, out, budgetArg] = process.argv.slice(2);
const budget = budgetArg ?? (shape === 'remote' ? '32' : '8');
mkdirSync(out, { recursive: true });
const proj = join(out, 'project');
rmSync(proj, { recursive: true, force: true });
mkdirSync(join(out, 'runner-temp'), { recursive: true });
cpSync(join(WORK, shape, 'single', 'project'), proj, {
  recursive: true,
  filter: (p) => !/[/\\](target|logs)([/\\]|$)/.test(p),
});
const pg = await startBenchPostgres({ maxConnections: 200 });
try {
  const db = await pg.freshDb(`prof_${shape}`);
  /** @type {Promise<unknown>[]} */
  const samplers = [];
  const seen = new Set();
  const poll = setInterval(() => {
    let ps = '';
    try {
      ps = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
    } catch {
      return;
    }
    const rows = ps.split('\n').map((l) => l.trim().split(/\s+/));
    const hosts = rows.filter((r) => r.slice(2).join(' ').includes('worker_host.py')).map((r) => r[0]);
    for (const r of rows) {
      if (!hosts.includes(r[1]) || seen.has(r[0])) continue;
      seen.add(r[0]);
      const file = join(out, `worker-${seen.size}.txt`);
      samplers.push(
        new Promise((res) => {
          const p = spawn(
            pyspy,
            ['record', '-p', r[0], '-r', '250', '-f', 'raw', '-o', file, '--nonblocking', '--gil'],
            {
              stdio: 'ignore',
            },
          );
          p.on('close', res);
        }),
      );
    }
  }, 100);
  const res = await runAction(
    {
      command: 'build',
      'project-dir': proj,
      'profiles-dir': proj,
      'max-connections': budget,
      'work-dir': join(out, 'work'),
    },
    { env: /** @type {Record<string, string>} */ (pg.env(db)), cwd: proj, runnerTemp: join(out, 'runner-temp') },
  );
  clearInterval(poll);
  await Promise.all(samplers);
  console.log(`action exit ${res.code} in ${res.seconds.toFixed(1)} s; ${seen.size} worker(s) sampled`);
  writeFileSync(join(out, 'action.out'), res.stdout);
} finally {
  await pg.stop();
}
