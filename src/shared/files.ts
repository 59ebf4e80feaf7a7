// File lists from path inputs, as several layers read them (timings in the planner, compare-to in the report).
import { globSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * Paths or globs (relative ones against cwd) → the files that exist, sorted. A path that matches nothing is not
 * an error here: for these inputs it means no earlier run yet, and each caller says so in its own words.
 */
export function expandPaths(patterns: string[], cwd: string): string[] {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
    if (/[*?[{]/.test(pattern)) for (const f of globSync(abs)) files.add(f);
    else {
      try {
        if (statSync(abs).isFile()) files.add(abs);
      } catch {
        /* missing: see above */
      }
    }
  }
  return [...files].sort();
}
