import { newId, type ReconcileGateway } from '@pay/core';
import { createStripeGateway } from '../src/index.js';
import { newPayment, paidIntent, startHarness, type Harness } from './harness.js';

/* What `pay reconcile` relies on: listing the intents of a window that carry pay's metadata, and an intent's refunds. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** The adapter on `key` as reconciliation sees it. */
function lists(key: string): ReconcileGateway {
  return createStripeGateway({
    secretKey: key,
    host: '127.0.0.1',
    port: h.sandbox.port,
    protocol: 'http',
    timeoutMs: 2_000,
    maxNetworkRetries: 0,
  });
}

async function listAll(gateway: ReconcileGateway, createdAfter: Date, createdBefore?: Date) {
  const ids: string[] = [];
  let pages = 0;
  let startingAfter: string | null = null;
  do {
    const page = await gateway.listIntents({
      createdAfter,
      ...(createdBefore === undefined ? {} : { createdBefore }),
      ...(startingAfter === null ? {} : { startingAfter }),
    });
    pages += 1;
    ids.push(...page.data.map((i) => i.stripePaymentIntentId));
    startingAfter = page.nextStartingAfter;
  } while (startingAfter !== null);
  return { ids, pages };
}

describe("listing a window's intents", () => {
  it("lists the intents carrying pay's metadata, newest first, mapped, and skips the others", async () => {
    const key = h.newKey();
    const stripe = h.stripe(key);
    const start = new Date(Date.now() - 5_000);
    const p = newPayment();
    const { intent: paid } = await paidIntent(h.gateway(key), p);
    await stripe.paymentIntents.create({ amount: 700, currency: 'usd', metadata: { note: 'not pay' } });
    const orphan = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      metadata: { pay_payment_id: newId('payment'), pay_account_id: p.accountId },
    });

    const page = await lists(key).listIntents({ createdAfter: start });

    expect(page.nextStartingAfter).toBeNull();
    expect(page.data.map((i) => i.stripePaymentIntentId)).toEqual([orphan.id, paid.stripePaymentIntentId]);
    expect(page.data[1]).toMatchObject({
      paymentId: p.paymentId,
      accountId: p.accountId,
      status: 'succeeded',
    });
    expect(page.data[0]).toMatchObject({ status: 'pending', amount: 900 });
  });

  it('leaves out intents created outside the window', async () => {
    const key = h.newKey();
    const { intent } = await paidIntent(h.gateway(key), newPayment());
    const later = new Date(intent.created.getTime() + 2_000);
    expect((await lists(key).listIntents({ createdAfter: later })).data).toEqual([]);
    const before = await lists(key).listIntents({
      createdAfter: new Date(intent.created.getTime() - 60_000),
      createdBefore: intent.created,
    });
    expect(before.data).toEqual([]);
    expect((await listAll(lists(key), intent.created)).ids).toEqual([intent.stripePaymentIntentId]);
  });

  it('pages past 100 intents with the last listed as the cursor', async () => {
    const key = h.newKey();
    const stripe = h.stripe(key);
    const start = new Date(Date.now() - 5_000);
    const made: string[] = [];
    for (let batch = 0; batch < 11; batch += 1) {
      const created = await Promise.all(
        Array.from({ length: 10 }, () =>
          stripe.paymentIntents.create({
            amount: 500,
            currency: 'usd',
            metadata: { pay_payment_id: newId('payment'), pay_account_id: newId('account') },
          }),
        ),
      );
      made.push(...created.map((i) => i.id));
    }
    // One without pay's metadata, listed first (newest), so the first page keeps 99 of its 100.
    await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });

    const { ids, pages } = await listAll(lists(key), start);

    expect(pages).toBe(2);
    expect(new Set(ids)).toEqual(new Set(made));
    expect(ids).toHaveLength(110);
  });
});

describe("listing an intent's refunds", () => {
  it("lists pay's refunds and those made in Stripe's dashboard, with their charge", async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await paidIntent(gateway, p);
    const refundId = newId('refund');
    const ours = await gateway.createRefund({
      refundId,
      accountId: p.accountId,
      paymentId: p.paymentId,
      stripePaymentIntentId: intent.stripePaymentIntentId,
      amount: 300,
      reason: null,
      idempotencyKey: `pay:${refundId}:create_refund`,
    });
    const dashboard = await h
      .stripe(key)
      .refunds.create({ payment_intent: intent.stripePaymentIntentId, amount: 200 });
    const other = await paidIntent(gateway, newPayment());

    const refunds = await lists(key).listRefundsOfIntent(intent.stripePaymentIntentId);

    expect(refunds.map((r) => [r.stripeRefundId, r.refundId, r.amount])).toEqual(
      expect.arrayContaining([
        [ours.stripeRefundId, refundId, 300],
        [dashboard.id, null, 200],
      ]),
    );
    expect(refunds).toHaveLength(2);
    expect(
      refunds.every(
        (r) => r.stripeChargeId !== null && r.stripePaymentIntentId === intent.stripePaymentIntentId,
      ),
    ).toBe(true);
    expect(await lists(key).listRefundsOfIntent(other.intent.stripePaymentIntentId)).toEqual([]);
  });
});
