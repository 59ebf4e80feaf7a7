// ESM + ts-jest. Tests run on Node 24 (node_modules/.bin/node from the node@24 package).
//
// Two projects, chosen by file name:
// - unit: test/**/*.test.ts except *.integration.test.ts — needs neither dbt, PostgreSQL nor Chromium
//   (`npm run test:unit`, works on a fresh clone after `npm ci`);
// - integration: test/**/*.integration.test.ts — real dbt, PostgreSQL, Chromium. Its globalSetup builds src/ into
//   .test-build/ once per run, and the harness runs that build (never the committed dist/). test/support/harness.ts
//   refuses to load in a file not named *.integration.test.ts, so such a test cannot land in the unit set.
// `npm test` runs both. Both put their temporary files under one folder per jest run, removed when it ends
// (test/support/temp-root.mjs; PARALLEL_DBT_KEEP_TEST_TMP=1 keeps it).
const shared = {
  rootDir: import.meta.dirname,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  modulePathIgnorePatterns: ['<rootDir>/.test-build/'],
  testTimeout: 300000,
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/support/unit-setup.mjs',
      globalTeardown: '<rootDir>/test/support/teardown.mjs',
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.integration.test.ts'],
      globalSetup: '<rootDir>/test/support/build-action.mjs',
      globalTeardown: '<rootDir>/test/support/teardown.mjs',
    },
  ],
  testTimeout: 300000,
  verbose: true,
  reporters: ['default', '<rootDir>/test/support/closing-line-reporter.cjs'],
};
