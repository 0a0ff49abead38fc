import { newId } from '@pay/core';
import * as t from '../../src/tables.js';
import type { Db } from '../../src/store.js';
import { seed, unique, type Seed } from '../support/fixtures.js';
import { paymentWithRefund, rows } from './cases.js';
import { CHECK, expectViolation, FOREIGN_KEY, type ConstraintContext } from './context.js';

export function relationTests(c: ConstraintContext): void {
  describe('subscriptions, the inbox and idempotency keys', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    it('rejects a period that ends before it starts, or when it starts', async () => {
      const start = new Date('2026-05-01T00:00:00Z');
      await expectViolation(
        db.insert(t.subscriptions).values(
          rows.subscription(s, {
            currentPeriodStart: start,
            currentPeriodEnd: new Date(start.getTime() - 1),
          }),
        ),
        CHECK,
        'subscriptions_period_check',
      );
      await expectViolation(
        db
          .insert(t.subscriptions)
          .values(rows.subscription(s, { currentPeriodStart: start, currentPeriodEnd: start })),
        CHECK,
        'subscriptions_period_check',
      );
    });
    it('rejects negative dunning attempts', async () => {
      await expectViolation(
        db.insert(t.subscriptions).values(rows.subscription(s, { dunningAttempts: -1 })),
        CHECK,
        'subscriptions_dunning_attempts_check',
      );
    });
    it('rejects negative webhook attempts', async () => {
      await expectViolation(
        db.insert(t.webhookEvents).values(rows.webhookEvent({ attempts: -1 })),
        CHECK,
        'webhook_events_attempts_check',
      );
    });
    it.each([0, 256])('rejects an idempotency key of %i characters (1..255)', async (length) => {
      await expectViolation(
        db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s, { key: 'k'.repeat(length) })),
        CHECK,
        'idempotency_keys_key_check',
      );
    });
    it.each([99, 600])('rejects a stored response status of %i', async (responseStatus) => {
      await expectViolation(
        db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s, { responseStatus })),
        CHECK,
        'idempotency_keys_response_status_check',
      );
    });
    it('rejects an empty customer user id', async () => {
      await expectViolation(
        db.insert(t.customers).values({ id: newId('customer'), accountId: s.account.id, userId: '' }),
        CHECK,
        'customers_user_id_check',
      );
    });
  });

  describe('foreign keys and account isolation', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    const missing = () => newId('account');
    it('rejects rows for an account that does not exist', async () => {
      await expectViolation(
        db.insert(t.customers).values({ id: newId('customer'), accountId: missing(), userId: 'u' }),
        FOREIGN_KEY,
        'customers_account_id_accounts_id_fk',
      );
      await expectViolation(
        db.insert(t.plans).values({
          id: newId('plan'),
          accountId: missing(),
          name: 'p',
          amount: 1,
          currency: 'usd',
          interval: 'month',
        }),
        FOREIGN_KEY,
        'plans_account_id_accounts_id_fk',
      );
      await expectViolation(
        db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s, { accountId: missing() })),
        FOREIGN_KEY,
        'idempotency_keys_account_id_accounts_id_fk',
      );
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { accountId: missing() })),
        FOREIGN_KEY,
        'audit_log_account_id_accounts_id_fk',
      );
      await expectViolation(
        db.insert(t.apiKeys).values({
          id: newId('apiKey'),
          accountId: missing(),
          name: 'k',
          role: 'admin',
          keyHash: unique('h'),
          keyPrefix: 'sk',
        }),
        FOREIGN_KEY,
        'api_keys_account_id_accounts_id_fk',
      );
    });
    it("rejects a payment pointing at another account's customer, card, plan or subscription", async () => {
      const other = await seed(c.repos());
      const theirs = await paymentWithRefund(db, other);
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { customerId: other.customer.id })),
        FOREIGN_KEY,
        'payments_customer_fk',
      );
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { paymentMethodId: other.card.id })),
        FOREIGN_KEY,
        'payments_payment_method_fk',
      );
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { planId: other.plan.id })),
        FOREIGN_KEY,
        'payments_plan_fk',
      );
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { subscriptionId: theirs.subscription.id })),
        FOREIGN_KEY,
        'payments_subscription_fk',
      );
    });
    it("rejects a subscription, card or refund pointing at another account's objects", async () => {
      const other = await seed(c.repos());
      const theirs = await paymentWithRefund(db, other);
      await expectViolation(
        db.insert(t.subscriptions).values(rows.subscription(s, { customerId: other.customer.id })),
        FOREIGN_KEY,
        'subscriptions_customer_fk',
      );
      await expectViolation(
        db.insert(t.subscriptions).values(rows.subscription(s, { planId: other.plan.id })),
        FOREIGN_KEY,
        'subscriptions_plan_fk',
      );
      await expectViolation(
        db.insert(t.subscriptions).values(rows.subscription(s, { paymentMethodId: other.card.id })),
        FOREIGN_KEY,
        'subscriptions_payment_method_fk',
      );
      await expectViolation(
        db.insert(t.paymentMethods).values(rows.paymentMethod(s, { customerId: other.customer.id })),
        FOREIGN_KEY,
        'payment_methods_customer_fk',
      );
      await expectViolation(
        db.insert(t.refunds).values({
          id: newId('refund'),
          accountId: s.account.id,
          paymentId: theirs.payment.id,
          amount: 1,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
        }),
        FOREIGN_KEY,
        'refunds_payment_fk',
      );
    });
  });
}
