const path = require('node:path');

/** Shared jest settings: CommonJS through @swc/jest, unit tests beside the code, integration tests in test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // NodeNext sources import './x.js'; map back to the .ts file for jest's resolver.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  setupFiles: [path.join(__dirname, 'tooling/jest/plain-console.js')],
  reporters: ['default', path.join(__dirname, 'tooling/jest/summary-reporter.js')],
};
