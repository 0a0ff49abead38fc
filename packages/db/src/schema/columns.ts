import { sql, type SQL } from 'drizzle-orm';
import { bigint, pgSchema, text, timestamp, type PgColumn } from 'drizzle-orm/pg-core';
import type { Currency } from '@pay/core';

/**
 * Every table lives in PostgreSQL schema `pay`, beside the migration journal (`pay.__migrations`), so
 * pay can share a database with the service that embeds it.
 */
export const pay = pgSchema('pay');

/** A `timestamptz` read as a JS `Date`. Never `timestamp without time zone`: a session's TimeZone would shift it. */
export function timestamptz() {
  return timestamp({ withTimezone: true, mode: 'date' });
}

/** `created_at` and `updated_at`; repositories set both explicitly from one clock reading per call. */
export function timestamps() {
  return {
    createdAt: timestamptz().notNull().defaultNow(),
    updatedAt: timestamptz().notNull().defaultNow(),
  };
}

/**
 * An integer count of minor units. `bigint` so no amount Stripe accepts can overflow, read in mode
 * `number`: every amount pay handles (≤ 99,999,999) is far inside the exact-integer range of a double.
 */
export function minorUnits() {
  return bigint({ mode: 'number' });
}

/** A lowercase ISO-4217 code. The column only checks its shape; core checks it against the currency table. */
export function currency() {
  return text().$type<Currency>();
}

/** Renders a SQL literal list from constant, trusted values (status arrays from core), for CHECK constraints. */
function literals(values: readonly string[]): SQL {
  return sql.raw(values.map((value) => `'${value.replace(/'/g, "''")}'`).join(', '));
}

/** `column IN ('a', 'b', …)`: statuses are TEXT + CHECK, never pg enums (DESIGN.md §3). */
export function isOneOf(column: PgColumn, values: readonly string[]): SQL {
  return sql`${column} IN (${literals(values)})`;
}

/** The shape of a currency code: three lowercase letters. */
export function isCurrencyCode(column: PgColumn): SQL {
  return sql`${column} ~ '^[a-z]{3}$'`;
}
