#!/usr/bin/env node
/*
 * `pnpm release`: publishes the packages changesets has versioned (`changeset publish`), each on its own
 * version. `pnpm release --dry-run` publishes nothing: it runs scripts/release-dry-run.cjs, which shows
 * the versions, CHANGELOG entries and tarball contents a release would publish.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const dryRun = args.includes('--dry-run');
const result = dryRun
  ? spawnSync(process.execPath, [path.join(__dirname, 'release-dry-run.cjs')], {
      cwd: ROOT,
      stdio: 'inherit',
    })
  : spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/@changesets/cli/bin.js'), 'publish', ...args],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
if (result.error) {
  process.stderr.write(`release: ${result.error.message}\n`);
}
process.exitCode = result.status ?? 1;
