/** Unit tests: `*.spec.ts` beside the code. End-to-end suites live under test/ (see test/jest-e2e.config.js). */
const { pathsToModuleNameMapper } = require('./test/jest-paths');

module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/deploy', '<rootDir>/test/support'],
  testMatch: ['**/*.spec.ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        // ignoreDynamic: `import()` stays an import (ESM-only packages, see libs/fhir/src/client/esm-import.ts).
        module: { type: 'commonjs', ignoreDynamic: true },
      },
    ],
  },
  moduleNameMapper: pathsToModuleNameMapper,
  testTimeout: 30000,
};
