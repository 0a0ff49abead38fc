import { sql, TransactionRollbackError } from 'drizzle-orm';
import { newId, type Repositories } from '@pay/core';
import { connectPostgres, migratePglite, migratePostgres, openPglite, type Database } from '../src/index.js';
import { drizzleOf } from '../src/internal.js';
import { countShippedMigrations, rowsOf } from '../src/migrate.js';
import type { Db } from '../src/store.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';
import { databaseErrorOf, seed, unique } from './support/fixtures.js';

const TABLES = [
  'accounts',
  'api_keys',
  'audit_log',
  'customers',
  'disputes',
  'idempotency_keys',
  'payment_events',
  'payment_methods',
  'payments',
  'plans',
  'rate_limit_buckets',
  'refund_events',
  'refunds',
  'subscription_events',
  'subscriptions',
  'webhook_events',
];
const APPEND_ONLY = ['payment_events', 'subscription_events', 'refund_events', 'audit_log'];
const PERMISSION_DENIED = '42501';

async function query<T>(db: Db, statement: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await db.execute(statement));
}

/** The schema's shape as the catalog reports it: what the migrations must have produced. */
async function expectPayLayout(db: Db): Promise<void> {
  const tables = await query<{ schema: string; name: string }>(
    db,
    sql`SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  expect(tables).toEqual([...TABLES, '__migrations'].sort().map((name) => ({ schema: 'pay', name })));
  const journal = await query<{ hash: string }>(db, sql`SELECT hash FROM pay.__migrations`);
  expect(journal).toHaveLength(countShippedMigrations());
  expect(new Set(journal.map((row) => row.hash)).size).toBe(journal.length);
}

/** Runs `statement` as pay_service (SET LOCAL ROLE, rolled back after), resolving to its SQLSTATE or 'ok'. */
async function asServiceRole(db: Db, statement: ReturnType<typeof sql>): Promise<string> {
  try {
    await db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL ROLE pay_service`);
      await tx.execute(statement);
      tx.rollback();
    });
    return 'ok';
  } catch (err) {
    if (err instanceof TransactionRollbackError) {
      return 'ok'; // the statement ran; the rollback only undoes it
    }
    return databaseErrorOf(err).code ?? String(err);
  }
}

/** A payment, subscription and refund with their creation events, and an audit row: targets for the grants. */
async function ledgerRows(repos: Repositories) {
  const s = await seed(repos);
  const payment = await repos.payments.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      billingReason: 'manual',
      amount: 900,
      currency: 'usd',
      stripeIdempotencyKey: unique('k'),
    },
    { requestId: 'req' },
  );
  const start = new Date();
  const subscription = await repos.subscriptions.create(
    {
      accountId: s.account.id,
      customerId: s.customer.id,
      planId: s.plan.id,
      status: 'incomplete',
      currentPeriodStart: start,
      currentPeriodEnd: new Date(start.getTime() + 1_000),
      nextBillingAt: null,
    },
    { requestId: 'req' },
  );
  const refund = await repos.refunds.create(
    {
      accountId: s.account.id,
      paymentId: payment.id,
      amount: 100,
      currency: 'usd',
      status: 'pending',
      origin: 'pay',
    },
    { requestId: 'req' },
  );
  await repos.audit.append({
    accountId: s.account.id,
    actorType: 'system',
    actorId: 'test',
    action: 'payment.create',
  });
  return { s, payment, subscription, refund };
}

