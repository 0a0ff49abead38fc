import postgres from 'postgres';
import { isPayError, type Repositories } from '@pay/core';
import { DatabaseUnavailableError } from '../src/index.js';
import { openMigratedPostgres, type OpenedDatabase } from './support/databases.js';
import { deferred, sleep, unique, within } from './support/fixtures.js';

/*
 * RELIABILITY.md C3 at the store: a PostgreSQL session terminated (`pg_terminate_backend`) in the middle
 * of a transaction, on the real server. The transaction fails as a typed, retryable
 * DatabaseUnavailableError, none of its writes is visible, the process survives (postgres.js 3.4.9
 * would end it from a timer, see StoreOptions.abandonOnLostSocket), and the pool serves the next query.
 */

/** A hang guard for each step (5x what a loopback kill and reconnect take), never a timing figure. */
const GUARD_MS = 10_000;

let opened: OpenedDatabase & { url: string };
let admin: postgres.Sql;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};

beforeAll(async () => {
  opened = await openMigratedPostgres('db_connection_loss');
  admin = postgres(opened.url, { max: 2, onnotice: () => {} });
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await admin?.end({ timeout: 5 });
  await opened?.close();
});

/** Terminates pay's sessions (application_name `pay`) in `state`; resolves to how many. */
async function terminatePay(state: 'active' | 'idle in transaction'): Promise<number> {
  const rows = await admin`
    SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'pay' AND state = ${state}
      AND pid <> pg_backend_pid()`;
  return rows.filter((r) => r.killed === true).length;
}

/** Polls until a pay session is in `state` (the transaction reached the point the test wants). */
async function untilSessionIs(state: 'active' | 'idle in transaction'): Promise<void> {
  for (;;) {
    const [row] = await admin`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'pay' AND state = ${state}`;
    if (row !== undefined && row.n > 0) {
      return;
    }
    await sleep(10);
  }
}

async function accountsNamed(name: string): Promise<number> {
  const [row] = await admin`SELECT count(*)::int AS n FROM pay.accounts WHERE name = ${name}`;
  return row?.n as number;
}

/**
 * The next queries on the pool: each either works or fails as a DatabaseUnavailableError (postgres.js
 * may hand the old session's 57P01 to the first query on the reconnected connection); one must work
 * within a few tries.
 */
async function poolServesAgain(repos: Repositories): Promise<{ tries: number; typedFailures: number }> {
  let typedFailures = 0;
  for (let tries = 1; tries <= 5; tries++) {
    try {
      await within(GUARD_MS, repos.accounts.create({ name: unique('after') }), 'a query after the kill');
      return { tries, typedFailures };
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) {
        throw error;
      }
      typedFailures++;
    }
  }
  throw new Error(`the pool served nothing in 5 tries (${typedFailures} typed failures)`);
}

describe('a PostgreSQL session terminated mid-transaction', () => {
  it('while a statement runs: the transaction fails as dependency_unavailable, writes nothing, and the pool serves the next query', async () => {
    const { store } = opened.db;
    const name = unique('killed_active');
    // An exclusive lock held elsewhere keeps the transaction's second insert running until the kill.
    const blocker = deferred();
    const locked = deferred();
    const holder = admin.begin(async (sql) => {
      await sql`LOCK TABLE pay.accounts IN ACCESS EXCLUSIVE MODE`;
      locked.resolve();
      await blocker.promise;
    });
    await locked.promise;
    const started = performance.now();
    const transaction = store.transaction(async (tx) => {
      await tx.accounts.create({ name });
      await tx.accounts.create({ name });
    });
    const outcome = transaction.then(
      () => 'committed',
      (error: unknown) => error,
    );
    await within(GUARD_MS, untilSessionIs('active'), 'the insert waiting on the lock');
    expect(await terminatePay('active')).toBe(1);
    const error = await within(GUARD_MS, outcome, 'the killed transaction');
    const failedMs = Math.round(performance.now() - started);
    blocker.resolve();
    await holder;

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(isPayError(error) && [error.code, error.retryable]).toEqual(['dependency_unavailable', true]);
    expect(await accountsNamed(name)).toBe(0);
    const after = await poolServesAgain(store.repos);
    await sleep(50); // a timer-borne crash (postgres.js nextWrite) would land here
    expect(uncaught).toEqual([]);
    process.stdout.write(
      `C3 store (active): failed ${failedMs} ms after start; pool served again on try ${after.tries} ` +
        `(${after.typedFailures} typed failures before)\n`,
    );
  });

  it('between statements (idle in transaction): the next statement never reaches another session, the transaction fails typed, nothing is written', async () => {
    const { store } = opened.db;
    const name = unique('killed_idle');
    const killed = deferred();
    const paused = deferred();
    let secondInsert: unknown = 'not tried';
    const transaction = store.transaction(async (tx) => {
      await tx.accounts.create({ name });
      paused.resolve();
      await killed.promise;
      try {
        await tx.accounts.create({ name });
        secondInsert = 'ran';
      } catch (error) {
        secondInsert = error;
        throw error;
      }
    });
    const outcome = transaction.then(
      () => 'committed',
      (error: unknown) => error,
    );
    await paused.promise;
    await within(GUARD_MS, untilSessionIs('idle in transaction'), 'the transaction pausing');
    expect(await terminatePay('idle in transaction')).toBe(1);
    const error = await within(GUARD_MS, outcome, 'the killed transaction');
    killed.resolve();
    await sleep(50);

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    // The callback's statement after the kill was refused at once, not sent on a reconnected session.
    expect(secondInsert).toBeInstanceOf(DatabaseUnavailableError);
    expect(await accountsNamed(name)).toBe(0);
    await poolServesAgain(store.repos);
    expect(uncaught).toEqual([]);
  });

  it('on a root statement: the autocommit query fails typed and the next one works', async () => {
    const { store } = opened.db;
    const blocker = deferred();
    const locked = deferred();
    const holder = admin.begin(async (sql) => {
      await sql`LOCK TABLE pay.accounts IN ACCESS EXCLUSIVE MODE`;
      locked.resolve();
      await blocker.promise;
    });
    await locked.promise;
    const name = unique('killed_root');
    const outcome = store.repos.accounts.create({ name }).then(
      () => 'committed',
      (error: unknown) => error,
    );
    await within(GUARD_MS, untilSessionIs('active'), 'the insert waiting on the lock');
    expect(await terminatePay('active')).toBe(1);
    const error = await within(GUARD_MS, outcome, 'the killed insert');
    blocker.resolve();
    await holder;

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(await accountsNamed(name)).toBe(0);
    await poolServesAgain(store.repos);
    expect(uncaught).toEqual([]);
  });
});
