/** Benchmarks written as jest suites (`npm run bench:audit`): never part of `npm test`. */
const base = require('../jest.config.js');

module.exports = {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/bench'],
  testMatch: ['**/*.bench-spec.ts'],
  testTimeout: 1_800_000,
};
