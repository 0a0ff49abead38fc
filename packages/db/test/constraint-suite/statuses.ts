import { newId } from '@pay/core';
import * as t from '../../src/tables.js';
import type { Db } from '../../src/store.js';
import { unique, type Seed } from '../support/fixtures.js';
import { paymentWithRefund, rows } from './cases.js';
import { CHECK, expectViolation, unchecked, type ConstraintContext } from './context.js';

export function statusTests(c: ConstraintContext): void {
  describe('statuses and enumerations (TEXT + CHECK)', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    it("rejects the payment status 'cancelled' (pay spells it canceled)", async () => {
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { status: unchecked('cancelled') })),
        CHECK,
        'payments_status_check',
      );
    });
    it('rejects an unknown billing reason', async () => {
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { billingReason: unchecked('gift') })),
        CHECK,
        'payments_billing_reason_check',
      );
    });
    it('rejects an unknown subscription status', async () => {
      await expectViolation(
        db.insert(t.subscriptions).values(rows.subscription(s, { status: unchecked('paused') })),
        CHECK,
        'subscriptions_status_check',
      );
    });
    it('rejects an unknown refund status and origin', async () => {
      const { payment } = await paymentWithRefund(db, s);
      const refund = {
        id: newId('refund'),
        accountId: s.account.id,
        paymentId: payment.id,
        amount: 1,
        currency: 'usd' as const,
      };
      await expectViolation(
        db.insert(t.refunds).values({ ...refund, status: unchecked('done'), origin: 'pay' }),
        CHECK,
        'refunds_status_check',
      );
      await expectViolation(
        db
          .insert(t.refunds)
          .values({ ...refund, id: newId('refund'), status: 'pending', origin: unchecked('bank') }),
        CHECK,
        'refunds_origin_check',
      );
    });
    it('rejects an unknown webhook event status', async () => {
      await expectViolation(
        db.insert(t.webhookEvents).values(rows.webhookEvent({ status: unchecked('done') })),
        CHECK,
        'webhook_events_status_check',
      );
    });
    it('rejects an unknown dispute status and a dispute of no amount', async () => {
      const { payment } = await paymentWithRefund(db, s);
      const dispute = {
        id: newId('dispute'),
        accountId: s.account.id,
        paymentId: payment.id,
        stripeDisputeId: unique('dp'),
        stripeChargeId: unique('ch'),
        amount: 100,
        currency: 'usd' as const,
        reason: 'fraudulent',
        stripeCreatedAt: new Date(),
        stripeUpdatedAt: new Date(),
      };
      await expectViolation(
        db.insert(t.disputes).values({ ...dispute, status: unchecked('open') }),
        CHECK,
        'disputes_status_check',
      );
      await expectViolation(
        db.insert(t.disputes).values({ ...dispute, status: 'needs_response', amount: 0 }),
        CHECK,
        'disputes_amount_check',
      );
    });
    it('rejects an unknown API key role, plan interval and audit actor type', async () => {
      await expectViolation(
        db.insert(t.apiKeys).values({
          id: newId('apiKey'),
          accountId: s.account.id,
          name: 'k',
          role: unchecked('root'),
          keyHash: unique('h'),
          keyPrefix: 'sk',
        }),
        CHECK,
        'api_keys_role_check',
      );
      await expectViolation(
        db.insert(t.plans).values({
          id: newId('plan'),
          accountId: s.account.id,
          name: 'p',
          amount: 1,
          currency: 'usd',
          interval: unchecked('week'),
        }),
        CHECK,
        'plans_interval_check',
      );
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { actorType: unchecked('robot') })),
        CHECK,
        'audit_log_actor_type_check',
      );
    });
  });

  describe('cards (never a card number)', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    it.each(['424', '42424', '4242424242424242', '42a2', ''])(
      'rejects last4 %p (exactly four digits)',
      async (last4) => {
        await expectViolation(
          db.insert(t.paymentMethods).values(rows.paymentMethod(s, { last4 })),
          CHECK,
          'payment_methods_last4_check',
        );
      },
    );
    it.each([0, 13])('rejects exp_month %i (1..12)', async (expMonth) => {
      await expectViolation(
        db.insert(t.paymentMethods).values(rows.paymentMethod(s, { expMonth })),
        CHECK,
        'payment_methods_exp_month_check',
      );
    });
    it.each([1999, 2201, 34])('rejects exp_year %i (a four-digit year, 2000..2200)', async (expYear) => {
      await expectViolation(
        db.insert(t.paymentMethods).values(rows.paymentMethod(s, { expYear })),
        CHECK,
        'payment_methods_exp_year_check',
      );
    });
  });
}
