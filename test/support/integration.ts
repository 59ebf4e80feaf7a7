// The line between unit and integration tests (see jest.config.js): a test that needs real dbt, PostgreSQL or
// Chromium is named *.integration.test.ts and runs in the integration project.
import { expect } from '@jest/globals';

/** Throws when the calling test file is not an integration test, so it cannot land in `npm run test:unit`. */
export function integrationOnly(needs: string): void {
  const testPath = expect.getState().testPath ?? '(unknown test file)';
  if (!testPath.endsWith('.integration.test.ts')) {
    throw new Error(`${testPath} needs ${needs}: name it *.integration.test.ts so it runs with the integration tests, not the unit tests (see jest.config.js).`);
  }
}
