import {
  PAYMENT_STATUSES,
  REFUND_STATUSES,
  SUBSCRIPTION_STATUSES,
  type PaymentStatus,
  type RefundStatus,
  type SubscriptionStatus,
} from '@pay/core';
import postgres from 'postgres';
import { z } from 'zod';

/*
 * pay's rows as the checkers need them, read with plain SQL from the `pay` schema: the checkers run in
 * a test process beside the API process and must not depend on pay's repositories being right.
 */

// bigint columns arrive as strings from postgres.js; every amount pay stores fits a double exactly.
const minor = z.coerce.number().int();
const id = z.string();
const nullableId = z.string().nullable();

const ZPaymentRow = z.object({
  id,
  account_id: id,
  status: z.enum(PAYMENT_STATUSES),
  amount: minor,
  currency: z.string(),
  amount_refunded: minor,
  stripe_payment_intent_id: nullableId,
});
export type PaymentRow = z.infer<typeof ZPaymentRow>;

const ZRefundRow = z.object({
  id,
  payment_id: id,
  amount: minor,
  currency: z.string(),
  status: z.enum(REFUND_STATUSES),
  stripe_refund_id: nullableId,
});
export type RefundRow = z.infer<typeof ZRefundRow>;

const ZSubscriptionRow = z.object({ id, status: z.enum(SUBSCRIPTION_STATUSES) });
export type SubscriptionRow = z.infer<typeof ZSubscriptionRow>;

/** One ledger row, whichever table: the object it belongs to, the move, the amount it moved. */
function eventRow<S extends readonly [string, ...string[]]>(statuses: S) {
  return z.object({
    object_id: id,
    seq: minor,
    from_status: z.enum(statuses).nullable(),
    to_status: z.enum(statuses),
    amount: minor,
  });
}
const ZPaymentEventRow = eventRow(PAYMENT_STATUSES);
const ZRefundEventRow = eventRow(REFUND_STATUSES);
const ZSubscriptionEventRow = eventRow(SUBSCRIPTION_STATUSES);

/** A ledger row of an object whose statuses are `S`. */
export interface EventRow<S extends string> {
  readonly object_id: string;
  readonly seq: number;
  readonly from_status: S | null;
  readonly to_status: S;
  readonly amount: number;
}

const ZIdempotencyKeyRow = z.object({
  id,
  account_id: id,
  key: z.string(),
  request_path: z.string(),
  recovery_point: z.string(),
  locked_at: z.date().nullable(),
  response_status: z.number().int().nullable(),
  resource_id: nullableId,
});
export type IdempotencyKeyRow = z.infer<typeof ZIdempotencyKeyRow>;

/** Everything the checkers read from pay's database, from one snapshot. */
export interface PayState {
  readonly payments: readonly PaymentRow[];
  readonly refunds: readonly RefundRow[];
  readonly subscriptions: readonly SubscriptionRow[];
  readonly paymentEvents: readonly EventRow<PaymentStatus>[];
  readonly refundEvents: readonly EventRow<RefundStatus>[];
  readonly subscriptionEvents: readonly EventRow<SubscriptionStatus>[];
  readonly idempotencyKeys: readonly IdempotencyKeyRow[];
}

function parseRows<T>(schema: z.ZodType<T>, rows: readonly unknown[], table: string): T[] {
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      throw new Error(`pay.${table} row ${i} is not what the checkers expect: ${parsed.error.message}`);
    }
    return parsed.data;
  });
}

/**
 * Reads pay's state in one read-only REPEATABLE READ transaction, so every table is seen at the same
 * instant even if a worker is still writing.
 */
export async function readPayState(databaseUrl: string): Promise<PayState> {
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => undefined,
    connection: { application_name: 'pay-reliability' },
  });
  try {
    return await sql.begin('isolation level repeatable read read only', async (tx) => {
      const payments = await tx`
        SELECT id, account_id, status, amount, currency, amount_refunded, stripe_payment_intent_id
        FROM pay.payments ORDER BY id`;
      const refunds = await tx`
        SELECT id, payment_id, amount, currency, status, stripe_refund_id FROM pay.refunds ORDER BY id`;
      const subscriptions = await tx`SELECT id, status FROM pay.subscriptions ORDER BY id`;
      const paymentEvents = await tx`
        SELECT payment_id AS object_id, seq, from_status, to_status, amount
        FROM pay.payment_events ORDER BY payment_id, seq`;
      const refundEvents = await tx`
        SELECT refund_id AS object_id, seq, from_status, to_status, amount
        FROM pay.refund_events ORDER BY refund_id, seq`;
      const subscriptionEvents = await tx`
        SELECT subscription_id AS object_id, seq, from_status, to_status, amount
        FROM pay.subscription_events ORDER BY subscription_id, seq`;
      const keys = await tx`
        SELECT id, account_id, key, request_path, recovery_point, locked_at, response_status, resource_id
        FROM pay.idempotency_keys ORDER BY id`;
      return {
        payments: parseRows(ZPaymentRow, payments, 'payments'),
        refunds: parseRows(ZRefundRow, refunds, 'refunds'),
        subscriptions: parseRows(ZSubscriptionRow, subscriptions, 'subscriptions'),
        paymentEvents: parseRows(ZPaymentEventRow, paymentEvents, 'payment_events'),
        refundEvents: parseRows(ZRefundEventRow, refundEvents, 'refund_events'),
        subscriptionEvents: parseRows(ZSubscriptionEventRow, subscriptionEvents, 'subscription_events'),
        idempotencyKeys: parseRows(ZIdempotencyKeyRow, keys, 'idempotency_keys'),
      };
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