/** An INSERT of a valid row into an append-only table, as the service would write it. */
function appendTo(table: string, rows: Awaited<ReturnType<typeof ledgerRows>>) {
  const account = rows.s.account.id;
  switch (table) {
    case 'payment_events':
      return sql`INSERT INTO pay.payment_events (id, account_id, payment_id, to_status, cause_job)
                 VALUES (${newId('paymentEvent')}, ${account}, ${rows.payment.id}, 'pending', 'test')`;
    case 'subscription_events':
      return sql`INSERT INTO pay.subscription_events (id, account_id, subscription_id, to_status, cause_job)
                 VALUES (${newId('subscriptionEvent')}, ${account}, ${rows.subscription.id}, 'incomplete', 'test')`;
    case 'refund_events':
      return sql`INSERT INTO pay.refund_events (id, account_id, refund_id, to_status, cause_job)
                 VALUES (${newId('refundEvent')}, ${account}, ${rows.refund.id}, 'pending', 'test')`;
    default:
      return sql`INSERT INTO pay.audit_log (id, account_id, actor_type, actor_id, action)
                 VALUES (${newId('auditEntry')}, ${account}, 'system', 'test', 'x')`;
  }
}

describe('migrations on an empty PostgreSQL database', () => {
  let testDb: TestDatabase;
  let admin: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase('db_migrations');
    admin = connectPostgres(testDb.url);
  });
  afterAll(async () => {
    await admin?.close();
    await testDb?.drop();
  });

  it('applies every migration, then nothing the second time', async () => {
    const total = countShippedMigrations();
    expect(await admin.migrationState()).toEqual({ applied: 0, total });
    expect(await migratePostgres(testDb.url)).toEqual({ applied: total });
    expect(await migratePostgres(testDb.url)).toEqual({ applied: 0 });
    expect(await admin.migrationState()).toEqual({ applied: total, total });
  });

  it('puts every table in schema pay, and the journal at pay.__migrations', async () => {
    await expectPayLayout(drizzleOf(admin));
  });

  it('reaches the same database through its unix socket ({ path, database, user })', async () => {
    const [dirs] = await query<{ dirs: string }>(
      drizzleOf(admin),
      sql`SELECT current_setting('unix_socket_directories') AS dirs`,
    );
    const [port] = await query<{ port: string }>(
      drizzleOf(admin),
      sql`SELECT current_setting('port') AS port`,
    );
    const dir = dirs?.dirs.split(',')[0]?.trim();
    expect(dir).toBeTruthy();
    const url = new URL(testDb.url);
    const target = {
      path: `${dir}/.s.PGSQL.${port?.port}`,
      database: url.pathname.slice(1),
      user: decodeURIComponent(url.username),
    };
    expect(await migratePostgres(target)).toEqual({ applied: 0 });
    const viaSocket = connectPostgres(target, { max: 1 });
    try {
      await viaSocket.ping();
      expect(await viaSocket.migrationState()).toEqual({
        applied: countShippedMigrations(),
        total: countShippedMigrations(),
      });
    } finally {
      await viaSocket.close();
    }
  });

  it.each(APPEND_ONLY)(
    'lets pay_service SELECT and INSERT %s but not UPDATE, DELETE or TRUNCATE it',
    async (table) => {
      const db = drizzleOf(admin);
      const rows = await ledgerRows(admin.store.repos);
      const target = sql.raw(`pay.${table}`);
      expect(await asServiceRole(db, sql`SELECT * FROM ${target}`)).toBe('ok');
      expect(await asServiceRole(db, appendTo(table, rows))).toBe('ok');
      expect(await asServiceRole(db, sql`UPDATE ${target} SET created_at = now()`)).toBe(PERMISSION_DENIED);
      expect(await asServiceRole(db, sql`DELETE FROM ${target}`)).toBe(PERMISSION_DENIED);
      expect(await asServiceRole(db, sql`TRUNCATE ${target}`)).toBe(PERMISSION_DENIED);
    },
  );

  it('lets pay_service UPDATE and DELETE the mutable tables', async () => {
    const db = drizzleOf(admin);
    await ledgerRows(admin.store.repos);
    expect(await asServiceRole(db, sql`UPDATE pay.payments SET updated_at = now()`)).toBe('ok');
    expect(await asServiceRole(db, sql`DELETE FROM pay.idempotency_keys`)).toBe('ok');
  });

  it('connectPostgres(url, { serviceRole: true }) runs the repositories as pay_service, who cannot rewrite the ledger', async () => {
    const service = connectPostgres(testDb.url, { serviceRole: true, max: 2 });
    try {
      const db = drizzleOf(service);
      expect(await query(db, sql`SELECT current_user AS role`)).toEqual([{ role: 'pay_service' }]);
      // Everything the service does through the ports is allowed…
      const { s, payment } = await ledgerRows(service.store.repos);
      await service.store.transaction((tx) =>
        tx.payments.transition(
          payment.id,
          { from: 'pending', to: 'succeeded', amount: 900 },
          { job: 'test' },
        ),
      );
      await service.store.repos.webhookEvents.insert({
        stripeEventId: unique('evt'),
        type: 't',
        apiVersion: null,
        livemode: false,
        objectId: null,
        payload: '{}',
        signatureVerified: true,
        stripeCreatedAt: new Date(),
        receivedAt: new Date(),
      });
      await service.store.repos.idempotencyKeys.deleteCreatedBefore(new Date(0));
      expect(await service.migrationState()).toEqual({
        applied: countShippedMigrations(),
        total: countShippedMigrations(),
      });
      expect((await service.store.repos.payments.listEvents(payment.id)).map((e) => e.toStatus)).toEqual([
        'pending',
        'succeeded',
      ]);
      // …and rewriting history is not, not even after RESET ROLE (the role is the session's default).
      for (const table of APPEND_ONLY) {
        const update = await db
          .execute(sql`UPDATE ${sql.raw(`pay.${table}`)} SET created_at = now()`)
          .catch((e: unknown) => e);
        expect(databaseErrorOf(update).code).toBe(PERMISSION_DENIED);
      }
      const reset = await db
        .transaction(async (tx) => {
          await tx.execute(sql`RESET ROLE`);
          await tx.execute(sql`DELETE FROM pay.payment_events WHERE account_id = ${s.account.id}`);
        })
        .catch((e: unknown) => e);
      expect(databaseErrorOf(reset).code).toBe(PERMISSION_DENIED);
    } finally {
      await service.close();
    }
  });
});

