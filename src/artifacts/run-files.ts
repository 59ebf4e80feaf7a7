// The run's artifacts: one per chunk (its target and logs) plus one with the merged files, each upload bounded
// after a cancellation. A failed upload is a warning, never a lost result.
import { join } from 'node:path';
import { artifactName, uploadArtifactSets, type UploadOutcome } from './upload.js';
import { bundleArtifacts, type ChunkFiles } from './bundle.js';
import type { Logger } from '../shared/log.js';

/** After a cancellation the runner kills the step within seconds: uploads get this long, then are reported. */
const CANCELLED_UPLOAD_MS = 4000;

export interface RunFilesInput {
  /** Input artifact-name: the first part of every name. */
  prefix: string;
  /** The action's work folder (staging happens below it). */
  workDir: string;
  retentionDays?: number;
  env: NodeJS.ProcessEnv;
  chunks: ChunkFiles[];
  merged: Record<string, string>;
  mask: (text: string) => string;
  cancelled: boolean;
  log: Logger;
  /** Set in matrix shards: part of every name. */
  shard?: string;
}

export async function uploadRunFiles(u: RunFilesInput): Promise<UploadOutcome[]> {
  const name = (chunk?: string): string =>
    artifactName({
      prefix: u.prefix,
      job: u.env.GITHUB_JOB ?? 'job',
      runAttempt: u.env.GITHUB_RUN_ATTEMPT ?? '1',
      shard: u.shard,
      chunk,
    });
  const sets = bundleArtifacts({
    stagingDir: join(u.workDir, 'artifacts-staging'),
    chunks: u.chunks,
    merged: u.merged,
    mask: u.mask,
    names: { chunk: (c) => name(c.replace(/^chunk-/, '')), merged: name(u.shard === undefined ? 'merged' : undefined) },
  });
  const upload = uploadArtifactSets(sets, {
    retentionDays: u.retentionDays,
    localDir: localArtifactsDir(u.workDir),
    env: u.env,
    log: u.log,
  });
  const outcomes = u.cancelled
    ? await Promise.race([
        upload,
        new Promise<UploadOutcome[]>((r) =>
          setTimeout(
            () =>
              r(
                sets.map((s) => ({
                  name: s.name,
                  ok: false,
                  error: 'skipped: the run was cancelled and time ran out',
                })),
              ),
            CANCELLED_UPLOAD_MS,
          ),
        ),
      ])
    : await upload;
  for (const o of outcomes)
    if (!o.ok)
      u.log.warning(
        `Artifact ${o.name} was not uploaded: ${o.error}. The results and the summary are complete without it.`,
      );
  return outcomes;
}

/** Outside GitHub Actions, artifacts are copied here (beside the work dir, so later jobs on this machine find them). */
export function localArtifactsDir(workDir: string): string {
  return join(workDir, '..', 'parallel-dbt-artifacts');
}
