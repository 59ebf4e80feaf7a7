// ESM + ts-jest. Tests run on Node 24 (node_modules/.bin/node from the node@24 package).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 300000,
  verbose: true,
  reporters: ['default', '<rootDir>/test/support/closing-line-reporter.cjs'],
};
