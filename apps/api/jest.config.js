// PGlite's cold start (WASM compile + initdb) takes 2-10 s on 2 busy cores: raise jest's 5 s default.
module.exports = {
  ...require('../../jest.config.base.js'),
  displayName: 'api',
  testTimeout: 60_000,
  // The battery (pnpm test:battery) runs on its own: it spawns processes against the built package.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/battery/'],
};
