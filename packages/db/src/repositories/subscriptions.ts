import { and, asc, count, desc, eq, lt, lte, sql } from 'drizzle-orm';
import {
  SUBSCRIPTION_STATUSES,
  assertTransition,
  newId,
  type Subscription,
  type SubscriptionEvent,
  type SubscriptionPatch,
  type SubscriptionRepository,
  type SubscriptionStatus,
} from '@pay/core';
import type { SubscriptionEventRow, SubscriptionRow } from '../rows.js';
import type { Executor } from '../store.js';
import { plans, subscriptionEvents, subscriptions } from '../tables.js';
import { toPlan } from './plans.js';
import { firstOrNull, olderThan, pageFetchSize, single, toCause, toPage, ledgerColumns } from './shared.js';

const toSubscription = (row: SubscriptionRow): Subscription => ({
  id: row.id,
  accountId: row.accountId,
  customerId: row.customerId,
  planId: row.planId,
  paymentMethodId: row.paymentMethodId,
  status: row.status,
  currentPeriodStart: row.currentPeriodStart,
  currentPeriodEnd: row.currentPeriodEnd,
  nextBillingAt: row.nextBillingAt,
  cancelAtPeriodEnd: row.cancelAtPeriodEnd,
  canceledAt: row.canceledAt,
  endedAt: row.endedAt,
  dunningAttempts: row.dunningAttempts,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toSubscriptionEvent = (row: SubscriptionEventRow): SubscriptionEvent => ({
  id: row.id,
  subscriptionId: row.subscriptionId,
  accountId: row.accountId,
  fromStatus: row.fromStatus,
  toStatus: row.toStatus,
  amount: row.amount,
  cause: toCause(row),
  createdAt: row.createdAt,
});

function patchColumns(patch: SubscriptionPatch = {}) {
  return {
    paymentMethodId: patch.paymentMethodId,
    currentPeriodStart: patch.currentPeriodStart,
    currentPeriodEnd: patch.currentPeriodEnd,
    nextBillingAt: patch.nextBillingAt,
    cancelAtPeriodEnd: patch.cancelAtPeriodEnd,
    canceledAt: patch.canceledAt,
    endedAt: patch.endedAt,
    dunningAttempts: patch.dunningAttempts,
  };
}

export function createSubscriptionRepository(x: Executor): SubscriptionRepository {
  return {
    async create(input, cause) {
      const now = new Date();
      const id = input.id ?? newId('subscription', now);
      return x.atomic(async (db) => {
        // Both INSERTs go out in one round trip, as payments.create's do.
        const [rows] = await Promise.all([
          db
            .insert(subscriptions)
            .values({
              id,
              accountId: input.accountId,
              customerId: input.customerId,
              planId: input.planId,
              paymentMethodId: input.paymentMethodId ?? null,
              status: input.status,
              currentPeriodStart: input.currentPeriodStart,
              currentPeriodEnd: input.currentPeriodEnd,
              nextBillingAt: input.nextBillingAt,
              createdAt: now,
              updatedAt: now,
            })
            .returning(),
          db.insert(subscriptionEvents).values({
            id: newId('subscriptionEvent', now),
            subscriptionId: id,
            ...ledgerColumns({ accountId: input.accountId, from: null, to: input.status, cause, at: now }),
          }),
        ]);
        return toSubscription(single(rows, 'INSERT subscriptions'));
      });
    },

    async findById(accountId, id) {
      const rows = await x
        .db()
        .select()
        .from(subscriptions)
        .where(and(eq(subscriptions.id, id), eq(subscriptions.accountId, accountId)));
      return firstOrNull(rows, toSubscription);
    },

    async findWithPlan(accountId, id) {
      const rows = await x
        .db()
        .select({ subscription: subscriptions, plan: plans })
        .from(subscriptions)
        .innerJoin(
          plans,
          and(eq(plans.id, subscriptions.planId), eq(plans.accountId, subscriptions.accountId)),
        )
        .where(and(eq(subscriptions.id, id), eq(subscriptions.accountId, accountId)));
      return firstOrNull(rows, (row) => ({
        subscription: toSubscription(row.subscription),
        plan: toPlan(row.plan),
      }));
    },

    async lockById(id) {
      const rows = await x.db().select().from(subscriptions).where(eq(subscriptions.id, id)).for('update');
      return firstOrNull(rows, toSubscription);
    },

    async transition(id, change, cause) {
      // `from === to` is the port's way to change fields (a renewal moves the period) with an event
      // row but no status change; the state machine only rules on real moves.
      if (change.from !== change.to) {
        assertTransition('subscription', change.from, change.to);
      }
      const now = new Date();
      return x.atomic(async (db) => {
        // Compare-and-set: the renewal job, a webhook and a cancel request may race on one
        // subscription. Only the writer whose `from` still matches moves it; the rest get null and
        // re-read, so a renewal can never resurrect a subscription canceled a moment earlier.
        const rows = await db
          .update(subscriptions)
          .set({ ...patchColumns(change.patch), status: change.to, updatedAt: now })
          .where(and(eq(subscriptions.id, id), eq(subscriptions.status, change.from)))
          .returning();
        const subscription = rows[0];
        if (subscription === undefined) {
          return null;
        }
        await db.insert(subscriptionEvents).values({
          id: newId('subscriptionEvent', now),
          subscriptionId: subscription.id,
          ...ledgerColumns({
            accountId: subscription.accountId,
            from: change.from,
            to: change.to,
            amount: change.amount,
            cause,
            at: now,
          }),
        });
        return toSubscription(subscription);
      });
    },

    async listDue(now, limit) {
      // The status predicate is spelled exactly as the partial index's (literals, not parameters),
      // so the planner can use subscriptions_next_billing_at_idx even for a generic prepared plan.
      const rows = await x
        .db()
        .select()
        .from(subscriptions)
        .where(
          and(sql`${subscriptions.status} IN ('active', 'past_due')`, lte(subscriptions.nextBillingAt, now)),
        )
        .orderBy(asc(subscriptions.nextBillingAt), asc(subscriptions.id))
        .limit(limit);
      return rows.map(toSubscription);
    },

    async list(accountId, page) {
      const rows = await x
        .db()
        .select()
        .from(subscriptions)
        .where(and(eq(subscriptions.accountId, accountId), olderThan(subscriptions.id, page)))
        .orderBy(desc(subscriptions.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toSubscription);
    },

    async listEvents(subscriptionId) {
      const rows = await x
        .db()
        .select()
        .from(subscriptionEvents)
        .where(eq(subscriptionEvents.subscriptionId, subscriptionId))
        .orderBy(asc(subscriptionEvents.seq));
      return rows.map(toSubscriptionEvent);
    },

    async listByCustomer(accountId, customerId, page) {
      const rows = await x
        .db()
        .select()
        .from(subscriptions)
        .where(
          and(
            eq(subscriptions.accountId, accountId),
            eq(subscriptions.customerId, customerId),
            olderThan(subscriptions.id, page),
          ),
        )
        .orderBy(desc(subscriptions.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toSubscription);
    },

    async countByStatus() {
      const rows = await x
        .db()
        .select({ status: subscriptions.status, n: count() })
        .from(subscriptions)
        .groupBy(subscriptions.status);
      const counts = Object.fromEntries(SUBSCRIPTION_STATUSES.map((status) => [status, 0])) as Record<
        SubscriptionStatus,
        number
      >;
      for (const row of rows) {
        counts[row.status] = row.n;
      }
      return counts;
    },

    async listIncompleteCreatedBefore(createdBefore, limit) {
      const rows = await x
        .db()
        .select()
        .from(subscriptions)
        .where(and(eq(subscriptions.status, 'incomplete'), lt(subscriptions.createdAt, createdBefore)))
        .orderBy(asc(subscriptions.createdAt), asc(subscriptions.id))
        .limit(limit);
      return rows.map(toSubscription);
    },
  };
}
