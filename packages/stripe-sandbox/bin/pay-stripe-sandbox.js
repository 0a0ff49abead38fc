#!/usr/bin/env node
'use strict';
// The package ships compiled code only; see src/cli.ts.
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .catch((error) => {
    process.stderr.write(`pay-stripe-sandbox: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  });
