import { text, textOrNull, time, timeOrNull, withSql } from './pay-sql.js';

/*
 * pay's inbox and ledger rows as the webhook battery checks them, read with plain read-only SQL (as
 * @pay/reliability reads pay's state): what was stored, in which status, after how many attempts, and
 * which Stripe event caused each ledger row.
 */

/** One row of `pay.webhook_events`, without the payload. */
export interface InboxRow {
  readonly stripeEventId: string;
  readonly type: string;
  readonly status: string;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
}

/** One ledger row (payment or refund) with the Stripe event that caused it, if one did. */
export interface CausedMove {
  readonly table: 'payment_events' | 'refund_events';
  readonly objectId: string;
  readonly seq: number;
  readonly fromStatus: string | null;
  readonly toStatus: string;
  readonly amount: number;
  readonly causeStripeEventId: string | null;
}

/** Every inbox row, oldest first. */
export function readInbox(databaseUrl: string): Promise<InboxRow[]> {
  return withSql(databaseUrl, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT stripe_event_id, type, status, attempts, next_attempt_at, last_error, received_at, processed_at
       FROM pay.webhook_events ORDER BY received_at, id`,
    );
    return rows.map((r) => ({
      stripeEventId: text(r.stripe_event_id, 'stripe_event_id'),
      type: text(r.type, 'type'),
      status: text(r.status, 'status'),
      attempts: Number(r.attempts),
      nextAttemptAt: time(r.next_attempt_at, 'next_attempt_at'),
      lastError: textOrNull(r.last_error, 'last_error'),
      receivedAt: time(r.received_at, 'received_at'),
      processedAt: timeOrNull(r.processed_at, 'processed_at'),
    }));
  });
}

/** One inbox row by Stripe event id, or null. */
export async function readInboxRow(databaseUrl: string, stripeEventId: string): Promise<InboxRow | null> {
  const rows = await readInbox(databaseUrl);
  return rows.find((r) => r.stripeEventId === stripeEventId) ?? null;
}

/** Every payment and refund ledger row with its cause, in write order per object. */
export function readCausedMoves(databaseUrl: string): Promise<CausedMove[]> {
  return withSql(databaseUrl, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT 'payment_events' AS tbl, payment_id AS object_id, seq, from_status, to_status, amount, cause_stripe_event_id
         FROM pay.payment_events
       UNION ALL
       SELECT 'refund_events', refund_id, seq, from_status, to_status, amount, cause_stripe_event_id
         FROM pay.refund_events
       ORDER BY 1, 2, 3`,
    );
    return rows.map((r) => ({
      table: r.tbl === 'refund_events' ? 'refund_events' : 'payment_events',
      objectId: text(r.object_id, 'object_id'),
      // bigint columns arrive as strings from postgres.js; these fit a double exactly.
      seq: Number(r.seq),
      fromStatus: textOrNull(r.from_status, 'from_status'),
      toStatus: text(r.to_status, 'to_status'),
      amount: Number(r.amount),
      causeStripeEventId: textOrNull(r.cause_stripe_event_id, 'cause_stripe_event_id'),
    }));
  });
}
