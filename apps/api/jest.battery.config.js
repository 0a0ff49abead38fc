// The heavy battery (RELIABILITY.md A, B, C1 at CI sizes; NIGHTLY=1 for the big ones): real API processes
// on the built code (`pnpm build` first), one test file at a time so kills and timings do not compete.
const base = require('../../jest.config.base.js');

module.exports = {
  ...base,
  displayName: 'api:battery',
  roots: ['<rootDir>/test/battery'],
  testMatch: ['**/*.battery.test.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
