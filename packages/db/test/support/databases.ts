import type { PGlite } from '@electric-sql/pglite';
import {
  connectPostgres,
  migratePglite,
  migratePostgres,
  openPglite,
  type Database,
} from '../../src/index.js';
import { createTestDatabase } from '../../src/testing.js';

/** What a suite gets: an open, migrated database and how to dispose of it. */
export interface OpenedDatabase {
  db: Database;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database for this file, migrated; `close()` drops it. */
export async function openMigratedPostgres(scope: string): Promise<OpenedDatabase & { url: string }> {
  const testDb = await createTestDatabase(scope);
  try {
    await migratePostgres(testDb.url);
  } catch (err) {
    await testDb.drop();
    throw err;
  }
  const db = connectPostgres(testDb.url, { max: 8 });
  return {
    db,
    url: testDb.url,
    async close() {
      await db.close();
      await testDb.drop();
    },
  };
}

/** An in-memory PGlite, migrated. One per test file: a cold start costs 2-10 s. */
export async function openMigratedPglite(): Promise<OpenedDatabase & { pglite: PGlite }> {
  const db = await openPglite();
  await migratePglite(db.pglite);
  return { db, pglite: db.pglite, close: () => db.close() };
}
