import type { Repositories } from './repositories.js';

/**
 * The unit of work. `repos` autocommit each call; `transaction` binds a fresh set of repositories to
 * one transaction that commits when `fn` resolves and rolls back when it throws. No network call
 * belongs inside `fn`: a flow that talks to Stripe is a sequence of short transactions.
 */
export interface Store {
  readonly repos: Repositories;
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
}
