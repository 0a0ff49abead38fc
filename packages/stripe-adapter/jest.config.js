// Every test talks to a real sandbox over loopback, and some wait out an SDK timeout on purpose.
module.exports = {
  ...require('../../jest.config.base.js'),
  displayName: 'stripe-adapter',
  testTimeout: 30_000,
};
