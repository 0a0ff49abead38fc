#!/usr/bin/env node
/*
 * `pnpm test:readme`: runs every example of the packages' READMEs, so a README cannot drift from the code.
 *
 * An example is a fenced block right after a marker line:
 *
 *   <!-- example: db-pglite prints: migrated: true -->
 *   ```ts
 *   …
 *   ```
 *
 * `prints` is what the example's output must contain: each example asserts something a reader relies
 * on, and the script checks it saw it (and that the example exited 0). `env: postgres` before `prints:`
 * gives the example
 * a fresh PostgreSQL database of its own in DATABASE_URL (dropped afterwards).
 *
 * - `ts` examples of the libraries run the way another team would: the libraries (and the private
 *   @pay/reliability) are packed with pnpm, npm-installed from the tarballs into a temporary ESM project
 *   with typescript and stripe from the registry, compiled with tsc against the packed types (strict,
 *   nodenext) and run with node.
 * - `sh` examples of the apps run with bash against an embedded API started for them on a free port
 *   (its URL in PAY_URL, a temporary PAY_DATA_DIR), with `pay` running the built CLI.
 *
 * A `ts`/`js` block without a marker in one of these READMEs fails the run: every code example runs.
 * Records its counts in PAY_TEST_RESULTS_DIR for `npm test`'s closing line. `--no-build` packs the dist/
 * folders as they are; `--keep` leaves the temporary project; `--only name,…` runs some examples.
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { LIBRARIES, ROOT, buildLibraries, packLibraries, run, writeResults } = require('./check-packages.cjs');

/** The READMEs checked, and how their examples run. */
const READMES = [
  { file: 'packages/core/README.md', kind: 'library' },
  { file: 'packages/db/README.md', kind: 'library' },
  { file: 'packages/runtime/README.md', kind: 'library' },
  { file: 'packages/stripe-adapter/README.md', kind: 'library' },
  { file: 'packages/stripe-sandbox/README.md', kind: 'library' },
  { file: 'tooling/reliability/README.md', kind: 'library' },
  { file: 'apps/api/README.md', kind: 'app' },
  { file: 'apps/cli/README.md', kind: 'app' },
];

/** Packed besides the published libraries: private, but its README's example runs like theirs. */
const EXTRA_PACKAGES = { '@pay/reliability': 'tooling/reliability' };

/** What the temporary project installs from the registry, pinned as the workspace pins them. */
const REGISTRY_DEPENDENCIES = {
  '@electric-sql/pglite': '0.5.14',
  stripe: '23.1.0',
};
const REGISTRY_DEV_DEPENDENCIES = { '@types/node': '^20.19.0', typescript: '6.0.3' };

const TSCONFIG = {
  compilerOptions: {
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    rootDir: 'src',
    outDir: 'dist',
    types: ['node'],
  },
  include: ['src'],
};

// How long one example may run before it counts as hung: a hang guard, far above any example's time.
const EXAMPLE_TIMEOUT_MS = 120_000;

// npm, not pnpm, installs the project: pnpm's npm_config_* variables must not steer it.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

const MARKER = /^<!--\s*example:\s*(.+?)\s*-->\s*$/;
const MARKER_SETTINGS = /^([\w-]+)(?:\s+env:\s*(postgres))?\s+prints:\s*(.+)$/;
const FENCE = /^```(\w*)\s*$/;

/**
 * The marked examples of one README, in order, and its unmarked code blocks (which fail the run).
 * A marker reads `name; key: value; …`.
 */
function extractExamples(file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const examples = [];
  const unmarked = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (fence === null) {
      continue;
    }
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (end === -1) {
      throw new Error(`${file}:${i + 1}: a code block that never ends`);
    }
    // The marker is the last non-blank line before the block (prettier puts a blank line between them).
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') {
      before -= 1;
    }
    const marker = MARKER.exec(lines[before] ?? '');
    const language = fence[1];
    if (marker === null) {
      if (['ts', 'typescript', 'js', 'javascript'].includes(language)) {
        unmarked.push(`${file}:${i + 1}`);
      }
    } else {
      const settings = MARKER_SETTINGS.exec(marker[1]);
      if (settings === null) {
        throw new Error(`${file}:${i}: a marker reads "example: <name> [env: postgres] prints: <text>"`);
      }
      const [, name, env, prints] = settings;
      examples.push({
        name,
        file,
        line: i + 1,
        language,
        code: lines.slice(i + 1, end).join('\n'),
        prints,
        postgres: env === 'postgres',
      });
    }
    i = end;
  }
  return { examples, unmarked };
}

function timed(label, fn) {
  const started = Date.now();
  const value = fn();
  process.stdout.write(`readme: ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return value;
}