describe('migrations on an empty PGlite', () => {
  let db: Awaited<ReturnType<typeof openPglite>>;

  beforeAll(async () => {
    db = await openPglite();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies every migration once even when asked twice at once, then nothing', async () => {
    const total = countShippedMigrations();
    expect(await db.migrationState()).toEqual({ applied: 0, total });
    const results = await Promise.all([migratePglite(db.pglite), migratePglite(db.pglite)]);
    expect(results.map((r) => r.applied).sort()).toEqual([0, total]);
    expect(await migratePglite(db.pglite)).toEqual({ applied: 0 });
    expect(await db.migrationState()).toEqual({ applied: total, total });
  });

  it('puts every table in schema pay, and the journal at pay.__migrations', async () => {
    await expectPayLayout(drizzleOf(db));
  });

  it('creates pay_service on PGlite too, with the same append-only grants', async () => {
    const d = drizzleOf(db);
    await ledgerRows(db.store.repos);
    expect(await asServiceRole(d, sql`SELECT * FROM pay.payment_events`)).toBe('ok');
    expect(await asServiceRole(d, sql`UPDATE pay.payment_events SET created_at = now()`)).toBe(
      PERMISSION_DENIED,
    );
    expect(await asServiceRole(d, sql`DELETE FROM pay.audit_log`)).toBe(PERMISSION_DENIED);
    expect(await asServiceRole(d, sql`UPDATE pay.payments SET updated_at = now()`)).toBe('ok');
  });

  it('leaves a PGlite instance it was given open on close()', async () => {
    const borrowed = await openPglite({ pglite: db.pglite });
    await borrowed.close();
    expect(db.pglite.closed).toBe(false);
    await db.ping();
  });
});
