// PGlite's cold start (WASM compile + initdb) takes 2-10 s on 2 busy cores: raise jest's 5 s default.
module.exports = { ...require('../../jest.config.base.js'), displayName: 'api', testTimeout: 60_000 };
