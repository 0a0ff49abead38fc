import { and, asc, count, desc, eq, inArray, lte, max, notInArray, sql } from 'drizzle-orm';
import {
  InternalError,
  WEBHOOK_EVENT_STATUSES,
  newId,
  type NewWebhookEvent,
  type WebhookEvent,
  type WebhookEventRepository,
  type WebhookEventStatus,
} from '@pay/core';
import type { WebhookEventRow } from '../rows.js';
import type { Db, Executor } from '../store.js';
import { DeliveryBatcher, type StoredDelivery } from './delivery-batcher.js';
import { webhookEvents } from '../tables.js';
import { firstOrNull, olderThan, pageFetchSize, toPage } from './shared.js';

const toWebhookEvent = (row: WebhookEventRow): WebhookEvent => ({
  id: row.id,
  stripeEventId: row.stripeEventId,
  type: row.type,
  apiVersion: row.apiVersion,
  livemode: row.livemode,
  objectId: row.objectId,
  payload: row.payload,
  signatureVerified: row.signatureVerified,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.nextAttemptAt,
  lastError: row.lastError,
  stripeCreatedAt: row.stripeCreatedAt,
  receivedAt: row.receivedAt,
  processedAt: row.processedAt,
});

/**
 * Stores deliveries, each Stripe id once. Stripe delivers at least once and may redeliver while the
 * first delivery is still being stored: ON CONFLICT DO NOTHING makes the second INSERT wait for the
 * first to commit and then store nothing; under READ COMMITTED the following SELECT (a new snapshot)
 * sees the winner.
 */
async function storeDeliveries(
  db: Db,
  inputs: readonly NewWebhookEvent[],
): Promise<ReadonlyMap<string, StoredDelivery>> {
  const inserted = await db
    .insert(webhookEvents)
    .values(
      inputs.map((input) => ({
        id: newId('webhookEvent', input.receivedAt),
        stripeEventId: input.stripeEventId,
        type: input.type,
        apiVersion: input.apiVersion,
        livemode: input.livemode,
        objectId: input.objectId,
        payload: input.payload,
        signatureVerified: input.signatureVerified,
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: input.receivedAt,
        stripeCreatedAt: input.stripeCreatedAt,
        receivedAt: input.receivedAt,
      })),
    )
    .onConflictDoNothing({ target: webhookEvents.stripeEventId })
    .returning();
  const stored = new Map<string, StoredDelivery>(
    inserted.map((row) => [row.stripeEventId, { event: toWebhookEvent(row), inserted: true }]),
  );
  const known = inputs.map((input) => input.stripeEventId).filter((id) => !stored.has(id));
  if (known.length > 0) {
    const rows = await db.select().from(webhookEvents).where(inArray(webhookEvents.stripeEventId, known));
    for (const row of rows) {
      stored.set(row.stripeEventId, { event: toWebhookEvent(row), inserted: false });
    }
  }
  return stored;
}

/** The answer for `input` out of a batch's answers. */
function only(input: NewWebhookEvent): (stored: ReadonlyMap<string, StoredDelivery>) => StoredDelivery {
  return (stored) => {
    const result = stored.get(input.stripeEventId);
    if (result === undefined) {
      throw new InternalError('A webhook event conflicted on its Stripe id but cannot be read back.', {
        context: { stripeEventId: input.stripeEventId },
      });
    }
    return result;
  };
}