function must(result, what) {
  if (result.status !== 0) {
    throw new Error(`${what} failed:\n${result.output}`);
  }
  return result.output;
}

/** Runs a process to its end (async, so a service this script started keeps answering meanwhile). */
function runAsync(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n(killed: still running after ${EXAMPLE_TIMEOUT_MS} ms)`;
      child.kill('SIGKILL');
    }, EXAMPLE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, output });
    });
  });
}

/** A fresh PostgreSQL database for one example, made by @pay/db's own test helper. */
async function withDatabase(example, fn) {
  if (!example.postgres) {
    return fn({});
  }
  // Loaded from the workspace's build: the helper and its driver resolve from packages/db.
  const { createTestDatabase } = require(path.join(ROOT, 'packages/db/dist/testing.js'));
  const database = await createTestDatabase('readme');
  try {
    return await fn({ DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

function packExtra(dir) {
  const tarballs = {};
  for (const [name, folder] of Object.entries(EXTRA_PACKAGES)) {
    const packDir = fs.mkdtempSync(path.join(dir, 'pack-'));
    must(
      run('pnpm', ['pack', '--pack-destination', packDir], { cwd: path.join(ROOT, folder) }),
      `pack ${name}`,
    );
    const [file] = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    const tarball = path.join(dir, `${name.replace(/^@/, '').replace('/', '-')}.tgz`);
    fs.renameSync(path.join(packDir, file), tarball);
    fs.rmSync(packDir, { recursive: true, force: true });
    tarballs[name] = tarball;
  }
  return tarballs;
}

/** Installs the packed packages into `project`, writes the examples as src/<name>.ts, compiles them. */
function prepareLibraryProject(project, examples) {
  const vendor = path.join(project, 'vendor');
  fs.mkdirSync(vendor, { recursive: true });
  const tarballs = timed('packed the packages', () => ({ ...packLibraries(vendor), ...packExtra(vendor) }));
  for (const entry of fs.readdirSync(vendor)) {
    if (!entry.endsWith('.tgz')) {
      fs.rmSync(path.join(vendor, entry), { recursive: true, force: true });
    }
  }
  const dependencies = { ...REGISTRY_DEPENDENCIES };
  for (const [name, tarball] of Object.entries(tarballs)) {
    dependencies[name] = `file:vendor/${path.basename(tarball)}`;
  }
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'pay-readme-examples',
        private: true,
        type: 'module',
        dependencies,
        devDependencies: REGISTRY_DEV_DEPENDENCIES,
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  const npm = (args) => run('npm', args, { cwd: project, env: npmEnv });
  timed('npm install (tarballs + registry)', () =>
    must(npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']), 'npm install'),
  );
  fs.mkdirSync(path.join(project, 'src'));
  for (const example of examples) {
    fs.writeFileSync(path.join(project, 'src', `${example.name}.ts`), `${example.code}\n`);
  }
  // One compilation for all: an error names its file, so it is charged to that example alone.
  const tsc = timed('compiled the examples against the packed types', () =>
    run(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: project,
    }),
  );
  const compileErrors = new Map();
  for (const line of tsc.output.split('\n')) {
    const match = /^src\/([\w-]+)\.ts\(/.exec(line);
    if (match !== null) {
      compileErrors.set(match[1], `${compileErrors.get(match[1]) ?? ''}${line}\n`);
    }
  }
  if (tsc.status !== 0 && compileErrors.size === 0) {
    throw new Error(`tsc failed:\n${tsc.output}`);
  }
  return compileErrors;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the built API on the embedded default in a temporary data folder; resolves once it is ready. */
async function startEmbeddedApi(dataDir) {
  const port = await freePort();
  const env = { ...npmEnv, PORT: String(port), PAY_DATA_DIR: dataDir, PAY_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.STRIPE_SECRET_KEY;
  const child = spawn(process.execPath, [path.join(ROOT, 'apps/api/dist/main.js')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + EXAMPLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the embedded API exited at start:\n${output}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) {
      const stop = () =>
        new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        });
      return { url, env, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`the embedded API was not ready within ${EXAMPLE_TIMEOUT_MS} ms:\n${output}`);
}

function report(example, result, seconds) {
  const where = `${example.file}:${example.line}`;
  if (result.status === 0 && result.output.includes(example.prints)) {
    process.stdout.write(`ok   ${example.name} (${where}) printed "${example.prints}" (${seconds} s)\n`);
    return true;
  }
  const why = result.status === 0 ? `did not print "${example.prints}"` : `exited ${result.status}`;
  process.stdout.write(`FAIL ${example.name} (${where}) ${why}:\n${result.output}\n`);
  return false;
}

async function runExamples(examples, runOne) {
  let passed = 0;
  let failed = 0;
  for (const example of examples) {
    const started = Date.now();
    const result = await runOne(example);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (report(example, result, seconds)) {
      passed += 1;
    } else {
      failed += 1;
    }
  }
  return { passed, failed };
}

async function readmeExamples() {
  const started = Date.now();
  const keep = process.argv.includes('--keep');
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex === -1 ? null : new Set(process.argv[onlyIndex + 1].split(','));
  let passed = 0;
  let failed = 0;

  const library = [];
  const app = [];
  for (const readme of READMES) {
    const { examples, unmarked } = extractExamples(readme.file);
    for (const block of unmarked) {
      failed += 1;
      process.stdout.write(`FAIL ${block}: a code example without an "<!-- example: … -->" marker\n`);
    }
    if (examples.length === 0) {
      failed += 1;
      process.stdout.write(`FAIL ${readme.file}: no tested example\n`);
    }
    for (const example of examples) {
      if (only === null || only.has(example.name)) {
        (readme.kind === 'library' ? library : app).push(example);
      }
    }
  }
  const names = [...library, ...app].map((e) => e.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new Error(`two examples are named ${duplicate}`);
  }

  if (!process.argv.includes('--no-build')) {
    timed('built the libraries', buildLibraries);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-readme-'));
  try {
    if (library.length > 0) {
      const project = path.join(dir, 'project');
      fs.mkdirSync(project);
      const compileErrors = prepareLibraryProject(project, library);
      const counts = await runExamples(library, (example) =>
        compileErrors.has(example.name)
          ? { status: 1, output: `tsc:\n${compileErrors.get(example.name)}` }
          : withDatabase(example, (databaseEnv) =>
              runAsync(process.execPath, [path.join('dist', `${example.name}.js`)], {
                cwd: project,
                env: { ...npmEnv, ...databaseEnv },
              }),
            ),
      );
      passed += counts.passed;
      failed += counts.failed;
    }
    if (app.length > 0) {
      const api = await startEmbeddedApi(path.join(dir, 'pay-data'));
      const shell = path.join(dir, 'shell');
      fs.mkdirSync(shell);
      // The README's `pay` is the CLI as installed; here, the built one.
      const prelude = `set -euo pipefail\npay() { node ${JSON.stringify(path.join(ROOT, 'apps/cli/bin/run.js'))} "$@"; }\n`;
      try {
        const counts = await runExamples(app, (example) => {
          const script = path.join(shell, `${example.name}.sh`);
          fs.writeFileSync(script, `${prelude}${example.code}\n`);
          return runAsync('bash', [script], { cwd: shell, env: { ...api.env, PAY_URL: api.url } });
        });
        passed += counts.passed;
        failed += counts.failed;
      } finally {
        await api.stop();
      }
    }
  } finally {
    if (keep) {
      process.stdout.write(`readme: kept ${dir}\n`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`readme: ${passed} passed, ${failed} failed (${seconds} s)\n`);
  return { passed, failed };
}

module.exports = { READMES, extractExamples, LIBRARIES };

if (require.main === module) {
  readmeExamples()
    .catch((error) => {
      process.stdout.write(`FAIL readme: ${error instanceof Error ? error.message : String(error)}\n`);
      return { passed: 0, failed: 1 };
    })
    .then((counts) => {
      writeResults('readme-examples', counts.passed, counts.failed);
      process.exitCode = counts.failed === 0 ? 0 : 1;
    });
}
