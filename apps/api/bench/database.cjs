/*
 * A throw-away PostgreSQL database for one benchmark run: created with CREATE DATABASE on the admin
 * connection, dropped WITH (FORCE) after, so the figures never depend on what an earlier run left.
 */
'use strict';

const { randomBytes } = require('node:crypto');
const path = require('node:path');

/** The server the bench runs on, as an admin URL that may CREATE DATABASE. */
const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ||
  process.env.PAY_TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * postgres.js, from @pay/db's own dependencies: @pay/api does not depend on it, and resolving it from
 * @pay/db's folder gives the very copy pay's repositories run on.
 */
function loadPostgres() {
  const dbPackage = path.dirname(require.resolve('@pay/db/package.json'));
  return require(require.resolve('postgres', { paths: [dbPackage] }));
}

function redact(url) {
  const parsed = new URL(url);
  if (parsed.password !== '') {
    parsed.password = '***';
  }
  return parsed.toString();
}

async function withAdmin(fn) {
  const postgres = loadPostgres();
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 10, onnotice: () => undefined });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Creates `pay_bench_<pid>_<random>` and returns its URL, the server's version and `drop()`
 * (idempotent). Throws with the server named (password hidden) when PostgreSQL does not answer.
 */
async function createBenchDatabase() {
  const name = `pay_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  let serverVersion;
  try {
    serverVersion = await withAdmin(async (sql) => {
      await sql.unsafe(`CREATE DATABASE "${name}"`);
      const [row] = await sql`SHOW server_version`;
      return row.server_version;
    });
  } catch (err) {
    throw new Error(
      `cannot create the bench database on ${redact(ADMIN_URL)}: ${err && err.message ? err.message : err}. ` +
        'Is PostgreSQL running? (pg_ctlcluster --skip-systemctl-redirect 15 main start, or set ' +
        'BENCH_ADMIN_DATABASE_URL to a server where this user may CREATE DATABASE)',
      { cause: err },
    );
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropping;
  return {
    name,
    url: url.toString(),
    serverVersion,
    drop: () =>
      (dropping ??= withAdmin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/** Whether a database of that name exists on the bench's server (tests check the bench cleaned up). */
function databaseExists(name) {
  return withAdmin(async (sql) => (await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`).length > 0);
}

module.exports = { createBenchDatabase, databaseExists, loadPostgres };
