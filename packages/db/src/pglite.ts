import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { ConfigurationError } from '@pay/core';
import type { Database } from './database.js';
import { countAppliedMigrations, migratorConfig, readMigrationState } from './migrate.js';
import { withDrizzleHandle } from './internal.js';
import { createStore } from './store.js';

/** Options of {@link openPglite}. */
export interface OpenPgliteOptions {
  /** A folder for the data; undefined keeps the database in memory. */
  dataDir?: string;
  /** An instance to use instead of creating one; `close()` then leaves it open. */
  pglite?: PGlite;
}

/**
 * Opens PGlite (PostgreSQL in WASM, in this process): a new instance on `dataDir` (in memory when
 * undefined), or the `pglite` passed. Migrations are not applied: call {@link migratePglite}.
 *
 * PGlite is one connection. Its own mutex already makes a second transaction (or any query) wait
 * until the open transaction ends; the store adds a fail-fast {@link TransactionMisuseError} for the
 * one case that would otherwise wait forever: the root repositories used from inside a transaction.
 */
export async function openPglite(
  options: OpenPgliteOptions = {},
): Promise<Database & { readonly pglite: PGlite }> {
  if (options.pglite !== undefined && options.dataDir !== undefined) {
    throw new ConfigurationError('openPglite takes either `dataDir` or an open `pglite` instance, not both.');
  }
  const owned = options.pglite === undefined;
  const pglite = options.pglite ?? (await PGlite.create(options.dataDir));
  const db = drizzle(pglite, { casing: 'snake_case' });
  const { store, assertOutsideTransaction } = createStore(db);
  return withDrizzleHandle(
    {
      driver: 'pglite',
      pglite,
      store,
      async ping() {
        assertOutsideTransaction('Database.ping()');
        await db.execute(sql`SELECT 1`);
      },
      migrationState() {
        assertOutsideTransaction('Database.migrationState()');
        return readMigrationState(db);
      },
      async close() {
        if (owned && !pglite.closed) {
          await pglite.close();
        }
      },
    },
    db,
  );
}

/**
 * Migrations in flight per instance. drizzle's migrator reads the journal before it opens its
 * transaction, so two concurrent calls on one instance would both see "nothing applied" and the second
 * would re-run migration 0000; chaining them makes the second find everything applied. (An advisory
 * lock cannot help here: PGlite is one session, and session locks are re-entrant.)
 */
const migrationsInFlight = new WeakMap<PGlite, Promise<unknown>>();

/**
 * Applies the pending migrations of {@link MIGRATIONS_FOLDER} to `pglite` with drizzle's PGlite
 * migrator, journal in `pay.__migrations`; resolves to how many it applied (0 when up to date).
 */
export function migratePglite(pglite: PGlite): Promise<{ applied: number }> {
  const previous = migrationsInFlight.get(pglite) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const db = drizzle(pglite, { casing: 'snake_case' });
      const before = await countAppliedMigrations(db);
      await migrate(db, migratorConfig());
      return { applied: (await countAppliedMigrations(db)) - before };
    });
  migrationsInFlight.set(pglite, run);
  return run;
}
