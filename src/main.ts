// The entry: reads the inputs, handles the runner's signals, turns known problems into one line, and hands over to
// the flow the `mode` input names. The steps themselves live in inputs/ → plan/ → run/ → report/ (flow/ wires them).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readSettings, type Settings } from './inputs/settings.js';
import { UserError } from './shared/errors.js';
import { DbtError } from './dbt/errors.js';
import { Masker, secretsFromEnv, secretsFromProfiles } from './shared/secrets.js';
import { closePrepared, prepare, type Prepared } from './flow/prepare.js';
import { runLocal } from './flow/local.js';
import { planMatrix, reportMatrix, shardNodes } from './flow/matrix.js';
import { githubRunner, type Runner } from './flow/runner.js';

export async function run(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  runner: Runner = githubRunner,
): Promise<void> {
  // The runner cancels with SIGINT, then SIGTERM 7.5 s later, then kills everything 2.5 s after that.
  // First signal: SIGINT to every dbt (it cancels its queries and writes what finished); second: kill them now.
  const cancel = new AbortController();
  const kill = new AbortController();
  const onSignal = (sig: string) => () => {
    if (!cancel.signal.aborted) {
      runner.warning(`Received ${sig}: interrupting every dbt process, then writing what ran.`);
      cancel.abort({ kind: 'cancel', message: 'Not run: the run was cancelled.' });
    } else if (!kill.signal.aborted) {
      runner.warning(`Received ${sig} again: stopping every dbt process now.`);
      kill.abort();
    }
  };
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));
  let masker = new Masker(secretsFromEnv(env));
  let prepared: Prepared | undefined;
  try {
    const s = readSettings(env, cwd);
    masker = new Masker([...masker.secrets, ...secretsFromProfiles(profilesDirUsed(s, env))]);
    for (const secret of masker.secrets) runner.secret(secret);
    if (s.mode === 'report') {
      await reportMatrix({ settings: s, env, mask: (t) => masker.mask(t), runner });
      return;
    }
    prepared = await prepare(s, env, cwd, cancel.signal, runner);
    // This run's parse state, for the base branch to cache and later runs to start from (input partial-parse).
    if (prepared.partialParseFile !== undefined) runner.output('partial-parse', prepared.partialParseFile);
    if (s.mode === 'plan') {
      await planMatrix({ settings: s, prepared, env, cwd, runner });
      return;
    }
    // A matrix shard runs its part of the selection; every other mode the whole of it.
    const nodes = s.mode === 'run' ? await shardNodes({ settings: s, prepared, env, runner }) : prepared.selected;
    await runLocal({
      settings: s,
      prepared,
      nodes,
      env,
      cwd,
      signal: cancel.signal,
      killSignal: kill.signal,
      masker,
      runner,
      shard: s.mode === 'run' ? s.shard : undefined,
    });
  } catch (e) {
    if (e instanceof UserError || e instanceof DbtError) runner.fail(masker.mask(e.message));
    else {
      runner.fail(masker.mask(`parallel-dbt failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`));
      runner.debug(e instanceof Error && e.stack ? e.stack : String(e));
    }
  } finally {
    await closePrepared(prepared);
  }
}

/** The folder dbt reads profiles.yml from: the input, DBT_PROFILES_DIR, the project dir if it has one, ~/.dbt. */
function profilesDirUsed(s: Settings, env: NodeJS.ProcessEnv): string {
  if (s.profilesDir !== undefined) return s.profilesDir;
  if (env.DBT_PROFILES_DIR) return env.DBT_PROFILES_DIR;
  if (existsSync(join(s.projectDir, 'profiles.yml'))) return s.projectDir;
  return join(homedir(), '.dbt');
}
