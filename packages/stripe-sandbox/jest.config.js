module.exports = {
  ...require('../../jest.config.base.js'),
  displayName: 'stripe-sandbox',
  testTimeout: 30_000,
};
