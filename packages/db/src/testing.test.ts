import postgres from 'postgres';
import { adminDatabaseUrl, createTestDatabase, testDatabaseName } from './testing.js';

describe('testDatabaseName', () => {
  it('names databases by scope, jest worker and pid, sanitised and within 63 bytes', () => {
    const name = testDatabaseName(
      'API contract/Tests — with ünïcode and a very long scope that goes on and on',
    );
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^pay_test_[a-z0-9_]+$/);
    expect(name).toContain(`_${process.env.JEST_WORKER_ID ?? '0'}_${process.pid}_`);
    expect(testDatabaseName('db')).not.toBe(testDatabaseName('db'));
  });
});

describe('createTestDatabase', () => {
  const saved = process.env.PAY_TEST_DATABASE_URL;
  afterEach(() => {
    if (saved === undefined) {
      delete process.env.PAY_TEST_DATABASE_URL;
    } else {
      process.env.PAY_TEST_DATABASE_URL = saved;
    }
  });

  it('creates an empty database and drops it (twice is fine)', async () => {
    const db = await createTestDatabase('db_testing');
    const name = new URL(db.url).pathname.slice(1);
    const admin = postgres(adminDatabaseUrl(), { max: 1, onnotice: () => undefined });
    try {
      const exists = async () =>
        (await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length === 1;
      expect(await exists()).toBe(true);
      await db.drop();
      await db.drop();
      expect(await exists()).toBe(false);
    } finally {
      await admin.end();
    }
  });

  it('fails loudly, with the command that starts PostgreSQL, when the server is unreachable', async () => {
    process.env.PAY_TEST_DATABASE_URL = 'postgres://postgres:secret@127.0.0.1:1/postgres';
    const err: unknown = await createTestDatabase('db_unreachable').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain('pg_ctlcluster --skip-systemctl-redirect 15 main start');
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('secret');
  });
});
