import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, text, unique } from 'drizzle-orm/pg-core';
import type { AccountId, IdempotencyKeyId } from '@pay/core';
import { accounts } from './accounts.js';
import { pay, timestamptz } from './columns.js';

/** pay's idempotency records, after Stripe's design (DESIGN.md §4): one per (account, key), kept 24 h. */
export const idempotencyKeys = pay.table(
  'idempotency_keys',
  {
    id: text().$type<IdempotencyKeyId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    key: text().notNull(),
    requestMethod: text().notNull(),
    requestPath: text().notNull(),
    paramsHash: text().notNull(),
    // The request's parameters, so the recovery job can finish a flow whose client went away. Card
    // data never gets this far: the API refuses it at the edge.
    requestParams: jsonb().$type<unknown>(),
    lockedAt: timestamptz(),
    recoveryPoint: text().notNull().default('started'),
    responseStatus: integer(),
    responseBody: jsonb().$type<unknown>(),
    resourceId: text(),
    createdAt: timestamptz().notNull().defaultNow(),
    lastRunAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    // Two requests racing with one key: the second INSERT conflicts here and reads the first's row.
    unique('idempotency_keys_account_id_key_unique').on(t.accountId, t.key),
    // The reaper deletes by age.
    index('idempotency_keys_created_at_idx').on(t.createdAt),
    check('idempotency_keys_key_check', sql`length(${t.key}) BETWEEN 1 AND 255`),
    check('idempotency_keys_response_status_check', sql`${t.responseStatus} BETWEEN 100 AND 599`),
  ],
);