export function createWebhookEventRepository(x: Executor): WebhookEventRepository {
  // Deliveries through the root repositories (the webhook route) are group-committed; inside a
  // transaction a delivery is stored by that transaction, alone.
  const batcher = x.root ? new DeliveryBatcher((inputs) => storeDeliveries(x.db(), inputs)) : null;
  return {
    insert(input) {
      return batcher === null ? storeDeliveries(x.db(), [input]).then(only(input)) : batcher.store(input);
    },

    async findByStripeId(stripeEventId) {
      const rows = await x
        .db()
        .select()
        .from(webhookEvents)
        .where(eq(webhookEvents.stripeEventId, stripeEventId));
      return firstOrNull(rows, toWebhookEvent);
    },

    async claimDue(now, limit) {
      // FOR UPDATE SKIP LOCKED: each worker locks a disjoint batch and never waits on another's rows,
      // so N workers drain the inbox in parallel and a slow handler stalls only its own events. The
      // status predicate is written as the partial index's is (literals, not parameters) so the
      // planner can use webhook_events_due_idx for prepared statements too.
      const rows = await x
        .db()
        .select()
        .from(webhookEvents)
        .where(
          and(sql`${webhookEvents.status} IN ('pending', 'failed')`, lte(webhookEvents.nextAttemptAt, now)),
        )
        .orderBy(asc(webhookEvents.nextAttemptAt), asc(webhookEvents.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      return rows.map(toWebhookEvent);
    },

    async ignoreDueUnhandled(now, handledTypes, limit) {
      // The same due order, partial index and SKIP LOCKED as claimDue, so a batch never waits on a row
      // another worker holds (a handled event it is applying, or another batch).
      const due = x
        .db()
        .select({ id: webhookEvents.id })
        .from(webhookEvents)
        .where(
          and(
            sql`${webhookEvents.status} IN ('pending', 'failed')`,
            lte(webhookEvents.nextAttemptAt, now),
            notInArray(webhookEvents.type, [...handledTypes]),
          ),
        )
        .orderBy(asc(webhookEvents.nextAttemptAt), asc(webhookEvents.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      return await x
        .db()
        .update(webhookEvents)
        .set({ status: 'ignored', processedAt: now, attempts: sql`${webhookEvents.attempts} + 1` })
        .where(inArray(webhookEvents.id, due))
        .returning({
          id: webhookEvents.id,
          stripeEventId: webhookEvents.stripeEventId,
          type: webhookEvents.type,
          stripeCreatedAt: webhookEvents.stripeCreatedAt,
        });
    },

    async markProcessed(id, at, status) {
      await x
        .db()
        .update(webhookEvents)
        .set({ status, processedAt: at, attempts: sql`${webhookEvents.attempts} + 1` })
        .where(eq(webhookEvents.id, id));
    },

    async markFailed(id, failure) {
      await x
        .db()
        .update(webhookEvents)
        .set({
          status: failure.dead ? 'dead' : 'failed',
          attempts: sql`${webhookEvents.attempts} + 1`,
          nextAttemptAt: failure.nextAttemptAt,
          lastError: failure.error,
        })
        .where(eq(webhookEvents.id, id));
    },

    async countByStatus() {
      const rows = await x
        .db()
        .select({ status: webhookEvents.status, n: count() })
        .from(webhookEvents)
        .groupBy(webhookEvents.status);
      const counts = Object.fromEntries(WEBHOOK_EVENT_STATUSES.map((status) => [status, 0])) as Record<
        WebhookEventStatus,
        number
      >;
      for (const row of rows) {
        counts[row.status] = row.n;
      }
      return counts;
    },

    async claimById(id) {
      // No due-time condition: the worker that deferred the event to fetch for it takes it back early.
      const rows = await x
        .db()
        .select()
        .from(webhookEvents)
        .where(and(eq(webhookEvents.id, id), sql`${webhookEvents.status} IN ('pending', 'failed')`))
        .for('update', { skipLocked: true });
      return firstOrNull(rows, toWebhookEvent);
    },

    async defer(id, until) {
      await x.db().update(webhookEvents).set({ nextAttemptAt: until }).where(eq(webhookEvents.id, id));
    },

    async listByStatus(status, page) {
      const rows = await x
        .db()
        .select()
        .from(webhookEvents)
        .where(and(eq(webhookEvents.status, status), olderThan(webhookEvents.id, page)))
        .orderBy(desc(webhookEvents.id))
        .limit(pageFetchSize(page));
      return toPage(rows, page, toWebhookEvent);
    },

    async oldestPending() {
      const rows = await x
        .db()
        .select()
        .from(webhookEvents)
        .where(sql`${webhookEvents.status} = 'pending'`)
        .orderBy(asc(webhookEvents.stripeCreatedAt), asc(webhookEvents.id))
        .limit(1);
      return firstOrNull(rows, toWebhookEvent);
    },

    async requeue(id, now) {
      const rows = await x
        .db()
        .update(webhookEvents)
        .set({ status: 'pending', nextAttemptAt: now, attempts: 0, processedAt: null })
        .where(eq(webhookEvents.id, id))
        .returning();
      return firstOrNull(rows, toWebhookEvent);
    },

    async requeueDead(now) {
      const rows = await x
        .db()
        .update(webhookEvents)
        .set({ status: 'pending', nextAttemptAt: now, attempts: 0, processedAt: null })
        .where(eq(webhookEvents.status, 'dead'))
        .returning({ id: webhookEvents.id });
      return rows.length;
    },

    async newestStripeCreatedAt() {
      // A scan of the inbox, once per recovery pass: no index leads with stripe_created_at.
      const rows = await x
        .db()
        .select({ newest: max(webhookEvents.stripeCreatedAt) })
        .from(webhookEvents);
      return rows[0]?.newest ?? null;
    },
  };
}
