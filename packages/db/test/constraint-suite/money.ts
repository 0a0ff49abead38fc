import { eq } from 'drizzle-orm';
import { newId } from '@pay/core';
import * as t from '../../src/tables.js';
import type { Db } from '../../src/store.js';
import { type Seed } from '../support/fixtures.js';
import { paymentWithRefund, rows } from './cases.js';
import { CHECK, expectViolation, unchecked, type ConstraintContext } from './context.js';

export function moneyTests(c: ConstraintContext): void {
  describe('money', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    it.each([0, -1])('rejects a payment amount of %i (amount > 0)', async (amount) => {
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { amount })),
        CHECK,
        'payments_amount_check',
      );
    });
    it('rejects amount_refunded above the amount (refunds never exceed the capture)', async () => {
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { amount: 100, amountRefunded: 101 })),
        CHECK,
        'payments_amount_refunded_check',
      );
    });
    it('rejects a negative amount_refunded', async () => {
      await expectViolation(
        db.insert(t.payments).values(rows.payment(s, { amountRefunded: -1 })),
        CHECK,
        'payments_amount_refunded_check',
      );
    });
    it('rejects raising amount_refunded past the amount on an existing payment', async () => {
      const { payment } = await paymentWithRefund(db, s);
      await expectViolation(
        db
          .update(t.payments)
          .set({ amountRefunded: payment.amount + 1 })
          .where(eq(t.payments.id, payment.id)),
        CHECK,
        'payments_amount_refunded_check',
      );
    });
    it.each(['USD', 'us', 'usdx', '12a'])(
      'rejects the payment currency %p (three lowercase letters)',
      async (currency) => {
        await expectViolation(
          db.insert(t.payments).values(rows.payment(s, { currency: unchecked(currency) })),
          CHECK,
          'payments_currency_check',
        );
      },
    );
    it('rejects a plan amount of 0', async () => {
      await expectViolation(
        db.insert(t.plans).values({
          id: newId('plan'),
          accountId: s.account.id,
          name: 'free',
          amount: 0,
          currency: 'usd',
          interval: 'month',
        }),
        CHECK,
        'plans_amount_check',
      );
    });
    it('rejects a plan currency in capitals', async () => {
      await expectViolation(
        db.insert(t.plans).values({
          id: newId('plan'),
          accountId: s.account.id,
          name: 'p',
          amount: 1,
          currency: unchecked('EUR'),
          interval: 'month',
        }),
        CHECK,
        'plans_currency_check',
      );
    });
    it('rejects a refund amount of 0', async () => {
      const { payment } = await paymentWithRefund(db, s);
      await expectViolation(
        db.insert(t.refunds).values({
          id: newId('refund'),
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 0,
          currency: 'usd',
          status: 'pending',
          origin: 'pay',
        }),
        CHECK,
        'refunds_amount_check',
      );
    });
    it('rejects a refund currency that is not a code', async () => {
      const { payment } = await paymentWithRefund(db, s);
      await expectViolation(
        db.insert(t.refunds).values({
          id: newId('refund'),
          accountId: s.account.id,
          paymentId: payment.id,
          amount: 1,
          currency: unchecked('$'),
          status: 'pending',
          origin: 'pay',
        }),
        CHECK,
        'refunds_currency_check',
      );
    });
    it('rejects an audit amount without a currency, and a currency without an amount', async () => {
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { amount: 5 })),
        CHECK,
        'audit_log_money_check',
      );
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { currency: 'usd' })),
        CHECK,
        'audit_log_money_check',
      );
    });
    it('rejects a negative audit amount and a malformed audit currency', async () => {
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { amount: -5, currency: 'usd' })),
        CHECK,
        'audit_log_amount_check',
      );
      await expectViolation(
        db.insert(t.auditLog).values(rows.audit(s, { amount: 5, currency: unchecked('Usd') })),
        CHECK,
        'audit_log_currency_check',
      );
    });
  });
}
