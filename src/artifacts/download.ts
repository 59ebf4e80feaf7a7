// Finds and downloads artifacts of the current workflow run (matrix shards and the shard plan); outside Actions,
// reads the folder the uploads were copied to.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface FoundArtifact {
  name: string;
  /** Where its files are now. */
  dir: string;
}

/**
 * Artifacts of this run whose name matches `pattern`, downloaded under `dest`. Without ACTIONS_RUNTIME_TOKEN the
 * `localDir` copies made by uploadArtifactSets are used.
 */
export async function fetchArtifacts(
  pattern: RegExp,
  dest: string,
  env: NodeJS.ProcessEnv,
  localDir?: string,
): Promise<FoundArtifact[]> {
  if (!env.ACTIONS_RUNTIME_TOKEN) {
    if (localDir === undefined || !existsSync(localDir)) return [];
    return readdirSync(localDir)
      .filter((n) => pattern.test(n))
      .sort()
      .map((name) => ({ name, dir: join(localDir, name) }));
  }
  for (const k of ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'GITHUB_SERVER_URL', 'GITHUB_WORKSPACE'])
    if (env[k] !== undefined) process.env[k] = env[k];
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  const { artifacts } = await client.listArtifacts({ latest: true });
  const out: FoundArtifact[] = [];
  for (const a of artifacts.filter((x) => pattern.test(x.name)).sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const dir = join(dest, a.name);
    await client.downloadArtifact(a.id, { path: dir });
    out.push({ name: a.name, dir });
  }
  return out;
}

/** Among names `<base>-attempt-<n>[-hash]`, the highest attempt per base. */
export function latestAttempts<T extends { name: string }>(
  items: T[],
  baseOf: (name: string) => string | undefined,
): Map<string, T> {
  const best = new Map<string, { item: T; attempt: number }>();
  for (const it of items) {
    const base = baseOf(it.name);
    const attempt = Number(/-attempt-(\d+)/.exec(it.name)?.[1] ?? 0);
    if (base === undefined) continue;
    const cur = best.get(base);
    if (cur === undefined || attempt > cur.attempt) best.set(base, { item: it, attempt });
  }
  return new Map([...best].map(([k, v]) => [k, v.item]));
}
