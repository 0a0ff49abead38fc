import type { Database } from '../src/index.js';
import { drizzleOf } from '../src/internal.js';
import type { Db } from '../src/store.js';
import * as t from '../src/tables.js';
import { ledgers, paymentWithRefund, rows } from './constraint-suite/cases.js';
import type { ConstraintContext } from './constraint-suite/context.js';
import { ledgerTests } from './constraint-suite/ledger.js';
import { moneyTests } from './constraint-suite/money.js';
import { relationTests } from './constraint-suite/relations.js';
import { statusTests } from './constraint-suite/statuses.js';
import { uniqueTests } from './constraint-suite/unique.js';
import { seed, type Seed } from './support/fixtures.js';

/**
 * One test per database constraint: a row breaking it is rejected, by the constraint named. Called
 * for PostgreSQL and for PGlite by constraints.integration.test.ts.
 */
export function constraintSuite(name: string, open: () => Promise<{ db: Database; close(): Promise<void> }>) {
  describe(`constraints on ${name}`, () => {
    let opened: { db: Database; close(): Promise<void> } | undefined;
    let current: { db: Db; seed: Seed } | undefined;

    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.close();
    });
    beforeEach(async () => {
      if (opened === undefined) {
        throw new Error('The database did not open (see beforeAll).');
      }
      current = { db: drizzleOf(opened.db), seed: await seed(opened.db.store.repos) };
    });

    const c: ConstraintContext = {
      current() {
        if (current === undefined) {
          throw new Error('No seed: the database did not open.');
        }
        return current;
      },
      repos() {
        if (opened === undefined) {
          throw new Error('The database did not open (see beforeAll).');
        }
        return opened.db.store.repos;
      },
    };

    it('accepts the valid fixture of every table (the control for the cases below)', async () => {
      const { db, seed: s } = c.current();
      const parents = await paymentWithRefund(db, s);
      await db.insert(t.paymentMethods).values(rows.paymentMethod(s));
      await db.insert(t.webhookEvents).values(rows.webhookEvent());
      await db.insert(t.idempotencyKeys).values(rows.idempotencyKey(s));
      await db.insert(t.auditLog).values(rows.audit(s, { amount: 5, currency: 'eur' }));
      for (const ledger of Object.values(ledgers)) {
        await db.insert(ledger.table).values(ledger.row(s, parents));
      }
    });

    uniqueTests(c);
    moneyTests(c);
    statusTests(c);
    ledgerTests(c);
    relationTests(c);
  });
}
