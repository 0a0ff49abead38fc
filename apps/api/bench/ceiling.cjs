#!/usr/bin/env node
/*
 * Part of `pnpm bench` (`postgres/ceiling`): what the PostgreSQL pay runs on can do at all, measured on
 * the same server in the same run, so pay's figures can be read as a share of it (issue 9's targets).
 *
 * In a throw-away database: `pgbench -i` (scale BENCH_PGBENCH_SCALE, default 1), then BENCH_RUNS runs of
 * each of
 *   - simple-update: `pgbench -b simple-update -c 16 -j 2 -T <s>`, pgbench's built-in transaction of an
 *     UPDATE, a SELECT and an INSERT: the TPS the payments figure is compared with;
 *   - jsonb insert: `pgbench -n -f <script> -c 16 -j 2 -T <s>`, one INSERT of a 2 KB jsonb document into
 *     a table with a bigserial key per transaction: the one-row-per-transaction rate the webhook acks
 *     (verify, store one row, answer) are compared with.
 * The two are interleaved run by run, so a slow moment of the machine hits both alike. Every commit is
 * durable as the server is configured (synchronous_commit and fsync are reported with the figures), the
 * same settings pay's own commits get.
 *
 * Figures are printed and written, never judged: the exit code is non-zero only when the bench could
 * not run. Options (environment): BENCH_DURATION_S (6; pgbench takes whole seconds, at least 1),
 * BENCH_RUNS (3), BENCH_CEILING_CLIENTS (16), BENCH_PGBENCH_SCALE (1), BENCH_JSON (write the result
 * there), BENCH_ADMIN_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { numberFromEnv } = require('./bench-setup.cjs');
const { createBenchDatabase, loadPostgres } = require('./database.cjs');
const { summariseLevels, renderResultTable } = require('./summary.cjs');

const DURATION_S = numberFromEnv('BENCH_DURATION_S', 6, { min: 0.1, integer: false });
const RUNS = numberFromEnv('BENCH_RUNS', 3, { min: 1, integer: true });
const CLIENTS = numberFromEnv('BENCH_CEILING_CLIENTS', 16, { min: 1, integer: true });
const SCALE = numberFromEnv('BENCH_PGBENCH_SCALE', 1, { min: 1, integer: true });
/** pgbench's threads: one per core of this 2-core machine, as the issue's command line says. */
const THREADS = Math.min(2, CLIENTS);
/** The size of the jsonb document, as JSON text: a Stripe event is about this size. */
const DOCUMENT_BYTES = 2048;

const FIGURES = [
  {
    key: 'simple_update_tps',
    label: 'simple-update TPS',
    unit: 'transactions/s',
    digits: 0,
    description: 'pgbench -b simple-update: UPDATE, SELECT and INSERT per transaction',
  },
  { key: 'simple_update_latency_ms', label: 'simple-update latency avg ms', unit: 'ms', digits: 2 },
  {
    key: 'jsonb_insert_tps',
    label: 'jsonb insert TPS (2 KB, 1 row/tx)',
    unit: 'transactions/s',
    digits: 0,
    description: 'one INSERT of a 2 KB jsonb document into a bigserial-keyed table per transaction',
  },
  { key: 'jsonb_insert_latency_ms', label: 'jsonb insert latency avg ms', unit: 'ms', digits: 2 },
  {
    key: 'failed_transactions',
    label: 'failed transactions',
    unit: 'transactions',
    digits: 0,
  },
];

let interrupted = false;
/** The pgbench running now, so a signal can stop it rather than wait for its -T. */
let current = null;

function log(message) {
  process.stderr.write(`[bench:ceiling] ${message}\n`);
}

/**
 * A JSON document of exactly `bytes` bytes shaped like a Stripe event: nested objects and hex ids that
 * compress about as well as real ones (PostgreSQL compresses a row near 2 KB, so a run of one repeated
 * character would measure the compressor, not the insert).
 */
