#!/usr/bin/env node
/*
 * `pnpm check:packages`: what another team would install. Builds the libraries, packs each with pnpm
 * (as a release would: `workspace:` ranges become versions) and checks the tarball, not the folder,
 * with publint (package.json fields against the files really shipped) and are-the-types-wrong (types
 * resolve for CommonJS and ESM hosts alike; profile node16, since the packages are CommonJS and
 * node10's missing subpath support is not a host we serve). Fails on any error or warning.
 *
 * Prints one line per check and writes its counts to PAY_TEST_RESULTS_DIR (as the jest reporter
 * does) so `npm test` sums them into its closing `N passed, N failed` line. `scripts/example-test.cjs`
 * packs through the helpers exported here. `--no-build` packs the dist/ folders as they are.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** The published libraries, by package name, and where each lives. */
const LIBRARIES = {
  '@pay/core': 'packages/core',
  '@pay/db': 'packages/db',
  '@pay/stripe-adapter': 'packages/stripe-adapter',
  '@pay/stripe-sandbox': 'packages/stripe-sandbox',
  '@pay/runtime': 'packages/runtime',
};

/** Runs a command to completion; `output` holds stdout and stderr, for a failure's report. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (result.error) {
    throw result.error;
  }
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/** Builds the libraries (a no-op from turbo's cache when nothing changed). */
function buildLibraries() {
  const filters = Object.keys(LIBRARIES).map((name) => `--filter=${name}`);
  const build = run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only']);
  if (build.status !== 0) {
    throw new Error(`the libraries did not build:\n${build.output}`);
  }
}

/**
 * Packs every library into `dir` as `<name>.tgz` (`pay-core.tgz`, …): names without the version, so
 * the example's `file:` dependencies stay put when a version moves. Returns the paths by package name.
 */
function packLibraries(dir) {
  const tarballs = {};
  for (const [name, folder] of Object.entries(LIBRARIES)) {
    const packDir = fs.mkdtempSync(path.join(dir, 'pack-'));
    const pack = run('pnpm', ['pack', '--pack-destination', packDir], { cwd: path.join(ROOT, folder) });
    const [file] = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || file === undefined) {
      throw new Error(`pnpm pack failed for ${name}:\n${pack.output}`);
    }
    const tarball = path.join(dir, `${name.replace(/^@/, '').replace('/', '-')}.tgz`);
    fs.renameSync(path.join(packDir, file), tarball);
    fs.rmSync(packDir, { recursive: true, force: true });
    tarballs[name] = tarball;
  }
  return tarballs;
}

/** Records a check's counts where `scripts/quickstart.cjs` sums the test results. */
function writeResults(name, passed, failed) {
  const dir = process.env.PAY_TEST_RESULTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ package: name, passed, failed }));
  }
}

function checkPackages() {
  const started = Date.now();
  if (!process.argv.includes('--no-build')) {
    buildLibraries();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-check-packages-'));
  let passed = 0;
  let failed = 0;
  try {
    const tarballs = packLibraries(dir);
    for (const [name, tarball] of Object.entries(tarballs)) {
      const checks = [
        ['publint', ['exec', 'publint', 'run', tarball, '--level', 'warning', '--strict']],
        ['attw', ['exec', 'attw', tarball, '--profile', 'node16', '--format', 'ascii', '--no-color']],
      ];
      for (const [tool, args] of checks) {
        const result = run('pnpm', args);
        if (result.status === 0) {
          passed += 1;
          process.stdout.write(`ok   ${tool} ${name}\n`);
        } else {
          failed += 1;
          process.stdout.write(`FAIL ${tool} ${name}\n${result.output}\n`);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`check-packages: ${passed} passed, ${failed} failed (${seconds} s)\n`);
  return { passed, failed };
}

module.exports = { LIBRARIES, ROOT, buildLibraries, packLibraries, run, writeResults };

if (require.main === module) {
  let counts;
  try {
    counts = checkPackages();
  } catch (error) {
    process.stderr.write(`check-packages: ${error instanceof Error ? error.message : String(error)}\n`);
    counts = { passed: 0, failed: 1 };
  }
  writeResults('check-packages', counts.passed, counts.failed);
  process.exitCode = counts.failed === 0 ? 0 : 1;
}
