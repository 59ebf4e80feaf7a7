// What a reader of a dbt file (src/dbt/run-results.ts, manifest.ts) throws for a bad one: one DbtArtifactError line.
import { expect } from '@jest/globals';
import { DbtArtifactError } from '../../src/dbt/errors.js';

/** The message of what `f` throws, checked to be a one-line DbtArtifactError. */
export function oneLine(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DbtArtifactError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('nothing was thrown');
}
