import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { countAppliedMigrations, migratorConfig, readMigrationState } from './migrate.js';
import { ignoreNotice, openPostgresClient, SERVICE_ROLE, type PostgresTarget } from './postgres-client.js';
import { withDrizzleHandle } from './internal.js';
import { createStore } from './store.js';
import type { Database } from './database.js';

/** Options of {@link connectPostgres}. */
export interface ConnectPostgresOptions {
  /** Pool size (postgres.js `max`); default 10. */
  max?: number;
  /**
   * Run every pooled connection as `pay_service` (a startup parameter, so even `RESET ROLE` keeps it):
   * the service then cannot UPDATE or DELETE ledger and audit rows. The login user must be a member
   * of `pay_service` (`GRANT pay_service TO app_user`). Default false.
   */
  serviceRole?: boolean;
  /** Print server notices (postgres.js's default); by default they are dropped. */
  onNotice?: boolean;
}

/**
 * An arbitrary but fixed key for the session-level advisory lock every migrator takes, so processes
 * that start at once migrate one after the other (the later ones find nothing left to do).
 */
const MIGRATION_LOCK_KEY = '7306010946813259053';

/**
 * Connects to PostgreSQL. Nothing is sent until the first query; `ping()` checks the connection.
 * Migrations are not applied: call {@link migratePostgres} first (or check `migrationState()`).
 */
export function connectPostgres(target: PostgresTarget, options: ConnectPostgresOptions = {}): Database {
  const client = openPostgresClient(target, {
    max: options.max ?? 10,
    // The array types postgres.js would fetch on every new connection are not used (no array columns),
    // and in 3.4.9 a connection killed during that fetch rejects a promise nobody holds: an unhandled
    // rejection, which ends the process.
    fetch_types: false,
    ...(options.onNotice === true ? {} : { onnotice: ignoreNotice }),
    connection: {
      application_name: 'pay',
      ...(options.serviceRole === true ? { role: SERVICE_ROLE } : {}),
    },
  });
  const db = drizzle(client, { casing: 'snake_case' });
  const { store, assertOutsideTransaction } = createStore(db, { abandonOnLostSocket: true });
  return withDrizzleHandle(
    {
      driver: 'postgres',
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
        await client.end({ timeout: 5 });
      },
    },
    db,
  );
}

/**
 * Applies the pending migrations of {@link MIGRATIONS_FOLDER} with drizzle's postgres.js migrator,
 * journal in `pay.__migrations`, and resolves to how many it applied (0 when up to date).
 *
 * Safe to call from several processes at once: each takes `pg_advisory_lock` first, on the one
 * connection its migrator uses (a pool of one, with no lifetime or idle timeout that could swap the
 * connection and silently drop the lock), so they run one at a time and the later ones apply nothing.
 * The lock is released in `finally`, and by the server anyway if the process dies.
 */
export async function migratePostgres(target: PostgresTarget): Promise<{ applied: number }> {
  const client = openPostgresClient(target, {
    max: 1,
    max_lifetime: 0,
    idle_timeout: 0,
    onnotice: ignoreNotice,
    connection: { application_name: 'pay-migrate' },
  });
  try {
    const db = drizzle(client, { casing: 'snake_case' });
    await client`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    try {
      const before = await countAppliedMigrations(db);
      await migrate(db, migratorConfig());
      return { applied: (await countAppliedMigrations(db)) - before };
    } finally {
      await client`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
