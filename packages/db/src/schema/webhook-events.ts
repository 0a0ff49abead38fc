import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, text } from 'drizzle-orm/pg-core';
import { WEBHOOK_EVENT_STATUSES, type WebhookEventId } from '@pay/core';
import { isOneOf, pay, timestamptz } from './columns.js';

/**
 * The durable inbox (DESIGN.md §5): a Stripe event is stored here, raw, before Stripe gets its 200.
 * Stripe event ids are global, so the inbox belongs to no account.
 */
export const webhookEvents = pay.table(
  'webhook_events',
  {
    id: text().$type<WebhookEventId>().primaryKey(),
    // The ON CONFLICT target of the insert: a redelivered event is stored once, applied once.
    stripeEventId: text().notNull().unique('webhook_events_stripe_event_id_unique'),
    type: text().notNull(),
    apiVersion: text(),
    livemode: boolean().notNull(),
    objectId: text(),
    // `text`, not `jsonb`: the bytes exactly as signed, so the signature can be checked again later.
    payload: text().notNull(),
    signatureVerified: boolean().notNull(),
    status: text({ enum: WEBHOOK_EVENT_STATUSES }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamptz().notNull().defaultNow(),
    lastError: text(),
    stripeCreatedAt: timestamptz().notNull(),
    receivedAt: timestamptz().notNull().defaultNow(),
    processedAt: timestamptz(),
  },
  (t) => [
    // The workers' claim query; processed, ignored and dead rows drop out of the index.
    index('webhook_events_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} IN ('pending', 'failed')`),
    // `pay webhook-status --dead` and friends: one status's events, newest first.
    index('webhook_events_status_id_idx').on(t.status, t.id),
    // The oldest pending event, for the processing lag.
    index('webhook_events_pending_created_idx')
      .on(t.stripeCreatedAt)
      .where(sql`${t.status} = 'pending'`),
    check('webhook_events_status_check', isOneOf(t.status, WEBHOOK_EVENT_STATUSES)),
    check('webhook_events_attempts_check', sql`${t.attempts} >= 0`),
  ],
);
