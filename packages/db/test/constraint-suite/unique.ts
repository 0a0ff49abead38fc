import { newId } from '@pay/core';
import * as t from '../../src/tables.js';
import type { Db } from '../../src/store.js';
import { unique, type Seed } from '../support/fixtures.js';
import { paymentWithRefund, rows } from './cases.js';
import { expectViolation, UNIQUE, type ConstraintContext } from './context.js';

export function uniqueTests(c: ConstraintContext): void {
  describe('unique Stripe ids and keys', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    it('rejects a second payment with the same PaymentIntent id', async () => {
      const pi = unique('pi');
      await db.insert(t.payments).values(rows.payment(s, { stripePaymentIntentId: pi }));
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { stripePaymentIntentId: pi })),
        UNIQUE,
        'payments_stripe_payment_intent_id_unique',
      );
    });
    it('rejects a second payment with the same Stripe idempotency key', async () => {
      const key = unique('idem');
      await db.insert(t.payments).values(rows.payment(s, { stripeIdempotencyKey: key }));
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { stripeIdempotencyKey: key })),
        UNIQUE,
        'payments_stripe_idempotency_key_unique',
      );
    });
    it('rejects a second refund with the same Stripe refund id', async () => {
      const { payment } = await paymentWithRefund(db, s);
      const refund = () => ({
        id: newId('refund'),
        accountId: s.account.id,
        paymentId: payment.id,
        amount: 1,
        currency: 'usd' as const,
        status: 'succeeded' as const,
        origin: 'stripe' as const,
        stripeRefundId: 're_same' + s.account.id,
      });
      await db.insert(t.refunds).values(refund());
      await expectViolation(db.insert(t.refunds).values(refund()), UNIQUE, 'refunds_stripe_refund_id_unique');
    });
    it('rejects a second refund with the same Stripe idempotency key', async () => {
      const { payment } = await paymentWithRefund(db, s);
      const refund = () => ({
        id: newId('refund'),
        accountId: s.account.id,
        paymentId: payment.id,
        amount: 1,
        currency: 'usd' as const,
        status: 'pending' as const,
        origin: 'pay' as const,
        stripeIdempotencyKey: 'rk_' + s.account.id,
      });
      await db.insert(t.refunds).values(refund());
      await expectViolation(
        db.insert(t.refunds).values(refund()),
        UNIQUE,
        'refunds_stripe_idempotency_key_unique',
      );
    });
    it('rejects a second customer with the same Stripe customer id', async () => {
      const cus = unique('cus');
      await db.insert(t.customers).values({
        id: newId('customer'),
        accountId: s.account.id,
        userId: unique('u'),
        stripeCustomerId: cus,
      });
      await expectViolation(
        db.insert(t.customers).values({
          id: newId('customer'),
          accountId: s.account.id,
          userId: unique('u'),
          stripeCustomerId: cus,
        }),
        UNIQUE,
        'customers_stripe_customer_id_unique',
      );
    });
    it('rejects a second customer for the same (account, user id)', async () => {
      await expectViolation(
        db
          .insert(t.customers)
          .values({ id: newId('customer'), accountId: s.account.id, userId: s.customer.userId }),
        UNIQUE,
        'customers_account_id_user_id_unique',
      );
    });
    it('rejects a second payment method with the same Stripe id', async () => {
      await expectViolation(
        db
          .insert(t.paymentMethods)
          .values(rows.paymentMethod(s, { stripePaymentMethodId: s.card.stripePaymentMethodId })),
        UNIQUE,
        'payment_methods_stripe_payment_method_id_unique',
      );
    });
    it('rejects a second webhook event with the same Stripe event id', async () => {
      const evt = unique('evt');
      await db.insert(t.webhookEvents).values(rows.webhookEvent({ stripeEventId: evt }));
      await expectViolation(
        db.insert(t.webhookEvents).values(rows.webhookEvent({ stripeEventId: evt })),
        UNIQUE,
        'webhook_events_stripe_event_id_unique',
      );
    });
    it('rejects a second idempotency key with the same (account, key)', async () => {
      await db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s, { key: 'same' }));
      await expectViolation(
        db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s, { key: 'same' })),
        UNIQUE,
        'idempotency_keys_account_id_key_unique',
      );
    });
    it('rejects a second API key with the same hash', async () => {
      const key = () => ({
        id: newId('apiKey'),
        accountId: s.account.id,
        name: 'k',
        role: 'service' as const,
        keyHash: 'hash_' + s.account.id,
        keyPrefix: 'sk',
      });
      await db.insert(t.apiKeys).values(key());
      await expectViolation(db.insert(t.apiKeys).values(key()), UNIQUE, 'api_keys_key_hash_unique');
    });
  });
}
