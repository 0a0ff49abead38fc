#!/usr/bin/env node
/*
 * `pnpm api-report`: the public surface of each library, written by api-extractor from the built .d.ts
 * into `packages/<name>/etc/<name>.api.md` and committed, so a change to what a library exports shows in
 * review as a diff of that file.
 *
 *   node scripts/api-report.cjs           check: fails when a committed report differs from the build
 *   node scripts/api-report.cjs --local   write: brings every report up to date (then commit etc/)
 *   --no-build                            use the dist/ folders as they are
 *
 * Check mode is what `npm test` runs; it records its counts in PAY_TEST_RESULTS_DIR (one per library),
 * as scripts/check-packages.cjs does, so they are summed into the closing `N passed, N failed` line.
 * Undocumented exports of @pay/core (ae-undocumented) are listed inside its report, not failed on, so
 * the report shows what still lacks TSDoc.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { ROOT, run, writeResults } = require('./check-packages.cjs');

/** The libraries with an api-extractor.json, by package name. */
const REPORTED = {
  '@pay/core': 'packages/core',
  '@pay/db': 'packages/db',
  '@pay/stripe-adapter': 'packages/stripe-adapter',
  '@pay/runtime': 'packages/runtime',
};

function build() {
  const filters = Object.keys(REPORTED).map((name) => `--filter=${name}`);
  const result = run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only']);
  if (result.status !== 0) {
    throw new Error(`the libraries did not build:\n${result.output}`);
  }
}

/** Runs api-extractor for one library; in check mode a report that differs from the build fails it. */
function report(name, folder, local) {
  const configFile = path.join(ROOT, folder, 'api-extractor.json');
  fs.mkdirSync(path.join(ROOT, folder, 'etc'), { recursive: true });
  const args = ['exec', 'api-extractor', 'run', '--config', configFile, ...(local ? ['--local'] : [])];
  const result = run('pnpm', args, { env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { name, ok: result.status === 0, output: result.output };
}

function main() {
  const local = process.argv.includes('--local');
  const started = Date.now();
  if (!process.argv.includes('--no-build')) {
    build();
  }
  let passed = 0;
  let failed = 0;
  for (const [name, folder] of Object.entries(REPORTED)) {
    const result = report(name, folder, local);
    if (result.ok) {
      passed += 1;
      process.stdout.write(`ok   api-report ${name}${local ? ' (written)' : ''}\n`);
    } else {
      failed += 1;
      const hint = local
        ? ''
        : `\n${folder}/etc/ is stale: run \`node scripts/api-report.cjs --local\` and commit the report.`;
      process.stdout.write(`FAIL api-report ${name}\n${result.output}${hint}\n`);
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`api-report: ${passed} passed, ${failed} failed (${seconds} s)\n`);
  return { passed, failed };
}

if (require.main === module) {
  let counts;
  try {
    counts = main();
  } catch (error) {
    process.stderr.write(`api-report: ${error instanceof Error ? error.message : String(error)}\n`);
    counts = { passed: 0, failed: 1 };
  }
  writeResults('api-report', counts.passed, counts.failed);
  process.exitCode = counts.failed === 0 ? 0 : 1;
}
