import { sql } from 'drizzle-orm';
import { check, index, jsonb, text } from 'drizzle-orm/pg-core';
import { ACTOR_TYPES, type AccountId, type AuditEntryId } from '@pay/core';
import { accounts } from './accounts.js';
import { currency, isCurrencyCode, isOneOf, minorUnits, pay, timestamptz } from './columns.js';

/** Who did what to which object. Append-only: the service role may only SELECT and INSERT it. */
export const auditLog = pay.table(
  'audit_log',
  {
    id: text().$type<AuditEntryId>().primaryKey(),
    // Null for operations outside any account (an operator creating one, say).
    accountId: text()
      .$type<AccountId>()
      .references(() => accounts.id),
    actorType: text({ enum: ACTOR_TYPES }).notNull(),
    actorId: text().notNull(),
    action: text().notNull(),
    targetType: text(),
    targetId: text(),
    amount: minorUnits(),
    currency: currency(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    requestId: text(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_account_id_id_idx').on(t.accountId, t.id),
    check('audit_log_actor_type_check', isOneOf(t.actorType, ACTOR_TYPES)),
    check('audit_log_amount_check', sql`${t.amount} >= 0`),
    check('audit_log_currency_check', isCurrencyCode(t.currency)),
    // An amount means nothing without its currency, and a currency nothing without an amount.
    check('audit_log_money_check', sql`(${t.amount} IS NULL) = (${t.currency} IS NULL)`),
  ],
);
