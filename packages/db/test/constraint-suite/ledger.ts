import { newId } from '@pay/core';
import type { Db } from '../../src/store.js';
import { seed, type Seed } from '../support/fixtures.js';
import { ledgers, paymentWithRefund } from './cases.js';
import { CHECK, expectViolation, FOREIGN_KEY, unchecked, type ConstraintContext } from './context.js';

export function ledgerTests(c: ConstraintContext): void {
  describe('the ledger', () => {
    let db: Db;
    let s: Seed;
    beforeEach(() => {
      ({ db, seed: s } = c.current());
    });
    for (const [table, ledger] of Object.entries(ledgers)) {
      it(`rejects a ${table} row without a cause`, async () => {
        const parents = await paymentWithRefund(db, s);
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), causeJob: null }),
          CHECK,
          `${table}_cause_check`,
        );
      });
      it(`rejects a ${table} row with a negative amount`, async () => {
        const parents = await paymentWithRefund(db, s);
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), amount: -1 }),
          CHECK,
          `${table}_amount_check`,
        );
      });
      if (table === 'payment_events') {
        it('accepts a negative amount only on a move out of a refunded state (a failed refund given back)', async () => {
          const parents = await paymentWithRefund(db, s);
          const row = ledger.row(s, parents);
          await expectViolation(
            db
              .insert(ledger.table)
              .values({ ...row, fromStatus: 'succeeded', toStatus: 'partially_refunded', amount: -1 }),
            CHECK,
            `${table}_amount_check`,
          );
          await db
            .insert(ledger.table)
            .values({ ...row, fromStatus: 'refunded', toStatus: 'partially_refunded', amount: -300 });
        });
      }
      it(`rejects a ${table} row with an unknown to_status or from_status`, async () => {
        const parents = await paymentWithRefund(db, s);
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), toStatus: unchecked('bogus') }),
          CHECK,
          `${table}_to_status_check`,
        );
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), fromStatus: unchecked('bogus') }),
          CHECK,
          `${table}_from_status_check`,
        );
      });
      it(`rejects a ${table} row whose cause names a refund or payment that does not exist`, async () => {
        const parents = await paymentWithRefund(db, s);
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), causeRefundId: newId('refund') }),
          FOREIGN_KEY,
          `${table}_cause_refund_id_refunds_id_fk`,
        );
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), causePaymentId: newId('payment') }),
          FOREIGN_KEY,
          `${table}_cause_payment_id_payments_id_fk`,
        );
      });
      it(`rejects a ${table} row whose object belongs to another account`, async () => {
        const parents = await paymentWithRefund(db, s);
        const other = await seed(c.repos());
        const fk =
          {
            payment_events: 'payment_events_payment_fk',
            subscription_events: 'subscription_events_subscription_fk',
            refund_events: 'refund_events_refund_fk',
          }[table] ?? '';
        await expectViolation(
          db.insert(ledger.table).values({ ...ledger.row(s, parents), accountId: other.account.id }),
          FOREIGN_KEY,
          fk,
        );
      });
    }
  });
}
