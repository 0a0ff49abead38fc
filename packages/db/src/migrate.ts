import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from './store.js';

/** pay's migration journal sits beside its tables (DESIGN.md §6), not in drizzle's default schema. */
export const MIGRATIONS_SCHEMA = 'pay';
export const MIGRATIONS_TABLE = '__migrations';

/**
 * Where the SQL migrations are. Built code (`dist/`) uses the copy the build puts in the package
 * (`packages/db/migrations`, shipped to npm). Sources run by jest (`src/`) use the repository's own
 * top-level `migrations/`, so a migration just generated is tested without a rebuild; built code falls
 * back to it too when the copy is missing.
 */
function resolveMigrationsFolder(): string {
  const packaged = path.resolve(__dirname, '../migrations');
  const repository = path.resolve(__dirname, '../../../migrations');
  const candidates = path.basename(__dirname) === 'src' ? [repository, packaged] : [packaged, repository];
  const found = candidates.find((folder) => fs.existsSync(path.join(folder, 'meta', '_journal.json')));
  return found ?? packaged;
}

/** The folder of SQL migrations (with `meta/_journal.json`) that `migratePostgres` and `migratePglite` apply. */
export const MIGRATIONS_FOLDER: string = resolveMigrationsFolder();

/** The options both of drizzle's migrators take. */
export function migratorConfig() {
  return {
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsSchema: MIGRATIONS_SCHEMA,
    migrationsTable: MIGRATIONS_TABLE,
  };
}

let shipped: number | undefined;

/** How many migrations the folder holds, from drizzle-kit's journal (read once: readiness probes call it often). */
export function countShippedMigrations(): number {
  if (shipped === undefined) {
    const journalPath = path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalPath, 'utf8')) as { entries?: unknown[] };
    shipped = journal.entries?.length ?? 0;
  }
  return shipped;
}

/** The rows of a raw query: postgres.js returns an array, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/** How many migrations the database's journal records; 0 before the first migration. */
export async function countAppliedMigrations(db: Db): Promise<number> {
  const journal = `"${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`;
  const exists = rowsOf<{ present: boolean }>(
    await db.execute(sql`SELECT to_regclass(${journal}) IS NOT NULL AS present`),
  );
  if (exists[0]?.present !== true) {
    return 0;
  }
  const counted = rowsOf<{ n: number }>(
    await db.execute(sql`SELECT count(*)::int AS n FROM ${sql.raw(journal)}`),
  );
  return counted[0]?.n ?? 0;
}

/** `{ applied, total }`: journal rows against the migrations shipped. Ready when they are equal. */
export async function readMigrationState(db: Db): Promise<{ applied: number; total: number }> {
  return { applied: await countAppliedMigrations(db), total: countShippedMigrations() };
}
