// Each test file makes a PostgreSQL database and starts a sandbox: allow more than jest's 5 s default.
module.exports = {
  ...require('../../jest.config.base.js'),
  displayName: 'reliability',
  testTimeout: 60_000,
};
