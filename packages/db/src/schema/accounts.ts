import { check, index, text } from 'drizzle-orm/pg-core';
import { API_KEY_ROLES, type AccountId, type ApiKeyId } from '@pay/core';
import { isOneOf, pay, timestamptz } from './columns.js';

/** A tenant: every other row names its account, and every lookup by id filters on it. */
export const accounts = pay.table('accounts', {
  id: text().$type<AccountId>().primaryKey(),
  name: text().notNull(),
  createdAt: timestamptz().notNull().defaultNow(),
});

/** API keys, stored as their SHA-256 hash only: the secret itself is shown once and never kept. */
export const apiKeys = pay.table(
  'api_keys',
  {
    id: text().$type<ApiKeyId>().primaryKey(),
    accountId: text()
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    name: text().notNull(),
    role: text({ enum: API_KEY_ROLES }).notNull(),
    keyHash: text().notNull().unique('api_keys_key_hash_unique'),
    keyPrefix: text().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    revokedAt: timestamptz(),
  },
  (t) => [
    index('api_keys_account_id_id_idx').on(t.accountId, t.id),
    check('api_keys_role_check', isOneOf(t.role, API_KEY_ROLES)),
  ],
);
