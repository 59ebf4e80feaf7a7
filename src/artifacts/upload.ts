// Uploads the run's report files as workflow artifacts (or, outside GitHub Actions, copies them to a folder).
// Never throws for a failed upload: each set yields an UploadOutcome and a log line.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DefaultArtifactClient } from '@actions/artifact';
import type { Logger } from '../shared/log.js';

export interface ArtifactFileSet {
  name: string;
  rootDirectory: string;
  /** Absolute paths under rootDirectory. */
  files: string[];
}

export interface UploadOutcome {
  name: string;
  ok: boolean;
  id?: number;
  size?: number;
  error?: string;
  /** Where the files were copied when there is no artifact service (no ACTIONS_RUNTIME_TOKEN). */
  localPath?: string;
}

export interface UploadOptions {
  retentionDays?: number;
  /** Fallback folder outside GitHub Actions; without it, sets are skipped there. */
  localDir?: string;
  /** Defaults to process.env. The artifact client always reads process.env, so when a different env with a
   *  token is given, its ACTIONS_* / GITHUB_SERVER_URL values are copied into process.env before uploading. */
  env?: NodeJS.ProcessEnv;
  log: Logger;
}

const MAX_NAME = 256;
const HASH_LEN = 8;
/** Characters the service refuses in file paths inside an artifact. */
const BAD_PATH_CHARS = /[":<>|*?\r\n]/;
const CLIENT_ENV_KEYS = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'GITHUB_SERVER_URL', 'GITHUB_WORKSPACE'];

function sanitise(part: string): string {
  return part
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `<prefix>-<job>[-shard-<shard>][-chunk-<chunk>]-attempt-<runAttempt>`, restricted to [A-Za-z0-9._-].
 * When sanitising changed anything (or the name had to be cut to 256 chars) a short hash of the raw parts is
 * appended, so distinct inputs that sanitise alike still get distinct names.
 */
export function artifactName(parts: {
  prefix: string;
  job: string;
  runAttempt: string;
  shard?: string;
  chunk?: string;
}): string {
  const raw: string[] = [parts.prefix || 'parallel-dbt', parts.job || 'job'];
  if (parts.shard !== undefined && parts.shard !== '') raw.push('shard', parts.shard);
  if (parts.chunk !== undefined && parts.chunk !== '') raw.push('chunk', parts.chunk);
  raw.push('attempt', parts.runAttempt || '1');
  const clean = raw.map((p) => sanitise(p) || 'x');
  let name = clean.join('-');
  const altered = clean.some((c, i) => c !== raw[i]);
  if (altered || name.length > MAX_NAME) {
    const hash = createHash('sha256').update(JSON.stringify(raw)).digest('hex').slice(0, HASH_LEN);
    name = `${name.slice(0, MAX_NAME - HASH_LEN - 1).replace(/-+$/, '')}-${hash}`;
  }
  return name;
}

function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  // The blob client's RestError carries the HTTP status separately from its (terse) message.
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && !text.includes(String(status)) ? `${text} (HTTP ${status})` : text;
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The files of a set that are safe to upload: regular files strictly inside rootDirectory (also after
 *  following symlinks), never a profiles.yml, no duplicates, no characters the service refuses. */
async function safeFiles(
  set: ArtifactFileSet,
  log: (line: string) => void,
): Promise<{ root: string; files: string[] }> {
  const root = path.resolve(set.rootDirectory);
  const realRoot = await fs.realpath(root);
  const files: string[] = [];
  for (const given of new Set(set.files.map((f) => path.resolve(root, f)))) {
    const skip = (why: string): void => log(`artifact ${set.name}: skipping ${given}: ${why}`);
    if (!isInside(root, given)) {
      skip(`outside ${root}`);
      continue;
    }
    let real: string;
    try {
      real = await fs.realpath(given);
    } catch {
      skip('does not exist');
      continue;
    }
    if (path.basename(given) === 'profiles.yml' || path.basename(real) === 'profiles.yml') {
      skip('profiles.yml is never uploaded');
      continue;
    }
    if (!isInside(realRoot, real)) {
      skip(`resolves outside ${root}`);
      continue;
    }
    if (!(await fs.stat(real)).isFile()) {
      skip('not a regular file');
      continue;
    }
    if (BAD_PATH_CHARS.test(path.relative(root, given))) {
      skip('path has a character artifacts refuse (" : < > | * ? CR LF)');
      continue;
    }
    files.push(given);
  }
  return { root, files };
}

export async function uploadArtifactSets(sets: ArtifactFileSet[], opts: UploadOptions): Promise<UploadOutcome[]> {
  const env = opts.env ?? process.env;
  const log = (line: string): void => opts.log.info(line);
  const useService = Boolean(env.ACTIONS_RUNTIME_TOKEN);
  let client: DefaultArtifactClient | undefined;
  const outcomes: UploadOutcome[] = [];

  for (const set of sets) {
    const { name } = set;
    try {
      const { root, files } = await safeFiles(set, log);
      if (files.length === 0) {
        log(`warning: artifact ${name}: no files to upload`);
        outcomes.push({ name, ok: false, error: 'no files to upload' });
        continue;
      }
      if (useService) {
        if (!client) {
          if (env !== process.env) for (const k of CLIENT_ENV_KEYS) if (env[k] !== undefined) process.env[k] = env[k];
          // Imported lazily: the client reads its environment when loaded.
          const { DefaultArtifactClient } = await import('@actions/artifact');
          client = new DefaultArtifactClient();
        }
        const started = Date.now();
        const res = await client.uploadArtifact(name, files, root, { retentionDays: opts.retentionDays });
        log(
          `artifact ${name}: uploaded ${files.length} file(s), ${res.size ?? '?'} bytes, id ${res.id ?? '?'} (${Date.now() - started} ms)`,
        );
        outcomes.push({ name, ok: true, id: res.id, size: res.size });
      } else if (opts.localDir) {
        const dest = path.join(path.resolve(opts.localDir), name);
        let size = 0;
        for (const f of files) {
          const target = path.join(dest, path.relative(root, f));
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.copyFile(f, target);
          size += (await fs.stat(target)).size;
        }
        log(
          `artifact ${name}: not in GitHub Actions (no ACTIONS_RUNTIME_TOKEN); copied ${files.length} file(s) to ${dest}`,
        );
        outcomes.push({ name, ok: true, size, localPath: dest });
      } else {
        log(`artifact ${name}: not in GitHub Actions (no ACTIONS_RUNTIME_TOKEN) and no local folder; skipped`);
        outcomes.push({ name, ok: false, error: 'no ACTIONS_RUNTIME_TOKEN and no local folder' });
      }
    } catch (e) {
      log(`warning: artifact ${name} upload failed: ${message(e)}`);
      outcomes.push({ name, ok: false, error: message(e) });
    }
  }
  return outcomes;
}
