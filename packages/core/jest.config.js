// Property tests run hundreds of cases and share 2 cores with the other packages' suites: jest's 5 s
// default is a hang guard too tight for that, so the guard is raised as in the other packages.
module.exports = { ...require('../../jest.config.base.js'), displayName: 'core', testTimeout: 60_000 };
