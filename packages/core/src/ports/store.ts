import type { Repositories } from './repositories.js';

/**
 * The unit of work. `repos` autocommit each call; `transaction` binds a fresh set of repositories to
 * one transaction that commits when `fn` resolves and rolls back when it throws. No network call
 * belongs inside `fn`: a flow that talks to Stripe is a sequence of short transactions.
 */
export interface Store {
  /** Repositories outside any transaction: each call commits on its own. For reads and single writes. */
  readonly repos: Repositories;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws (and rethrows).
   * Transactions do not nest, and `fn` uses `tx`, never `repos` (a {@link TransactionMisuseError} in
   * `@pay/db`).
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
}
