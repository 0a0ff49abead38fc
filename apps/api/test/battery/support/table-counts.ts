import { int, text, withSql } from './pay-sql.js';

/*
 * How many rows every table of pay's database holds, read with plain SQL: equal snapshots before and
 * after a run of refused requests mean none of them wrote anything, whatever table it might have touched
 * (a stored idempotency key, an audit row, an inbox row, a customer).
 */

/** `schema.table` → row count, for every table outside PostgreSQL's own schemas. */
export type TableCounts = Readonly<Record<string, number>>;

export async function tableCounts(databaseUrl: string): Promise<TableCounts> {
  return withSql(databaseUrl, async (sql) => {
    const tables = await sql.unsafe(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name
         FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1`,
    );
    const names = tables.map((row) => text(row.name, 'name'));
    if (names.length === 0) {
      return {};
    }
    const rows = await sql.unsafe(
      names
        .map((name) => `SELECT '${name.replace(/'/g, "''")}' AS name, count(*) AS n FROM ${name}`)
        .join(' UNION ALL '),
    );
    return Object.fromEntries(rows.map((row) => [text(row.name, 'name'), int(row.n, 'n')]));
  });
}

/**
 * Bookkeeping every authenticated request may write whatever it asks for: the rate limiter's counters
 * (one row per key and window, shared across processes), not an effect of the request's content.
 */
export const PER_REQUEST_BOOKKEEPING: readonly string[] = ['pay.rate_limit_buckets'];

/** The tables whose counts differ, as `table: before → after`; empty when none do. `ignore` is left out. */
export function countChanges(
  before: TableCounts,
  after: TableCounts,
  ignore: readonly string[] = PER_REQUEST_BOOKKEEPING,
): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((name) => !ignore.includes(name) && before[name] !== after[name])
    .map((name) => `${name}: ${before[name] ?? 'absent'} → ${after[name] ?? 'absent'}`);
}
