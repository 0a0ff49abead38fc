#!/usr/bin/env node
require('@oclif/core')
  .execute({ dir: __dirname })
  .catch((err) => {
    // oclif renders its own errors; anything else reaching here is a bug worth a stack.
    console.error(err);
    process.exit(1);
  });
