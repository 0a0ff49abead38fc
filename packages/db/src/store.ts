import { AsyncLocalStorage } from 'node:async_hooks';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { TransactionMisuseError, type Repositories, type Store } from '@pay/core';
import { isLostSocket, translateConnectionLoss } from './connection-loss.js';
import { sqlStateOf } from './errors.js';
import { createRepositories } from './repositories/index.js';

/** A drizzle handle on either driver: the root database or an open transaction (which extends it). */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/**
 * What a repository runs its statements on. Root repositories autocommit each statement and open a
 * transaction of their own for multi-statement writes; transaction repositories use the open one.
 */
export interface Executor {
  /**
   * True for the store's root executor: one per store, every statement its own transaction. Its
   * repositories may share work between concurrent callers (the webhook inbox's group commit).
   */
  readonly root: boolean;
  /** The handle for a single statement. */
  db(): Db;
  /** Runs `fn` atomically: in the open transaction when bound to one, else in a new transaction. */
  atomic<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

interface TransactionScope {
  open: boolean;
}

/** How {@link createStore} treats the driver under it. */
export interface StoreOptions {
  /**
   * Abandon a transaction whose connection closed under it instead of rolling it back (postgres.js).
   * postgres.js 3.4.9 answers a ROLLBACK (or any statement) written to a transaction's connection after
   * that connection closed with an uncaught TypeError from a timer (`socket.write` on null), which ends
   * the process, and a statement that reaches the connection after it reconnected would run outside the
   * transaction (porsager/postgres#1208, #1215, #1216). The server has rolled the transaction back already
   * when its session ended, so the callback is left pending (nothing else references it, and it is
   * collected) and `begin()` rejects on its own through the connection's close. Default false (PGlite).
   */
  readonly abandonOnLostSocket?: boolean;
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
export function createStore(root: Db, options: StoreOptions = {}): GuardedStore {
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
    root: true,
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
    repos: translatingConnectionLoss(createRepositories(rootExecutor)),
    async transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      assertOutsideTransaction('store.transaction() (transactions do not nest)');
      try {
        return await retryingConflicts(() => runTransaction(fn));
      } catch (error) {
        throw translateConnectionLoss(error);
      }
    },
  };

  function runTransaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    // Set when the transaction ended while its callback still runs (its connection closed under it):
    // a statement sent after that would reach a dead or, worse, reconnected connection.
    let ended = false;
    const running = root.transaction((tx) => {
      const statementsOn = (): Db => {
        if (ended) {
          throw translateConnectionLoss(transactionConnectionClosed());
        }
        return tx;
      };
      const executor: Executor = {
        root: false,
        db: statementsOn,
        atomic: (inner) => inner(statementsOn()),
      };
      const scope: TransactionScope = { open: true };
      return scopes.run(scope, async () => {
        try {
          return await fn(createRepositories(executor));
        } catch (error) {
          if (options.abandonOnLostSocket === true && isLostSocket(error)) {
            return new Promise<never>(() => {});
          }
          throw error;
        } finally {
          // Work the callback started but did not await may outlive the transaction; from then on it
          // is ordinary root traffic again.
          scope.open = false;
        }
      });
    });
    return running.finally(() => {
      ended = true;
    });
  }

  return { store, assertOutsideTransaction };
}

/** What a statement sent on a transaction that already ended gets: its connection is gone. */
function transactionConnectionClosed(): Error {
  return Object.assign(new Error("The transaction's database connection closed under it."), {
    code: 'CONNECTION_CLOSED',
  });
}

/**
 * `repos` with every method's rejection passed through {@link translateConnectionLoss}, so a root
 * statement cut by a lost connection fails as a typed, retryable DatabaseUnavailableError.
 */
function translatingConnectionLoss(repos: Repositories): Repositories {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [name, repository] of Object.entries(repos) as [string, Record<string, unknown>][]) {
    const methods: Record<string, unknown> = {};
    for (const [method, value] of Object.entries(repository)) {
      methods[method] =
        typeof value === 'function'
          ? (...args: unknown[]): unknown => {
              const result: unknown = Reflect.apply(value, repository, args);
              return result instanceof Promise
                ? result.catch((error: unknown) => {
                    throw translateConnectionLoss(error);
                  })
                : result;
            }
          : value;
    }
    wrapped[name] = methods;
  }
  // Same keys, same method signatures: only rejections differ.
  return wrapped as unknown as Repositories;
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
