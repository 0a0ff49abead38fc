import { sql } from 'drizzle-orm';
import { boolean, check, text, unique } from 'drizzle-orm/pg-core';
import { PLAN_INTERVALS, type AccountId, type PlanId } from '@pay/core';
import { accounts } from './accounts.js';
import { currency, isCurrencyCode, isOneOf, minorUnits, pay, timestamptz } from './columns.js';

/** What subscriptions sell: an amount per interval. */
export const plans = pay.table(
  'plans',
  {
    id: text().$type<PlanId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    name: text().notNull(),
    amount: minorUnits().notNull(),
    currency: currency().notNull(),
    interval: text({ enum: PLAN_INTERVALS }).notNull(),
    active: boolean().notNull().default(true),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    unique('plans_account_id_id_unique').on(t.accountId, t.id),
    check('plans_amount_check', sql`${t.amount} > 0`),
    check('plans_currency_check', isCurrencyCode(t.currency)),
    check('plans_interval_check', isOneOf(t.interval, PLAN_INTERVALS)),
  ],
);
