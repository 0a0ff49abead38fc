import { and, desc, eq } from 'drizzle-orm';
import { newId, type Plan, type PlanRepository } from '@pay/core';
import type { PlanRow } from '../rows.js';
import type { Executor } from '../store.js';
import { plans } from '../tables.js';
import { firstOrNull, olderThan, pageFetchSize, single, toPage } from './shared.js';

export const toPlan = (row: PlanRow): Plan => ({
  id: row.id,
  accountId: row.accountId,
  name: row.name,
  amount: row.amount,
  currency: row.currency,
  interval: row.interval,
  active: row.active,
  createdAt: row.createdAt,
});

export function createPlanRepository(x: Executor): PlanRepository {
  return {
    async create(input) {
      const now = new Date();
      const rows = await x
        .db()
        .insert(plans)
        .values({
          id: newId('plan', now),
          accountId: input.accountId,
          name: input.name,
          amount: input.amount,
          currency: input.currency,
          interval: input.interval,
          createdAt: now,
        })
        .returning();
      return toPlan(single(rows, 'INSERT plans'));
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(plans)
        .where(and(eq(plans.id, id), eq(plans.accountId, accountId)));
      return firstOrNull(rows, toPlan);
    },

    async list(accountId, page) {
      const rows = await x
        .db()
        .select()
        .from(plans)
        .where(and(eq(plans.accountId, accountId), olderThan(plans.id, page)))
        .orderBy(desc(plans.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toPlan);
    },
  };
}
