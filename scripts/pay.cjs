#!/usr/bin/env node
/*
 * `pnpm pay …`: builds the CLI and what it depends on (a cached no-op when nothing changed), then runs it
 * with the given arguments. The build's output is shown only when it fails, so `--json` stays clean.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const build = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', '--filter=@pay/cli...', '--output-logs=errors-only'],
  {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  },
);
if (build.status !== 0) {
  process.stderr.write(build.stdout + build.stderr);
  process.exit(build.status ?? 1);
}
const cli = spawnSync(process.execPath, [path.join(ROOT, 'apps/cli/bin/run.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(cli.status ?? 1);
