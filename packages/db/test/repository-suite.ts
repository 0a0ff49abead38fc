import type { Database } from '../src/index.js';
import { accountTests } from './repository-suite/accounts.js';
import { disputeTests } from './repository-suite/disputes.js';
import { inboxTests } from './repository-suite/inbox.js';
import { ledgerTests } from './repository-suite/ledger.js';
import { paymentTests } from './repository-suite/payments.js';
import { rateLimitTests } from './repository-suite/rate-limits.js';
import { paymentFlowTests } from './repository-suite/payment-flow.js';
import { refundTests } from './repository-suite/refunds.js';
import { renewalTests } from './repository-suite/renewals.js';
import { storeTests } from './repository-suite/store.js';
import { subscriptionReadTests } from './repository-suite/subscription-reads.js';
import { subscriptionTests } from './repository-suite/subscriptions.js';
import { webhookWorkerTests } from './repository-suite/webhook-worker.js';
import type { SuiteContext } from './repository-suite/context.js';

/**
 * Every repository method of core's ports, run against one database driver. Called by
 * postgres.integration.test.ts and pglite.integration.test.ts, so both drivers pass the same tests.
 */
export function repositorySuite(name: string, open: () => Promise<{ db: Database; close(): Promise<void> }>) {
  describe(`repositories on ${name}`, () => {
    let opened: { db: Database; close(): Promise<void> } | undefined;

    beforeAll(async () => {
      opened = await open();
    });

    afterAll(async () => {
      await opened?.close();
    });

    const ctx: SuiteContext = {
      db() {
        if (opened === undefined) {
          throw new Error('The database did not open (see beforeAll).');
        }
        return opened.db;
      },
      repos() {
        return ctx.db().store.repos;
      },
    };

    accountTests(ctx);
    paymentTests(ctx);
    paymentFlowTests(ctx);
    refundTests(ctx);
    subscriptionTests(ctx);
    subscriptionReadTests(ctx);
    inboxTests(ctx);
    ledgerTests(ctx);
    storeTests(ctx);
    rateLimitTests(ctx);
    webhookWorkerTests(ctx);
    disputeTests(ctx);
    renewalTests(ctx);
  });
}
