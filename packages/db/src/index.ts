/**
 * @pay/db: pay's PostgreSQL data model. Drizzle schema, SQL migrations and core's repositories,
 * on a PostgreSQL server (postgres.js) or on PGlite in-process, with the same migrations on both.
 */
export type { Database } from './database.js';
export type { PostgresTarget } from './postgres-client.js';
export { connectPostgres, migratePostgres, type ConnectPostgresOptions } from './postgres.js';
export { openPglite, migratePglite, type OpenPgliteOptions } from './pglite.js';
export { MIGRATIONS_FOLDER } from './migrate.js';
export { isUniqueViolation } from './errors.js';
export {
  DatabaseUnavailableError,
  DATABASE_RETRY_AFTER_SECONDS,
  isConnectionLoss,
  isLostSocket,
} from './connection-loss.js';
