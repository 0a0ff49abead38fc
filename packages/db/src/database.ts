import type { Store } from '@pay/core';

/** An open database: core's unit of work plus what the runtime needs to operate it. */
export interface Database {
  readonly driver: 'postgres' | 'pglite';
  /** Core's unit of work over this database. */
  readonly store: Store;
  /** Resolves when the database answers a query; throws when it is unreachable. */
  ping(): Promise<void>;
  /** Migrations recorded in the journal against those shipped; ready when `applied === total`. */
  migrationState(): Promise<{ applied: number; total: number }>;
  /** Closes the connections (a PGlite instance only if `openPglite` created it). */
  close(): Promise<void>;
}
