import { newId } from '@pay/core';
import type { PaymentRow, RefundRow, SubscriptionRow } from '../../src/rows.js';
import type { Db } from '../../src/store.js';
import * as t from '../../src/tables.js';
import { unique, type Seed } from '../support/fixtures.js';

/*
 * Valid rows for every table, built on a seed, and the bad variants the database must reject. Each
 * case names the rule it proves and the constraint that must fire, so a row rejected for some other
 * reason (a typo in the fixture, say) fails the test instead of passing it.
 */

type Values<T extends keyof typeof t> = (typeof t)[T]['$inferInsert'];

export const rows = {
  payment: (s: Seed, o: Partial<Values<'payments'>> = {}): Values<'payments'> => ({
    id: newId('payment'),
    accountId: s.account.id,
    customerId: s.customer.id,
    paymentMethodId: s.card.id,
    billingReason: 'manual',
    amount: 1_000,
    currency: 'usd',
    stripeIdempotencyKey: unique('idem'),
    ...o,
  }),
  subscription: (s: Seed, o: Partial<Values<'subscriptions'>> = {}): Values<'subscriptions'> => ({
    id: newId('subscription'),
    accountId: s.account.id,
    customerId: s.customer.id,
    planId: s.plan.id,
    status: 'active',
    currentPeriodStart: new Date('2026-01-01T00:00:00Z'),
    currentPeriodEnd: new Date('2026-02-01T00:00:00Z'),
    ...o,
  }),
  paymentMethod: (s: Seed, o: Partial<Values<'paymentMethods'>> = {}): Values<'paymentMethods'> => ({
    id: newId('paymentMethod'),
    accountId: s.account.id,
    customerId: s.customer.id,
    stripePaymentMethodId: unique('pm'),
    brand: 'visa',
    last4: '4242',
    expMonth: 12,
    expYear: 2030,
    ...o,
  }),
  webhookEvent: (o: Partial<Values<'webhookEvents'>> = {}): Values<'webhookEvents'> => ({
    id: newId('webhookEvent'),
    stripeEventId: unique('evt'),
    type: 'charge.refunded',
    livemode: false,
    payload: '{}',
    signatureVerified: true,
    stripeCreatedAt: new Date(),
    ...o,
  }),
  idempotencyKey: (s: Seed, o: Partial<Values<'idempotencyKeys'>> = {}): Values<'idempotencyKeys'> => ({
    id: newId('idempotencyKey'),
    accountId: s.account.id,
    key: unique('key'),
    requestMethod: 'POST',
    requestPath: '/api/v1/payments',
    paramsHash: 'h',
    ...o,
  }),
  audit: (s: Seed, o: Partial<Values<'auditLog'>> = {}): Values<'auditLog'> => ({
    id: newId('auditEntry'),
    accountId: s.account.id,
    actorType: 'system',
    actorId: 'worker',
    action: 'test',
    ...o,
  }),
};

/** A payment row in the database, plus a refund of it: the parents ledger rows point at. */
/** The rows ledger rows point at. */
export interface Parents {
  payment: PaymentRow;
  refund: RefundRow;
  subscription: SubscriptionRow;
}

export async function paymentWithRefund(db: Db, s: Seed): Promise<Parents> {
  const [payment] = await db.insert(t.payments).values(rows.payment(s)).returning();
  if (payment === undefined) {
    throw new Error('setup: payment not inserted');
  }
  const [refund] = await db
    .insert(t.refunds)
    .values({
      id: newId('refund'),
      accountId: s.account.id,
      paymentId: payment.id,
      amount: 100,
      currency: 'usd',
      status: 'pending',
      origin: 'pay',
    })
    .returning();
  if (refund === undefined) {
    throw new Error('setup: refund not inserted');
  }
  const [subscription] = await db.insert(t.subscriptions).values(rows.subscription(s)).returning();
  if (subscription === undefined) {
    throw new Error('setup: subscription not inserted');
  }
  return { payment, refund, subscription };
}

/** Which ledger table a case writes, and a valid row of it for the given parents. */
export const ledgers = {
  payment_events: {
    table: t.paymentEvents,
    row: (s: Seed, p: Parents): Values<'paymentEvents'> => ({
      id: newId('paymentEvent'),
      accountId: s.account.id,
      paymentId: p.payment.id,
      fromStatus: null,
      toStatus: 'pending',
      amount: 0,
      causeJob: 'test',
    }),
  },
  subscription_events: {
    table: t.subscriptionEvents,
    row: (s: Seed, p: Parents): Values<'subscriptionEvents'> => ({
      id: newId('subscriptionEvent'),
      accountId: s.account.id,
      subscriptionId: p.subscription.id,
      fromStatus: null,
      toStatus: 'active',
      amount: 0,
      causeJob: 'test',
    }),
  },
  refund_events: {
    table: t.refundEvents,
    row: (s: Seed, p: Parents): Values<'refundEvents'> => ({
      id: newId('refundEvent'),
      accountId: s.account.id,
      refundId: p.refund.id,
      fromStatus: null,
      toStatus: 'pending',
      amount: 0,
      causeJob: 'test',
    }),
  },
} as const;
