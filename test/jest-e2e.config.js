/** End-to-end suites: real Postgres, a real Kafka-protocol broker, the model double, real HTTP. */
const base = require('../jest.config.js');

module.exports = {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.e2e-spec.ts'],
  testTimeout: 120000,
};
