import { and, desc, eq } from 'drizzle-orm';
import { newId, type AuditEntry, type AuditLogRepository } from '@pay/core';
import type { AuditEntryRow } from '../rows.js';
import type { Executor } from '../store.js';
import { auditLog } from '../tables.js';
import { olderThan, pageFetchSize, single, toPage } from './shared.js';

const toAuditEntry = (row: AuditEntryRow): AuditEntry => ({
  id: row.id,
  accountId: row.accountId,
  actorType: row.actorType,
  actorId: row.actorId,
  action: row.action,
  targetType: row.targetType,
  targetId: row.targetId,
  amount: row.amount,
  currency: row.currency,
  details: row.details,
  requestId: row.requestId,
  createdAt: row.createdAt,
});

export function createAuditLogRepository(x: Executor): AuditLogRepository {
  return {
    async append(input) {
      const now = new Date();
      const rows = await x
        .db()
        .insert(auditLog)
        .values({
          id: newId('auditEntry', now),
          accountId: input.accountId,
          actorType: input.actorType,
          actorId: input.actorId,
          action: input.action,
          targetType: input.targetType ?? null,
          targetId: input.targetId ?? null,
          amount: input.amount ?? null,
          currency: input.currency ?? null,
          details: input.details ?? {},
          requestId: input.requestId ?? null,
          createdAt: now,
        })
        .returning();
      return toAuditEntry(single(rows, 'INSERT audit_log'));
    },

    async list(accountId, page) {
      const rows = await x
        .db()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.accountId, accountId), olderThan(auditLog.id, page)))
        .orderBy(desc(auditLog.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toAuditEntry);
    },
  };
}
