#!/usr/bin/env node
/*
 * The README's two commands, `npm start` and `npm test`, land here, as do `pnpm start`, `pnpm test` and
 * `pnpm test:battery`. On a fresh machine with only Node 20 and npm this brings in the pnpm version pinned
 * in package.json, installs from the lockfile, and then starts the service or runs every test. Node's
 * standard library only: nothing else is installed yet when this runs.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(ROOT, '.test-results');
const TOOLS_DIR = path.join(ROOT, '.tools');
const PNPM_VERSION = require(path.join(ROOT, 'package.json')).packageManager.replace(/^pnpm@/, '');

function log(message) {
  process.stderr.write(`[pay] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env: process.env, ...options });
  if (result.error) {
    throw result.error;
  }
  return result.status ?? 1;
}

function pnpmVersion() {
  const result = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env: process.env });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Puts the pinned pnpm on PATH: as installed, else globally with npm, else into ./.tools. */
function ensurePnpm() {
  const localBin = path.join(TOOLS_DIR, 'node_modules', '.bin');
  process.env.PATH = `${localBin}${path.delimiter}${process.env.PATH}`;
  if (pnpmVersion() === PNPM_VERSION) {
    return;
  }
  log(`installing pnpm ${PNPM_VERSION} (pinned in package.json) with npm`);
  // corepack is not used: the registry this project is built against serves no package signatures.
  if (run('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`]) === 0 && pnpmVersion() === PNPM_VERSION) {
    return;
  }
  log('a global install was not possible; installing pnpm into ./.tools instead');
  if (
    run('npm', ['install', '--prefix', TOOLS_DIR, '--no-save', `pnpm@${PNPM_VERSION}`]) !== 0 ||
    pnpmVersion() !== PNPM_VERSION
  ) {
    throw new Error(`could not install pnpm ${PNPM_VERSION}; install it with: npm i -g pnpm@${PNPM_VERSION}`);
  }
}

function installDependencies() {
  if (run('pnpm', ['install', '--frozen-lockfile']) !== 0) {
    throw new Error('pnpm install --frozen-lockfile failed (see above)');
  }
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The PostgreSQL the tests use: PAY_TEST_DATABASE_URL, else DATABASE_URL, else the local server. */
function testDatabaseTarget() {
  const url =
    process.env.PAY_TEST_DATABASE_URL ||
    process.env.DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres';
  const parsed = new URL(url);
  return { url, host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) };
}

/** Makes sure a PostgreSQL server answers: starts an installed local cluster that is down. */
async function ensurePostgres() {
  const target = testDatabaseTarget();
  if (await canConnect(target.host, target.port)) {
    return;
  }
  const local = ['127.0.0.1', 'localhost', '::1'].includes(target.host);
  const versions = local && fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  for (const version of versions) {
    log(`PostgreSQL is down; starting cluster ${version}/main`);
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
  }
  for (let i = 0; i < 30 && versions.length > 0; i++) {
    if (await canConnect(target.host, target.port)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `no PostgreSQL answers at ${target.host}:${target.port}. The test suite needs PostgreSQL 15 or newer ` +
      '(trust auth for user postgres, or set PAY_TEST_DATABASE_URL to an admin URL that may create databases).',
  );
}

function readResults() {
  let passed = 0;
  let failed = 0;
  if (fs.existsSync(RESULTS_DIR)) {
    for (const file of fs.readdirSync(RESULTS_DIR)) {
      const result = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, file), 'utf8'));
      passed += result.passed;
      failed += result.failed;
    }
  }
  return { passed, failed };
}

/**
 * Runs `before`, the turbo tasks, then `after` (steps that need the build), and prints one
 * `N passed, N failed` line summing every package's jest run and every step that records its counts.
 */
async function runTests(tasks, before = [], after = []) {
  await ensurePostgres();
  fs.rmSync(RESULTS_DIR, { recursive: true, force: true });
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', PAY_TEST_RESULTS_DIR: RESULTS_DIR };
  const statuses = [];
  for (const [command, args] of before) {
    statuses.push(run(command, args, { env }));
  }
  statuses.push(
    run(
      'pnpm',
      ['exec', 'turbo', 'run', ...tasks, '--continue', '--output-logs=errors-only', '--log-order=grouped'],
      { env },
    ),
  );
  for (const [command, args] of after) {
    statuses.push(run(command, args, { env }));
  }
  const { passed, failed } = readResults();
  const otherFailures = statuses.some((s) => s !== 0) && failed === 0 ? 1 : 0;
  if (otherFailures) {
    log('a step other than a test failed (format, lint, typecheck or build): see the output above');
  }
  process.stdout.write(`${passed} passed, ${failed + otherFailures} failed\n`);
  return failed + otherFailures === 0 ? 0 : 1;
}

function startService() {
  if (
    run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@pay/api...', '--output-logs=errors-only'], {
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    }) !== 0
  ) {
    throw new Error('the build failed (see above)');
  }
  const child = spawn(process.execPath, [path.join(ROOT, 'apps/api/dist/main.js')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ? 0 : (code ?? 1))));
}

async function main() {
  const command = process.argv[2];
  ensurePnpm();
  installDependencies();
  switch (command) {
    case 'start':
      return startService();
    case 'test':
      return runTests(
        ['lint', 'typecheck', 'test'],
        [['pnpm', ['exec', 'prettier', '--check', '.', '--log-level=warn']]],
        // What another team installs: publint and attw on each packed library, and the example
        // service installed from the tarballs (each records its counts in the results folder).
        [
          ['node', ['scripts/check-packages.cjs']],
          ['node', ['scripts/example-test.cjs']],
          // RELIABILITY.md F3: no live Stripe key, webhook secret or private key in the repo or dist/.
          ['node', ['scripts/secret-scan.cjs']],
          // The committed API reports (packages/*/etc/*.api.md) match what the libraries export.
          ['node', ['scripts/api-report.cjs']],
          // Every README example runs; the API and CLI references match the code; a release dry run.
          ['node', ['scripts/readme-examples.cjs']],
          ['node', ['scripts/api-docs.cjs', '--check']],
          ['node', ['scripts/cli-docs.cjs', '--check']],
          ['node', ['scripts/release.cjs', '--dry-run']],
        ],
      );
    case 'battery':
      return runTests(['test:battery']);
    default:
      throw new Error(`unknown command "${command}": expected start, test or battery`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
