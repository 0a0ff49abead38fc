// jest decorates console output with stack frames; oclif's runCommand captures it, so give tests the plain one.
global.console = require('node:console');
