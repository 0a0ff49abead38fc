// The heavy battery: concurrency tests that spawn processes on the built package (run `pnpm build` first).
const base = require('../../jest.config.base.js');

module.exports = {
  ...base,
  displayName: 'db:battery',
  roots: ['<rootDir>/test/battery'],
  testTimeout: 300_000,
};
