// The line between unit and integration tests (see jest.config.js): a test that needs real dbt, PostgreSQL or
// Chromium is named *.integration.test.ts, runs in the integration project, and runs the action as built from src/
// by that project's globalSetup (test/support/build-action.mjs).
import { expect } from '@jest/globals';

/** Throws when the calling test file is not an integration test, so it cannot land in `npm run test:unit`. */
export function integrationOnly(needs: string): void {
  const testPath = expect.getState().testPath ?? '(unknown test file)';
  if (!testPath.endsWith('.integration.test.ts')) {
    throw new Error(
      `${testPath} needs ${needs}: name it *.integration.test.ts so it runs with the integration tests, not the unit tests (see jest.config.js).`,
    );
  }
}

/** The action bundle built from src/ for this jest run (never the committed dist/). */
export function actionBundle(): string {
  const bundle = process.env.PARALLEL_DBT_TEST_BUNDLE;
  if (!bundle)
    throw new Error(
      'PARALLEL_DBT_TEST_BUNDLE is not set: run integration tests through jest.config.js, whose integration project builds src/ first (test/support/build-action.mjs).',
    );
  return bundle;
}
