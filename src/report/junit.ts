// The merged results as JUnit XML, for tools that read JUnit: one testsuite per resource type, one testcase per
// node; error → <error>, fail → <failure>, skipped → <skipped>, warn → passes with a <system-out> note.
import type { RunResultsArtifact } from '../dbt/run-results.js';
import { bucketOf } from '../dbt/statuses.js';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

function xml(s: string): string {
  // XML 1.0 allows no control characters but tab, LF, CR.
  return s
    .replace(CONTROL_CHARACTERS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function renderJunit(a: RunResultsArtifact, names: (uid: string) => { name: string; file?: string }): string {
  const byType = new Map<string, RunResultsArtifact['results']>();
  for (const r of a.results) {
    const t = r.unique_id.split('.')[0];
    (byType.get(t) ?? byType.set(t, []).get(t)!).push(r);
  }
  const suites: string[] = [];
  let total = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const [type, rs] of [...byType].sort(([x], [y]) => x.localeCompare(y))) {
    const cases: string[] = [];
    let f = 0;
    let e = 0;
    let sk = 0;
    let time = 0;
    for (const r of rs) {
      const { name, file } = names(r.unique_id);
      const t = typeof r.execution_time === 'number' ? r.execution_time : 0;
      time += t;
      const msg = xml(r.message ?? r.status);
      const attrs = `name="${xml(name)}" classname="${xml(r.unique_id)}" time="${t.toFixed(3)}"${file ? ` file="${xml(file)}"` : ''}`;
      const bucket = bucketOf(r.status);
      if (bucket === 'failed') {
        f++;
        cases.push(`    <testcase ${attrs}><failure message="${msg}">${msg}</failure></testcase>`);
      } else if (bucket === 'errored') {
        e++;
        cases.push(`    <testcase ${attrs}><error message="${msg}">${msg}</error></testcase>`);
      } else if (bucket === 'skipped') {
        sk++;
        cases.push(`    <testcase ${attrs}><skipped message="${msg}"/></testcase>`);
      } else if (bucket === 'warned') {
        cases.push(`    <testcase ${attrs}><system-out>warn: ${msg}</system-out></testcase>`);
      } else cases.push(`    <testcase ${attrs}/>`);
    }
    total += rs.length;
    failures += f;
    errors += e;
    skipped += sk;
    suites.push(
      `  <testsuite name="dbt ${xml(type)}" tests="${rs.length}" failures="${f}" errors="${e}" skipped="${sk}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dbt" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(a.elapsed_time ?? 0).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
