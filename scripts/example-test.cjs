#!/usr/bin/env node
/*
 * `pnpm test:example`: installs pay the way another team would. Packs the libraries, copies
 * examples/embedded-service to a temporary folder with the tarballs in its vendor/, `npm install`s it
 * there (the tarballs plus express, stripe… from the registry; no workspace, no pnpm), compiles it
 * with its own TypeScript against the packed types, runs it, and asserts that its order was paid.
 * A missing export, file, type or dependency in a tarball fails one of these steps. It also checks
 * that an ESM host and a CommonJS host see the same named exports of each library.
 *
 * Prints each step's time; writes its counts to PAY_TEST_RESULTS_DIR for `npm test`'s closing line.
 * `--no-build` packs the dist/ folders as they are; `--keep` leaves the folder for a look.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, buildLibraries, packLibraries, run, writeResults } = require('./check-packages.cjs');

const EXAMPLE = path.join(ROOT, 'examples', 'embedded-service');
/** The libraries the example installs, as its package.json names them. */
const INSTALLED = ['@pay/core', '@pay/db', '@pay/stripe-adapter', '@pay/stripe-sandbox'];

// npm, not pnpm, installs the example: pnpm's npm_config_* variables must not steer it.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

function timed(label, fn) {
  const started = Date.now();
  const value = fn();
  process.stdout.write(`example: ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return value;
}

function must(result, what) {
  if (result.status !== 0) {
    throw new Error(`${what} failed:\n${result.output}`);
  }
  return result.output;
}

/** Every export name of each library, as `import` (ESM) and as `require` (CommonJS) see them. */
const EXPORTS_PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const mismatches = [];
for (const name of ${JSON.stringify(INSTALLED)}) {
  const esm = Object.keys(await import(name)).filter((k) => k !== 'default' && k !== '__esModule');
  const cjs = Object.keys(require(name)).filter((k) => k !== '__esModule');
  const missing = cjs.filter((k) => !esm.includes(k));
  if (cjs.length === 0 || missing.length > 0) mismatches.push(name + ': ' + (missing.join(', ') || 'no exports'));
}
console.log(JSON.stringify(mismatches));
`;

function exampleTest() {
  const started = Date.now();
  const keep = process.argv.includes('--keep');
  if (!process.argv.includes('--no-build')) {
    timed('built the libraries', buildLibraries);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-example-'));
  const app = path.join(dir, 'embedded-service');
  let passed = 0;
  let failed = 0;
  try {
    fs.cpSync(EXAMPLE, app, {
      recursive: true,
      filter: (source) => !/[\\/](node_modules|dist|vendor)$/.test(source),
    });
    const vendor = path.join(app, 'vendor');
    fs.mkdirSync(vendor);
    timed('packed the libraries', () => packLibraries(vendor));
    for (const entry of fs.readdirSync(vendor)) {
      if (!entry.endsWith('.tgz')) {
        fs.rmSync(path.join(vendor, entry), { recursive: true, force: true });
      }
    }
    const npm = (args) => run('npm', args, { cwd: app, env: npmEnv });
    timed('npm install (tarballs + registry)', () =>
      must(
        npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']),
        'npm install',
      ),
    );
    timed('compiled against the packed types', () => must(npm(['run', 'build']), 'tsc'));

    const output = timed('ran the service', () => must(npm(['start', '--silent']), 'the example'));
    const line = output.split('\n').find((l) => l.startsWith('RESULT '));
    const result = line === undefined ? null : JSON.parse(line.slice('RESULT '.length));
    const schemas = new Map((result?.schemas ?? []).map((s) => [s.schema, s.tables]));
    if (
      result?.order?.status === 'paid' &&
      result.payment?.status === 'succeeded' &&
      result.payment.amount === 1500 &&
      schemas.get('public') >= 1 &&
      schemas.get('pay') >= 1
    ) {
      passed += 1;
      process.stdout.write(
        `ok   the embedded service took a payment: ${result.payment.id} ${result.payment.status}, ` +
          `order ${result.order.status}; tables: public ${schemas.get('public')}, pay ${schemas.get('pay')}\n`,
      );
    } else {
      failed += 1;
      process.stdout.write(`FAIL the embedded service did not take a payment:\n${output}\n`);
    }

    fs.writeFileSync(path.join(app, 'exports-probe.mjs'), EXPORTS_PROBE);
    const probe = must(run('node', ['exports-probe.mjs'], { cwd: app, env: npmEnv }), 'the exports probe');
    const mismatches = JSON.parse(probe.split('\n').pop());
    if (mismatches.length === 0) {
      passed += 1;
      process.stdout.write(`ok   ESM and CommonJS hosts see the same exports of ${INSTALLED.join(', ')}\n`);
    } else {
      failed += 1;
      process.stdout.write(`FAIL named exports an ESM host cannot import: ${mismatches.join('; ')}\n`);
    }
  } finally {
    if (keep) {
      process.stdout.write(`example: kept ${app}\n`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`example: ${passed} passed, ${failed} failed (${seconds} s)\n`);
  return { passed, failed };
}

let counts;
try {
  counts = exampleTest();
} catch (error) {
  process.stdout.write(`FAIL example: ${error instanceof Error ? error.message : String(error)}\n`);
  counts = { passed: 0, failed: 1 };
}
writeResults('example', counts.passed, counts.failed);
process.exitCode = counts.failed === 0 ? 0 : 1;
