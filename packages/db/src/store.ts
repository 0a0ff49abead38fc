import { AsyncLocalStorage } from 'node:async_hooks';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { TransactionMisuseError, type Repositories, type Store } from '@pay/core';
import { sqlStateOf } from './errors.js';
import { createRepositories } from './repositories/index.js';

/** A drizzle handle on either driver: the root database or an open transaction (which extends it). */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/**
 * What a repository runs its statements on. Root repositories autocommit each statement and open a
 * transaction of their own for multi-statement writes; transaction repositories use the open one.
 */
export interface Executor {
  /** The handle for a single statement. */
  db(): Db;
  /** Runs `fn` atomically: in the open transaction when bound to one, else in a new transaction. */
  atomic<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

interface TransactionScope {
  open: boolean;
}

/** A {@link Store} plus the guard the driver's own queries (`ping`, `migrationState`) run through. */
export interface GuardedStore {
  readonly store: Store;
  /** Throws {@link TransactionMisuseError} when called from inside one of this store's transactions. */
  readonly assertOutsideTransaction: (what: string) => void;
}

/**
 * Builds the unit of work over a drizzle database.
 *
 * Using the root repositories (or opening a second transaction) from inside `transaction()`'s callback
 * throws a {@link TransactionMisuseError} at once. On PGlite, which is one connection, such a query
 * would queue behind the open transaction, which in turn waits for it: a silent, permanent hang. On
 * PostgreSQL it would run on another pooled connection, outside the transaction: its write would
 * survive a rollback, and it could wait forever on a row lock the transaction holds. Both drivers
 * fail the same way so a test on either one catches the bug. The scope is tracked per async call
 * chain (AsyncLocalStorage), so other requests running concurrently keep using the root repositories
 * freely; on PGlite they simply wait for the transaction to end, as PGlite serializes everything.
 */
export function createStore(root: Db): GuardedStore {
  const scopes = new AsyncLocalStorage<TransactionScope>();

  function assertOutsideTransaction(what: string): void {
    if (scopes.getStore()?.open === true) {
      throw new TransactionMisuseError(
        `${what} was called inside store.transaction(): use the repositories passed to the transaction ` +
          'callback instead. (On PGlite, one connection, this would wait for itself forever.)',
        { context: { what } },
      );
    }
  }

  const rootExecutor: Executor = {
    db() {
      assertOutsideTransaction('A root repository (store.repos)');
      return root;
    },
    atomic(fn) {
      assertOutsideTransaction('A root repository (store.repos)');
      return root.transaction((tx) => fn(tx));
    },
  };

  const store: Store = {
    repos: createRepositories(rootExecutor),
    transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      assertOutsideTransaction('store.transaction() (transactions do not nest)');
      return retryingConflicts(() => runTransaction(fn));
    },
  };

  function runTransaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return root.transaction((tx) => {
      const executor: Executor = { db: () => tx, atomic: (inner) => inner(tx) };
      const scope: TransactionScope = { open: true };
      return scopes.run(scope, async () => {
        try {
          return await fn(createRepositories(executor));
        } finally {
          // Work the callback started but did not await may outlive the transaction; from then on it
          // is ordinary root traffic again.
          scope.open = false;
        }
      });
    });
  }

  return { store, assertOutsideTransaction };
}

/** SQLSTATEs after which running the same transaction again is the server's own advice. */
const RETRYABLE_CONFLICTS: ReadonlySet<string> = new Set([
  // serialization_failure, deadlock_detected: PostgreSQL rolled the transaction back.
  '40001',
  '40P01',
]);

/** Attempts of one transaction against a serialization failure or deadlock before it gives up. */
export const TRANSACTION_ATTEMPTS = 3;

/**
 * Runs `attempt` (one whole transaction) again when PostgreSQL rolled it back for a serialization
 * failure or a deadlock, after a short jittered pause, up to {@link TRANSACTION_ATTEMPTS} times.
 * Safe because a transaction's callback only talks to the database (no network call belongs inside
 * one, see Store): the rolled-back attempt left nothing behind. The last failure is thrown as it came.
 */
export async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const state = sqlStateOf(error);
      if (n >= TRANSACTION_ATTEMPTS || state === undefined || !RETRYABLE_CONFLICTS.has(state)) {
        throw error;
      }
      // 5–10 ms, then 10–20 ms: enough for the transaction it collided with to commit.
      const base = 5 * 2 ** (n - 1);
      await new Promise((resolve) => setTimeout(resolve, base + Math.random() * base));
    }
  }
}
