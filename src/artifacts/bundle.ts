// Gathers what each chunk leaves behind (its run_results.json, its dbt log, the compiled SQL of its failing nodes)
// and the merged files into staging folders, masking known secrets in every file on the way, ready to upload.
import { cpSync, existsSync, globSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { ArtifactFileSet } from './upload.js';

export interface ChunkFiles {
  /** chunk-1, … : also the folder inside the artifact (download-artifact merge-multiple keeps them apart). */
  name: string;
  invocations: { targetPath: string; logPath: string }[];
  /** Node names whose compiled SQL is wanted (failing, erroring nodes). */
  failing: string[];
}

export interface BundleInput {
  stagingDir: string;
  chunks: ChunkFiles[];
  /** Files for the merged artifact, by the name they get inside it. */
  merged: Record<string, string>;
  names: { chunk: (chunk: string) => string; merged: string };
  mask: (text: string) => string;
}

/** Copies one file into the staging tree, masking secrets when it is text. */
function stage(src: string, dest: string, mask: (t: string) => string): string | undefined {
  if (!existsSync(src) || basename(src) === 'profiles.yml') return undefined;
  mkdirSync(dirname(dest), { recursive: true });
  const buf = readFileSync(src);
  if (buf.includes(0)) cpSync(src, dest);
  else writeFileSync(dest, mask(buf.toString('utf8')));
  return dest;
}

export function bundleArtifacts(b: BundleInput): ArtifactFileSet[] {
  const sets: ArtifactFileSet[] = [];
  for (const c of b.chunks) {
    const root = join(b.stagingDir, b.names.chunk(c.name));
    const files: string[] = [];
    for (const inv of c.invocations) {
      // target, target-retry1, target-02 … → invocation, invocation-retry1, invocation-02 …
      const base = join(root, c.name, basename(inv.targetPath).replace(/^target/, 'invocation'));
      const add = (src: string, rel: string): void => {
        const f = stage(src, join(base, rel), b.mask);
        if (f) files.push(f);
      };
      add(join(inv.targetPath, 'run_results.json'), 'run_results.json');
      add(join(inv.logPath, 'dbt.log'), 'dbt.log');
      for (const name of new Set(c.failing)) {
        for (const sub of ['run', 'compiled']) {
          for (const f of globSync(join(inv.targetPath, sub, '**', `${name}.sql`)))
            add(f, join(sub, relative(join(inv.targetPath, sub), f)));
        }
      }
    }
    if (files.length > 0) sets.push({ name: b.names.chunk(c.name), rootDirectory: root, files });
  }
  const root = join(b.stagingDir, b.names.merged);
  const files: string[] = [];
  for (const [rel, src] of Object.entries(b.merged)) {
    const f = stage(src, join(root, 'merged', rel), b.mask);
    if (f) files.push(f);
  }
  if (files.length > 0) sets.push({ name: b.names.merged, rootDirectory: root, files });
  return sets;
}
