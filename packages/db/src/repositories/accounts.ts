import { and, desc, eq, isNull } from 'drizzle-orm';
import { newId, type Account, type AccountRepository, type ApiKey, type ApiKeyRepository } from '@pay/core';
import type { AccountRow, ApiKeyRow } from '../rows.js';
import type { Executor } from '../store.js';
import { accounts, apiKeys } from '../tables.js';
import { firstOrNull, olderThan, pageFetchSize, single, toPage } from './shared.js';

const toAccount = (row: AccountRow): Account => ({ id: row.id, name: row.name, createdAt: row.createdAt });

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  accountId: row.accountId,
  name: row.name,
  role: row.role,
  keyHash: row.keyHash,
  keyPrefix: row.keyPrefix,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});

export function createAccountRepository(x: Executor): AccountRepository {
  return {
    async create(input) {
      const now = new Date();
      const rows = await x
        .db()
        .insert(accounts)
        .values({ id: newId('account', now), name: input.name, createdAt: now })
        .returning();
      return toAccount(single(rows, 'INSERT accounts'));
    },

    async findById(id) {
      const rows = await x.db().select().from(accounts).where(eq(accounts.id, id));
      return firstOrNull(rows, toAccount);
    },

    async list(page) {
      const rows = await x
        .db()
        .select()
        .from(accounts)
        .where(olderThan(accounts.id, page))
        .orderBy(desc(accounts.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toAccount);
    },
  };
}

export function createApiKeyRepository(x: Executor): ApiKeyRepository {
  return {
    async create(input) {
      const now = new Date();
      const rows = await x
        .db()
        .insert(apiKeys)
        .values({
          id: newId('apiKey', now),
          accountId: input.accountId,
          name: input.name,
          role: input.role,
          keyHash: input.keyHash,
          keyPrefix: input.keyPrefix,
          createdAt: now,
        })
        .returning();
      return toApiKey(single(rows, 'INSERT api_keys'));
    },

    async findActiveByHash(keyHash) {
      const rows = await x
        .db()
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      return firstOrNull(rows, toApiKey);
    },

    async listByAccount(accountId) {
      const rows = await x
        .db()
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.accountId, accountId))
        .orderBy(desc(apiKeys.id));
      return rows.map(toApiKey);
    },

    async revoke(accountId, id, at) {
      return x.atomic(async (db) => {
        // Only a live key gets `at`: revoking twice keeps the first time, which is when access ended.
        const revoked = await db
          .update(apiKeys)
          .set({ revokedAt: at })
          .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
          .returning();
        if (revoked[0] !== undefined) {
          return toApiKey(revoked[0]);
        }
        const rows = await db
          .select()
          .from(apiKeys)
          .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId)));
        return firstOrNull(rows, toApiKey);
      });
    },
  };
}
