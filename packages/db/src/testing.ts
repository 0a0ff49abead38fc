/**
 * @pay/db/testing: a fresh PostgreSQL database per test file, for every package's integration tests.
 */
import { randomBytes } from 'node:crypto';
import { ignoreNotice, openPostgresClient } from './postgres-client.js';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const START_HINT = 'pg_ctlcluster --skip-systemctl-redirect 15 main start';

/** A throw-away database: `url` connects to it, `drop()` removes it (idempotent). */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** The server tests use: `PAY_TEST_DATABASE_URL`, else `DATABASE_URL`, else local trust auth. */
export function adminDatabaseUrl(): string {
  return process.env.PAY_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL;
}

/**
 * `pay_test_<scope>_<jest worker>_<pid>_<random>`, lowercased to `[a-z0-9_]` and cut to PostgreSQL's
 * 63-byte identifier limit (the scope is shortened, never the parts that keep names unique). turbo runs
 * several packages' jest at once and each has a worker 1, hence the pid and the random part.
 */
export function testDatabaseName(scope: string): string {
  const worker = process.env.JEST_WORKER_ID ?? '0';
  const suffix = `_${worker}_${process.pid}_${randomBytes(4).toString('hex')}`.replace(/[^a-z0-9_]/g, '_');
  const cleanScope =
    scope
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'db';
  const room = 63 - 'pay_test_'.length - suffix.length;
  return `pay_test_${cleanScope.slice(0, Math.max(1, room))}${suffix}`.slice(0, 63);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
    }
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

async function withAdmin<T>(
  adminUrl: string,
  fn: (sql: ReturnType<typeof openPostgresClient>) => Promise<T>,
) {
  const sql = openPostgresClient(adminUrl, { max: 1, connect_timeout: 10, onnotice: ignoreNotice });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Creates an empty database named by {@link testDatabaseName} on the server of {@link adminDatabaseUrl}.
 * Throws, never skips, when PostgreSQL is unreachable, with the command that starts it.
 */
export async function createTestDatabase(scope: string): Promise<TestDatabase> {
  const adminUrl = adminDatabaseUrl();
  const name = testDatabaseName(scope);
  try {
    await withAdmin(adminUrl, (sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Cannot create test database ${name} on ${redact(adminUrl)}: ${detail}. ` +
        `Is PostgreSQL running? Start it with \`${START_HINT}\`, or point PAY_TEST_DATABASE_URL at a ` +
        'server where this user may CREATE DATABASE.',
      { cause: err },
    );
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) {
        return;
      }
      dropped = true;
      // FORCE ends sessions a test forgot to close, which would otherwise make DROP fail.
      await withAdmin(adminUrl, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
