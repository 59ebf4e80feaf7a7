// The REAL @actions/artifact client against a local stand-in of GitHub's artifact service, over real HTTP.
// Round trips run the client in a child process (test/support/artifact-driver.mjs); uploadArtifactSets runs
// in-process and imports the client lazily after the env points at the stand-in.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { artifactName, uploadArtifactSets, type UploadOutcome } from '../src/artifacts/upload.js';
import { startArtifactService, type ArtifactService } from './support/artifact-service.js';
import { keptLines } from './support/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DRIVER = path.join(here, 'support', 'artifact-driver.mjs');
const FORBIDDEN = /["':<>|*?\r\n\\/]/;
const CLIENT_ENV = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_RUNTIME_URL',
  'GITHUB_SERVER_URL',
  'GITHUB_WORKSPACE',
];

let svc: ArtifactService;
let tmp: string;
let root: string; // the "project": 3 small report files + a profiles.yml that must never leave
const savedEnv = Object.fromEntries(CLIENT_ENV.map((k) => [k, process.env[k]]));

async function write(file: string, data: string | Buffer): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
  return file;
}

/** rel path → contents of every file under dir. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const abs = path.join(e.parentPath, e.name);
      out.set(path.relative(dir, abs), await fs.readFile(abs));
    }
  }
  return out;
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [rel, data] of expected) expect(actual.get(rel)?.equals(data)).toBe(true);
}

async function unzipTo(zip: Buffer, name: string): Promise<Map<string, Buffer>> {
  const dir = await fs.mkdtemp(path.join(tmp, `unzip-${name}-`));
  await fs.writeFile(`${dir}.zip`, zip);
  await promisify(execFile)('/usr/bin/unzip', ['-q', `${dir}.zip`, '-d', dir]);
  return tree(dir);
}

interface DriverResult {
  upload?: { id: number; size: number; digest: string };
  uploadMs?: number;
  list?: { name: string; id: number; size: number; digest?: string }[];
  get?: { name: string; id: number; size: number; digest?: string };
  download?: { downloadPath: string; digestMismatch: boolean };
  downloadMs?: number;
  error?: string;
}

/** Runs the real client in a child process (async spawn: the stand-in lives in this process). */
function drive(req: {
  name: string;
  files: string[];
  rootDirectory: string;
  downloadTo?: string;
}): Promise<DriverResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...svc.env,
      GITHUB_WORKSPACE: tmp,
    };
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(req)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT:'));
      if (code !== 0 || !line) reject(new Error(`driver exited ${code}\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line.slice('RESULT:'.length)) as DriverResult);
    });
  });
}

/** Runs fn with process.stdout muted (@actions/core logs there), returning what was written. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string }> {
  let stdout = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    return { value: await fn(), stdout };
  } finally {
    spy.mockRestore();
  }
}

async function upload(name: string, files: string[], rootDirectory = root, env: NodeJS.ProcessEnv = svc.env) {
  const lines: string[] = [];
  const t = Date.now();
  const { value, stdout } = await quietly(() =>
    uploadArtifactSets([{ name, rootDirectory, files }], { env, log: { ...keptLines(), info: (l) => lines.push(l) } }),
  );
  return { outcome: value[0] as UploadOutcome, lines, stdout, ms: Date.now() - t };
}

const timings: string[] = [];

beforeAll(async () => {
  svc = await startArtifactService();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'artifacts-test-'));
  root = path.join(tmp, 'project');
  await write(
    path.join(root, 'target', 'run_results.json'),
    JSON.stringify({ results: [{ unique_id: 'model.x.a', status: 'success' }] }),
  );
  await write(path.join(root, 'target', 'chunk-1', 'manifest.json'), `{"nodes":{}}\n`);
  await write(path.join(root, 'logs', 'dbt.log'), Buffer.from('line one\nline two\n\u00e9\u00e8 utf-8\n'));
  await write(path.join(root, 'profiles.yml'), 'x:\n  outputs:\n    dev:\n      password: hunter2\n');
});

afterAll(async () => {
  await svc?.close();
  for (const [k, v] of Object.entries(savedEnv))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  if (timings.length) console.log(`upload timings:\n  ${timings.join('\n  ')}`);
});

const small = (): string[] =>
  ['target/run_results.json', 'target/chunk-1/manifest.json', 'logs/dbt.log'].map((r) => path.join(root, r));

describe('real client round trip against the stand-in (child process)', () => {
  test('3 small files: upload, list, get, download; zip is byte-identical to the files', async () => {
    const files = small();
    const res = await drive({
      name: 'roundtrip-small',
      files,
      rootDirectory: root,
      downloadTo: path.join(tmp, 'dl-small'),
    });
    expect(res.error).toBeUndefined();
    timings.push(`3 small files (driver, fresh process): upload ${res.uploadMs} ms, download ${res.downloadMs} ms`);

    const stored = svc.artifacts().find((a) => a.name === 'roundtrip-small');
    expect(stored).toMatchObject({
      finalized: true,
      id: res.upload?.id,
      size: res.upload?.size,
      mimeType: 'application/zip',
    });
    // upload returns a bare hex digest, list/get return "sha256:<hex>"
    expect(res.get?.digest).toBe(`sha256:${res.upload?.digest}`);
    expect(res.list?.map((a) => a.name)).toContain('roundtrip-small');
    expect(res.get).toMatchObject({ name: 'roundtrip-small', id: res.upload?.id, size: res.upload?.size });
    expect(res.download?.digestMismatch).toBe(false);

    const expected = new Map(
      await Promise.all(files.map(async (f) => [path.relative(root, f), await fs.readFile(f)] as const)),
    );
    expectSameFiles(await unzipTo(svc.zipOf('roundtrip-small'), 'small'), expected);
    expectSameFiles(await tree(path.join(tmp, 'dl-small')), expected);

    const calls = svc
      .calls()
      .filter((c) => c.name === undefined || c.name === 'roundtrip-small')
      .map((c) => `${c.call}:${c.status}`);
    expect(calls).toEqual([
      'CreateArtifact:200',
      'blob-block:201',
      'blob-blocklist:201',
      'FinalizeArtifact:200',
      'ListArtifacts:200',
      'ListArtifacts:200',
      'ListArtifacts:200',
      'GetSignedArtifactURL:200',
      'blob-get:200',
    ]);
  });

  test('a 10 MiB file goes up in several 8 MiB blocks, reassembled in order', async () => {
    const bigRoot = path.join(tmp, 'big');
    const big = await write(path.join(bigRoot, 'target', 'big.bin'), randomBytes(10 * 1024 * 1024)); // incompressible
    const note = await write(path.join(bigRoot, 'note.txt'), 'small neighbour\n');
    const before = svc.calls().length;
    const res = await drive({ name: 'roundtrip-big', files: [big, note], rootDirectory: bigRoot });
    expect(res.error).toBeUndefined();
    timings.push(`10 MiB random file (driver, fresh process): upload ${res.uploadMs} ms`);

    const blocks = svc
      .calls()
      .slice(before)
      .filter((c) => c.call === 'blob-block');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(res.upload?.size).toBeGreaterThan(10 * 1024 * 1024);
    expectSameFiles(await unzipTo(svc.zipOf('roundtrip-big'), 'big'), await tree(bigRoot));
  });
});

describe('uploadArtifactSets with a token (real client in-process, lazily imported)', () => {
  test('uploads the safe files under a sanitised name; never profiles.yml or files outside the root', async () => {
    const outside = await write(path.join(tmp, 'elsewhere', 'secret.txt'), 'not part of the project\n');
    const link = path.join(root, 'target', 'innocent.txt');
    await fs.symlink(path.join(root, 'profiles.yml'), link);
    const nested = await write(path.join(root, 'config', 'profiles.yml'), 'also secret\n');
    const name = artifactName({ prefix: 'dbt report', job: 'build/all', shard: '2:3', runAttempt: '1' });

    const { outcome, lines, ms } = await upload(name, [
      ...small(),
      path.join(root, 'profiles.yml'),
      nested,
      outside,
      link,
      path.join(root, 'missing.json'),
    ]);
    timings.push(`uploadArtifactSets, 3 small files (in-process): ${ms} ms`);
    expect(outcome).toMatchObject({ name, ok: true });
    expect(outcome.id).toBe(svc.artifacts().find((a) => a.name === name)?.id);
    expect(outcome.size).toBe(svc.zipOf(name).length);

    const unzipped = await unzipTo(svc.zipOf(name), 'sets');
    expect([...unzipped.keys()].sort()).toEqual([
      'logs/dbt.log',
      'target/chunk-1/manifest.json',
      'target/run_results.json',
    ]);
    expect([...unzipped.values()].some((b) => b.includes('hunter2'))).toBe(false);
    for (const skipped of ['profiles.yml', nested, outside, link, 'missing.json']) {
      expect(lines.some((l) => l.startsWith(`artifact ${name}: skipping`) && l.includes(skipped))).toBe(true);
    }
    expect(lines.at(-1)).toMatch(new RegExp(`^artifact ${name}: uploaded 3 file\\(s\\)`));
    await fs.unlink(link);
  });

  test('a duplicate name in the same run is a JSON 409: ok:false with the reason, no throw, no retry', async () => {
    const first = await upload('dup', small());
    expect(first.outcome.ok).toBe(true);
    const before = svc.calls().length;
    const second = await upload('dup', small());
    expect(second.outcome.ok).toBe(false);
    expect(second.outcome.error).toMatch(/409.*already exists/);
    expect(second.lines.some((l) => l.startsWith('warning: artifact dup upload failed:'))).toBe(true);
    expect(
      svc
        .calls()
        .slice(before)
        .map((c) => `${c.call}:${c.status}`),
    ).toEqual(['CreateArtifact:409']);
    expect(second.ms).toBeLessThan(2500);
  });

  test('one 500 on CreateArtifact: the client waits ~3 s and retries; the upload then succeeds', async () => {
    svc.failNext('CreateArtifact', 500);
    const before = svc.calls().length;
    const r = await upload('retry-create', small());
    timings.push(`CreateArtifact 500 once, then retry: ${r.ms} ms`);
    expect(r.outcome.ok).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(2900);
    expect(r.stdout).toMatch(/Attempt 1 of 5 failed with error: Failed request: \(500\)/);
    expect(
      svc
        .calls()
        .slice(before)
        .filter((c) => c.call === 'CreateArtifact')
        .map((c) => c.status),
    ).toEqual([500, 200]);
  });

  test('a non-retryable CreateArtifact error (403) is ok:false at once', async () => {
    svc.failNext('CreateArtifact', 403);
    const r = await upload('denied', small());
    expect(r.outcome).toMatchObject({ ok: false });
    expect(r.outcome.error).toMatch(/non-retryable.*403/);
    expect(r.ms).toBeLessThan(2500);
    expect(svc.artifacts().some((a) => a.name === 'denied')).toBe(false);
  });

  test('blob PUT failures: a 500 is retried by the blob client, a 403 fails the upload', async () => {
    svc.failNext('blob-block', 500);
    const before = svc.calls().length;
    const retried = await upload('blob-retry', small());
    expect(retried.outcome.ok).toBe(true);
    expect(
      svc
        .calls()
        .slice(before)
        .map((c) => `${c.call}:${c.status}`),
    ).toEqual(['CreateArtifact:200', 'blob-block:500', 'blob-block:201', 'blob-blocklist:201', 'FinalizeArtifact:200']);
    expectSameFiles(
      await unzipTo(svc.zipOf('blob-retry'), 'blob-retry'),
      new Map(await Promise.all(small().map(async (f) => [path.relative(root, f), await fs.readFile(f)] as const))),
    );

    svc.failNext('blob-block', 403);
    const failed = await upload('blob-denied', small());
    expect(failed.outcome.ok).toBe(false);
    expect(failed.outcome.error).toBe('InjectedFailure (HTTP 403)');
    expect(svc.artifacts().find((a) => a.name === 'blob-denied')?.finalized).toBe(false);
  });

  test('a set with nothing safe left is ok:false without calling the service', async () => {
    const before = svc.calls().length;
    const r = await upload('only-secrets', [path.join(root, 'profiles.yml')]);
    expect(r.outcome).toEqual({ name: 'only-secrets', ok: false, error: 'no files to upload' });
    expect(svc.calls().length).toBe(before);
  });

  // The client's own bound for a service that keeps failing: 5 attempts, sleeping 3 s, 4.5–6.75, 6.75–10.1,
  // 10.1–15.2 s in between (~25–35 s). Slow, so only with ARTIFACT_SLOW_TESTS=1.
  (process.env.ARTIFACT_SLOW_TESTS === '1' ? test : test.skip)(
    'CreateArtifact failing 500 every time: ok:false after 5 attempts',
    async () => {
      svc.failNext('CreateArtifact', 500, 5);
      const r = await upload('always-500', small());
      timings.push(`CreateArtifact 500 x5 (gives up): ${r.ms} ms`);
      expect(r.outcome.ok).toBe(false);
      expect(r.outcome.error).toMatch(/after 5 attempts.*500/);
      expect(r.ms).toBeGreaterThan(24_000);
      expect(r.ms).toBeLessThan(40_000);
    },
  );
});

describe('uploadArtifactSets without a token', () => {
  test('copies the safe files to <localDir>/<name>/, preserving relative paths', async () => {
    const localDir = path.join(tmp, 'local-artifacts');
    const before = svc.calls().length;
    const lines: string[] = [];
    const [outcome] = await uploadArtifactSets(
      [{ name: 'local-1', rootDirectory: root, files: [...small(), path.join(root, 'profiles.yml')] }],
      { env: {}, localDir, log: { ...keptLines(), info: (l) => lines.push(l) } },
    );
    const dest = path.join(localDir, 'local-1');
    expect(outcome).toMatchObject({ name: 'local-1', ok: true, localPath: dest });
    const expected = new Map(
      await Promise.all(small().map(async (f) => [path.relative(root, f), await fs.readFile(f)] as const)),
    );
    expectSameFiles(await tree(dest), expected);
    expect(outcome.size).toBe([...expected.values()].reduce((n, b) => n + b.length, 0));
    expect(lines.some((l) => l.includes(dest))).toBe(true);
    expect(lines.some((l) => l.includes('skipping') && l.includes('profiles.yml'))).toBe(true);
    expect(svc.calls().length).toBe(before);
  });

  test('without a local folder the set is skipped, not thrown', async () => {
    const lines: string[] = [];
    const [outcome] = await uploadArtifactSets([{ name: 'nowhere', rootDirectory: root, files: small() }], {
      env: {},
      log: { ...keptLines(), info: (l) => lines.push(l) },
    });
    expect(outcome).toMatchObject({ name: 'nowhere', ok: false });
    expect(lines).toHaveLength(1);
  });

  test('a missing root directory is ok:false, not thrown', async () => {
    const [outcome] = await uploadArtifactSets([{ name: 'gone', rootDirectory: path.join(tmp, 'nope'), files: [] }], {
      env: {},
      localDir: tmp,
      log: keptLines(),
    });
    expect(outcome.ok).toBe(false);
  });
});

describe('artifactName', () => {
  test('plain parts are kept as they are', () => {
    expect(artifactName({ prefix: 'parallel-dbt', job: 'build', runAttempt: '2' })).toBe(
      'parallel-dbt-build-attempt-2',
    );
    expect(artifactName({ prefix: 'parallel-dbt', job: 'build', shard: '3', chunk: '7', runAttempt: '1' })).toBe(
      'parallel-dbt-build-shard-3-chunk-7-attempt-1',
    );
  });

  test('characters the service refuses are replaced; the result is valid and at most 256 chars', () => {
    const bad = ['a"b', 'c:d', 'e<f>g', 'h|i', 'j*k?', 'l\r\nm', 'n\\o', 'p/q', 'sp ace', 'ünï', '..', ''];
    for (const s of bad) {
      const n = artifactName({ prefix: s, job: s, shard: s, chunk: s, runAttempt: s });
      expect(n).not.toMatch(FORBIDDEN);
      expect(n).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(n.length).toBeLessThanOrEqual(256);
    }
    expect(artifactName({ prefix: 'dbt report', job: 'build/all', shard: '2:3', runAttempt: '1' })).toMatch(
      /^dbt-report-build-all-shard-2-3-attempt-1-[0-9a-f]{8}$/,
    );
    const long = artifactName({ prefix: 'p'.repeat(300), job: 'j', runAttempt: '1' });
    expect(long.length).toBeLessThanOrEqual(256);
  });

  test('unique per job / shard / chunk / attempt, even when sanitising makes them look alike', () => {
    const names = new Set<string>();
    for (const job of ['build', 'build/x', 'build-x', 'build:x']) {
      for (const shard of [undefined, '1', '2']) {
        for (const runAttempt of ['1', '2']) names.add(artifactName({ prefix: 'pdbt', job, shard, runAttempt }));
      }
    }
    expect(names.size).toBe(4 * 3 * 2);
    expect(artifactName({ prefix: 'p'.repeat(300), job: 'a', runAttempt: '1' })).not.toBe(
      artifactName({ prefix: 'p'.repeat(300), job: 'b', runAttempt: '1' }),
    );
    expect(artifactName({ prefix: 'x', job: 'y', runAttempt: '1' })).toBe(
      artifactName({ prefix: 'x', job: 'y', runAttempt: '1' }),
    );
  });
});
