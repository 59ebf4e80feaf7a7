// Reads the base branch's run_results.json files (input compare-to). Nothing here stops the run: a path that
// matches nothing is a notice (the first run has no base), a file that cannot be used is a warning naming it.
import { expandPaths } from '../shared/files.js';
import { DbtArtifactError } from '../dbt/errors.js';
import { readRunResults, type RunResultsArtifact } from '../dbt/run-results.js';
import { baseNodeOf, type Base, type BaseNode } from './compare.js';

export interface BaseNote {
  level: 'notice' | 'warning';
  message: string;
}

export interface BaseRead {
  /** Undefined when no usable file was found. */
  base?: Base;
  notes: BaseNote[];
}

export interface ReadBaseOptions {
  /** This run's dbt version (a base from another minor version is compared, with a warning). */
  dbtVersion?: string;
  /** Packages of this run's nodes (the second part of a unique_id): a base sharing none is another project. */
  packages: Set<string>;
}

/** Every usable file, later files overriding earlier ones node by node (e.g. one file per matrix shard). */
export function readBase(patterns: string[], o: ReadBaseOptions): BaseRead {
  const notes: BaseNote[] = [];
  const files = expandPaths(patterns, process.cwd()); // the settings made compare-to paths absolute already
  if (files.length === 0) {
    return {
      notes: [
        {
          level: 'notice',
          message: `compare-to: no run_results.json matched ${patterns.join(', ')} (no base yet?): every problem counts as new.`,
        },
      ],
    };
  }
  const nodes = new Map<string, BaseNode>();
  const used: string[] = [];
  for (const f of files) {
    let parsed: RunResultsArtifact;
    try {
      parsed = readRunResults(f);
    } catch (e) {
      if (!(e instanceof DbtArtifactError)) throw e;
      notes.push({ level: 'warning', message: `compare-to: ${e.message}; it is ignored.` });
      continue;
    }
    const results = parsed.results;
    const packages = new Set(results.map((r) => r.unique_id.split('.')[1]));
    if (results.length > 0 && o.packages.size > 0 && ![...packages].some((p) => o.packages.has(p))) {
      notes.push({
        level: 'warning',
        message: `compare-to: ${f} is from another dbt project (its nodes are in ${[...packages].slice(0, 3).join(', ')}; this run's in ${[...o.packages].slice(0, 3).join(', ')}); it is ignored.`,
      });
      continue;
    }
    const theirs = parsed.metadata.dbt_version;
    if (theirs !== undefined && o.dbtVersion !== undefined && minor(theirs) !== minor(o.dbtVersion)) {
      notes.push({
        level: 'warning',
        message: `compare-to: ${f} was written by dbt ${theirs}, this run uses dbt ${o.dbtVersion}; statuses are compared anyway, durations may differ for that reason alone.`,
      });
    }
    for (const r of results) nodes.set(r.unique_id, baseNodeOf(r));
    used.push(f);
  }
  return used.length === 0 ? { notes } : { base: { files: used, nodes }, notes };
}

function minor(version: string): string {
  return version.replace(/^v/, '').split('.').slice(0, 2).join('.');
}
