// How a chunk names its nodes to dbt. Almost every node is selected through a selection state file
// (`--state <dir> --select result:success`, see dbt/argv.ts): exact, one pass, no argv space. Unit tests are not
// reached by the result method, so each gets an exact selector of its own: `unit_test:<package>.<name>,<fqn>`
// (the unit_test method alone matches by name across models; intersected with the FQN it matches only this one).
import type { Manifest, ManifestNode } from '../dbt/manifest.js';

export class SelectorIndex {
  private readonly unitTests = new Map<string, ManifestNode>();

  constructor(m: Manifest) {
    for (const [uid, n] of Object.entries(m.unit_tests ?? {})) this.unitTests.set(uid, n);
  }

  isUnitTest(uid: string): boolean {
    return this.unitTests.has(uid);
  }

  /** The exact selector of a unit test. */
  exactSelectorOf(uid: string): string {
    const n = this.unitTests.get(uid);
    if (n === undefined || !Array.isArray(n.fqn) || n.fqn.length === 0)
      throw new Error(`${uid} is not a unit test with an FQN`);
    const fqn = n.fqn.flatMap((s) => s.split('.'));
    return `unit_test:${fqn[0]}.${n.name},${fqn.join('.')}`;
  }
}