function documentOf(bytes) {
  let state = 0x9e3779b9;
  const hex = (n) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out += (state >>> 28).toString(16);
    }
    return out;
  };
  const doc = {
    id: `evt_${hex(24)}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    api_version: '2024-06-20',
    created: 1_780_000_000,
    livemode: false,
    data: { object: { id: `pi_${hex(24)}`, object: 'payment_intent', amount: 1500, currency: 'usd' } },
    metadata: {},
    pad: '',
  };
  for (let i = 0; JSON.stringify(doc).length < bytes - 40; i++) {
    doc.metadata[`key_${i}`] = hex(24);
  }
  doc.pad = 'x'.repeat(bytes - JSON.stringify(doc).length);
  const text = JSON.stringify(doc);
  if (Buffer.byteLength(text) !== bytes) {
    throw new Error(`the jsonb document is ${Buffer.byteLength(text)} bytes, not ${bytes}`);
  }
  return text;
}

/** pgbench's connection arguments and environment for a postgres:// URL. */
function connectionOf(url) {
  const parsed = new URL(url);
  const args = [];
  if (parsed.hostname !== '') {
    args.push('-h', decodeURIComponent(parsed.hostname));
  }
  if (parsed.port !== '') {
    args.push('-p', parsed.port);
  }
  if (parsed.username !== '') {
    args.push('-U', decodeURIComponent(parsed.username));
  }
  const env = parsed.password === '' ? {} : { PGPASSWORD: decodeURIComponent(parsed.password) };
  return { args, env, database: decodeURIComponent(parsed.pathname.slice(1)) };
}

/** Runs pgbench with `args`; resolves with its stdout and stderr, rejects with them when it fails. */
function pgbench(connection, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', [...connection.args, ...args, connection.database], {
      env: { ...process.env, ...connection.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    child.once('error', (err) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? 'pgbench is not on PATH (Debian: apt-get install postgresql-client or postgresql-contrib)'
            : err.message,
        ),
      ),
    );
    child.once('exit', (code, signal) => {
      current = null;
      if (code === 0) {
        resolve({ stdout, stderr });
      } else {
        reject(
          new Error(
            `pgbench ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${stderr.slice(-2000)}`,
          ),
        );
      }
    });
  });
}

/** The figures of one pgbench run from its report (PostgreSQL 15's wording). */
function parseReport(stdout) {
  const number = (pattern) => {
    const match = pattern.exec(stdout);
    return match === null ? null : Number(match[1]);
  };
  const tps = number(/^tps = ([\d.]+)/m);
  if (tps === null) {
    throw new Error(`pgbench printed no tps line:\n${stdout.slice(-2000)}`);
  }
  return {
    tps,
    latency_ms: number(/^latency average = ([\d.]+) ms/m),
    transactions: number(/^number of transactions actually processed: (\d+)/m),
    // Older pgbench prints no such line: no line, no failure counted.
    failed: number(/^number of failed transactions: (\d+)/m) ?? 0,
  };
}

/** Server settings that decide what a commit costs: the figures mean little without them. */
async function durabilitySettings(url) {
  const postgres = loadPostgres();
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => undefined });
  try {
    const rows = await sql`
      SELECT name, setting FROM pg_settings
      WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections')`;
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function runBench() {
  const database = await createBenchDatabase();
  const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-bench-ceiling-'));
  try {
    const connection = connectionOf(database.url);
    const seconds = Math.max(1, Math.round(DURATION_S));
    log(
      `database ${database.name} (PostgreSQL ${database.serverVersion}); pgbench -i -s ${SCALE}, then ` +
        `${RUNS} run(s) × ${seconds} s of each at ${CLIENTS} clients, ${THREADS} threads`,
    );
    const init = Date.now();
    await pgbench(connection, ['-i', '-q', '-s', String(SCALE)]);
    const document = documentOf(DOCUMENT_BYTES);
    const postgres = loadPostgres();
    const sql = postgres(database.url, { max: 1, connect_timeout: 10, onnotice: () => undefined });
    try {
      await sql`CREATE TABLE ceiling_jsonb (id bigserial PRIMARY KEY, doc jsonb NOT NULL)`;
    } finally {
      await sql.end({ timeout: 5 });
    }
    const script = path.join(scriptDir, 'jsonb-insert.sql');
    // pgbench replaces `:name` only where `name` is one of its variables (scale, client_id, random_seed):
    // the document's `":"` and `":123` are left as they are.
    fs.writeFileSync(
      script,
      `INSERT INTO ceiling_jsonb (doc) VALUES ('${document.replace(/'/g, "''")}'::jsonb);\n`,
    );
    log(`initialised in ${((Date.now() - init) / 1000).toFixed(1)} s`);
    const settings = await durabilitySettings(database.url);

    const common = ['-c', String(CLIENTS), '-j', String(THREADS), '-T', String(seconds)];
    const runs = [];
    for (let run = 1; run <= RUNS; run++) {
      if (interrupted) {
        throw new Error('interrupted');
      }
      const update = parseReport((await pgbench(connection, ['-b', 'simple-update', ...common])).stdout);
      if (interrupted) {
        throw new Error('interrupted');
      }
      const insert = parseReport((await pgbench(connection, ['-n', '-f', script, ...common])).stdout);
      const figures = {
        simple_update_tps: update.tps,
        simple_update_latency_ms: update.latency_ms,
        simple_update_transactions: update.transactions,
        jsonb_insert_tps: insert.tps,
        jsonb_insert_latency_ms: insert.latency_ms,
        jsonb_insert_transactions: insert.transactions,
        failed_transactions: update.failed + insert.failed,
      };
      runs.push(figures);
      log(
        `run ${run}: simple-update ${update.tps.toFixed(0)} TPS, jsonb insert ${insert.tps.toFixed(0)} TPS` +
          `, ${figures.failed_transactions} failed`,
      );
    }

    return {
      name: 'postgres/ceiling',
      description: `what the same PostgreSQL does at ${CLIENTS} clients with pgbench: the ceiling pay is measured against`,
      settings: {
        duration_s: seconds,
        runs: RUNS,
        concurrency: [CLIENTS],
        threads: THREADS,
        pgbench_scale: SCALE,
        jsonb_document_bytes: DOCUMENT_BYTES,
      },
      figures: FIGURES,
      levels: summariseLevels(FIGURES, [{ concurrency: CLIENTS, runs }]),
      extra: { server_settings: settings },
      environment: { postgres_version: database.serverVersion, database: database.name },
    };
  } finally {
    fs.rmSync(scriptDir, { recursive: true, force: true });
    await database.drop().catch((err) => log(`cleanup failed: ${err && err.message ? err.message : err}`));
  }
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupted) {
        process.exit(130);
      }
      interrupted = true;
      current?.kill('SIGINT');
      log(`${signal}: stopping after clean-up (again to skip it)`);
    });
  }
  const result = await runBench();
  process.stdout.write(`${renderResultTable(result)}\n`);
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`);
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      if (interrupted) {
        process.exit(130);
      }
      process.stderr.write(`[bench:ceiling] could not run: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { documentOf, parseReport };
