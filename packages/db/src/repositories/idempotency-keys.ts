import { and, asc, eq, gt, gte, isNull, lt, or, sql } from 'drizzle-orm';
import {
  InternalError,
  newId,
  type IdempotencyKey,
  type IdempotencyKeyPatch,
  type IdempotencyKeyRepository,
} from '@pay/core';
import type { IdempotencyKeyRow } from '../rows.js';
import type { Executor } from '../store.js';
import { idempotencyKeys } from '../tables.js';
import { firstOrNull } from './shared.js';

const toIdempotencyKey = (row: IdempotencyKeyRow): IdempotencyKey => ({
  id: row.id,
  accountId: row.accountId,
  key: row.key,
  requestMethod: row.requestMethod,
  requestPath: row.requestPath,
  paramsHash: row.paramsHash,
  requestParams: row.requestParams ?? null,
  lockedAt: row.lockedAt,
  recoveryPoint: row.recoveryPoint,
  responseStatus: row.responseStatus,
  responseBody: row.responseBody ?? null,
  resourceId: row.resourceId,
  createdAt: row.createdAt,
  lastRunAt: row.lastRunAt,
});

function patchColumns(patch: IdempotencyKeyPatch) {
  return {
    recoveryPoint: patch.recoveryPoint,
    lockedAt: patch.lockedAt,
    responseStatus: patch.responseStatus,
    responseBody: patch.responseBody,
    resourceId: patch.resourceId,
    lastRunAt: patch.lastRunAt,
  };
}

export function createIdempotencyKeyRepository(x: Executor): IdempotencyKeyRepository {
  return {
    async insert(input) {
      const db = x.db();
      // Two requests with one key race here: the loser's INSERT waits for the winner's commit and
      // stores nothing, then reads the winner's row (locked, so the loser answers 409 or replays).
      const inserted = await db
        .insert(idempotencyKeys)
        .values({
          id: newId('idempotencyKey', input.now),
          accountId: input.accountId,
          key: input.key,
          requestMethod: input.requestMethod,
          requestPath: input.requestPath,
          paramsHash: input.paramsHash,
          requestParams: input.requestParams ?? null,
          lockedAt: input.now,
          recoveryPoint: 'started',
          createdAt: input.now,
          lastRunAt: input.now,
        })
        .onConflictDoNothing({ target: [idempotencyKeys.accountId, idempotencyKeys.key] })
        .returning();
      if (inserted[0] !== undefined) {
        return { key: toIdempotencyKey(inserted[0]), inserted: true };
      }
      const rows = await db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.accountId, input.accountId), eq(idempotencyKeys.key, input.key)));
      const existing = rows[0];
      if (existing === undefined) {
        throw new InternalError('An idempotency key conflicted but cannot be read back.', {
          context: { accountId: input.accountId },
        });
      }
      return { key: toIdempotencyKey(existing), inserted: false };
    },

    async find(accountId, key) {
      const rows = await x
        .db()
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.accountId, accountId), eq(idempotencyKeys.key, key)));
      return firstOrNull(rows, toIdempotencyKey);
    },

    async lock(id, now, staleBefore) {
      // Compare-and-set on the lock: a retry and the recovery job may both try to resume the key. The
      // lock is taken only while it is free or stale (its holder presumably crashed) and no response
      // is stored yet; whoever's UPDATE matches first holds it, the others get null (409).
      const rows = await x
        .db()
        .update(idempotencyKeys)
        .set({ lockedAt: now, lastRunAt: now })
        .where(
          and(
            eq(idempotencyKeys.id, id),
            isNull(idempotencyKeys.responseStatus),
            or(isNull(idempotencyKeys.lockedAt), lt(idempotencyKeys.lockedAt, staleBefore)),
          ),
        )
        .returning();
      return firstOrNull(rows, toIdempotencyKey);
    },

    async update(id, patch) {
      const columns = patchColumns(patch);
      const changes = Object.values(columns).some((value) => value !== undefined);
      const rows = changes
        ? await x.db().update(idempotencyKeys).set(columns).where(eq(idempotencyKeys.id, id)).returning()
        : await x.db().select().from(idempotencyKeys).where(eq(idempotencyKeys.id, id));
      const row = rows[0];
      if (row === undefined) {
        throw new InternalError(`Idempotency key ${id} does not exist.`, { context: { id } });
      }
      return toIdempotencyKey(row);
    },

    async deleteCreatedBefore(cutoff) {
      const rows = await x
        .db()
        .delete(idempotencyKeys)
        .where(lt(idempotencyKeys.createdAt, cutoff))
        .returning({ id: idempotencyKeys.id });
      return rows.length;
    },

    async listResumable(query) {
      const rows = await x
        .db()
        .select()
        .from(idempotencyKeys)
        .where(
          and(
            isNull(idempotencyKeys.responseStatus),
            gte(idempotencyKeys.createdAt, query.createdAfter),
            or(isNull(idempotencyKeys.lockedAt), lt(idempotencyKeys.lockedAt, query.staleBefore)),
            // starts_with, not LIKE: a prefix such as `pay_` would make `_` a wildcard.
            query.resourceIdPrefix === undefined
              ? undefined
              : sql`starts_with(${idempotencyKeys.resourceId}, ${query.resourceIdPrefix})`,
            query.afterId === undefined ? undefined : gt(idempotencyKeys.id, query.afterId),
          ),
        )
        .orderBy(asc(idempotencyKeys.id))
        .limit(query.limit);
      return rows.map(toIdempotencyKey);
    },
  };
}
