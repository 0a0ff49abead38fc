import type { Database } from './database.js';
import type { Db } from './store.js';

/*
 * The drizzle handle behind each open Database, for this package's own tests (raw SQL against the
 * constraints and grants). Deliberately not exported from the package: callers get the Store only.
 */
const handles = new WeakMap<Database, Db>();

/** Records `db` as the handle of `database`; returns `database`. */
export function withDrizzleHandle<D extends Database>(database: D, db: Db): D {
  handles.set(database, db);
  return database;
}

/** The drizzle handle of a Database opened by this package. */
export function drizzleOf(database: Database): Db {
  const db = handles.get(database);
  if (db === undefined) {
    throw new Error('This Database was not opened by @pay/db.');
  }
  return db;
}
