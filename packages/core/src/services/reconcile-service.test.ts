import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import { RETURN_ORIGIN } from '../../test/memory/payment-harness.js';
import { newId } from '../ids.js';
import { silentLogger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { Payment } from '../domain/entities.js';
import { ReconcileService, type ReconcileServiceGateway } from './reconcile-service.js';
import { reconciled, type ReconcileReport } from './reconcile-results.js';

const HOUR_MS = 60 * 60 * 1000;

interface World {
  readonly h: RefundHarness;
  readonly service: ReconcileService;
  /** Stripe calls made while a reconcile transaction was open: must stay empty (STYLE.md R7). */
  readonly callsInTransaction: string[];
  /** Reconciles the last hour. */
  run(fix: boolean): Promise<ReconcileReport>;
  /** Row counts of every ledger table. */
  rows(): Record<string, number>;
}

async function world(): Promise<World> {
  const h = await refundHarness();
  let open = 0;
  const store: Store = {
    repos: h.store.repos,
    transaction: (fn) =>
      h.store.transaction(async (tx) => {
        open += 1;
        try {
          return await fn(tx);
        } finally {
          open -= 1;
        }
      }),
  };
  const callsInTransaction: string[] = [];
  const guard = (name: string) => {
    if (open > 0) {
      callsInTransaction.push(name);
    }
  };
  const gateway: ReconcileServiceGateway = {
    retrieveIntent: (id) => (guard('retrieveIntent'), h.stripe.retrieveIntent(id)),
    cancelIntent: (input) => (guard('cancelIntent'), h.stripe.cancelIntent(input)),
    retrieveCharge: (id) => (guard('retrieveCharge'), h.stripe.retrieveCharge(id)),
    listIntents: (input) => (guard('listIntents'), h.stripe.listIntents(input)),
    listRefundsOfIntent: (id) => (guard('listRefundsOfIntent'), h.stripe.listRefundsOfIntent(id)),
  };
  const service = new ReconcileService({
    store,
    gateway,
    clock: h.clock,
    logger: silentLogger,
    refundSubscriptionPolicy: 'keep',
  });
  return {
    h,
    service,
    callsInTransaction,
    run: (fix) => {
      // The window ends before now: a second on, so the payments just made fall inside it.
      h.clock.advance(1000);
      return service.run({ since: new Date(h.clock.now().getTime() - HOUR_MS), fix });
    },
    rows: () => {
      const t = h.memory.tables;
      return {
        payments: t.payments.length,
        paymentEvents: t.paymentEvents.length,
        refunds: t.refunds.length,
        refundEvents: t.refundEvents.length,
        subscriptions: t.subscriptions.length,
        subscriptionEvents: t.subscriptionEvents.length,
      };
    },
  };
}

/** A payment whose confirmation Stripe carried out but whose answer was lost: pay holds it `pending`. */
async function paymentWithLostAnswer(w: World): Promise<Payment> {
  const { h } = w;
  h.stripe.fail('confirmIntent', 'unavailable_after');
  await expect(
    h.payments.create(
      {
        accountId: h.account.id,
        userId: 'user-lost',
        planId: h.plan.id,
        paymentMethodId: 'pm_card_visa',
        returnUrl: `${RETURN_ORIGIN}/thanks`,
      },
      {
        accountId: h.account.id,
        key: `lost-key-${'z'.repeat(24)}`,
        method: 'POST',
        path: '/api/v1/payments',
        params: { lost: true },
        requestId: 'req_lost',
      },
    ),
  ).rejects.toMatchObject({ code: 'dependency_unavailable' });
  const payment = h.memory.tables.payments.find((p) => p.status === 'pending');
  if (payment === undefined || payment.stripePaymentIntentId === null) {
    throw new Error('setup: no pending payment with an intent');
  }
  return payment;
}

const causesOf = (w: World, paymentId: Payment['id']) =>
  w.h.memory.tables.paymentEvents.filter((e) => e.paymentId === paymentId).map((e) => e.cause);

describe('ReconcileService', () => {
  it('finds nothing when pay and Stripe agree, and calls Stripe outside transactions only', async () => {
    const w = await world();
    await w.h.payOf(2000);
    const { payment } = await w.h.payOf(3000);
    await w.h
      .refunds()
      .create(...w.h.request(`refund-key-${'a'.repeat(24)}`, { paymentId: payment.id, amount: 700 }));

    const report = await w.run(true);

    expect(report.items).toEqual([]);
    expect(report.failures).toEqual([]);
    expect(report.paymentsChecked).toBe(2);
    expect(report.intentsChecked).toBe(2);
    expect(reconciled(report)).toBe(true);
    expect(w.callsInTransaction).toEqual([]);
  });

  it('reports a payment pay holds pending that Stripe charged, and changes nothing without --fix', async () => {
    const w = await world();
    const payment = await paymentWithLostAnswer(w);
    const before = w.rows();

    const report = await w.run(false);

    expect(report.counts.payment_status).toBe(1);
    expect(report.items).toEqual([
      {
        kind: 'payment_status',
        objectId: payment.id,
        stripeId: payment.stripePaymentIntentId,
        pay: 'pending',
        stripe: 'succeeded',
        fixed: false,
        unfixable: false,
        note: null,
      },
    ]);
    expect(reconciled(report)).toBe(false);
    expect(w.rows()).toEqual(before);
    expect(w.h.payment(payment.id).status).toBe('pending');
  });

  it('moves that payment to succeeded through the state machine, with a reconcile event row; a second run finds nothing', async () => {
    const w = await world();
    const payment = await paymentWithLostAnswer(w);

    const report = await w.run(true);

    expect(report.items).toEqual([expect.objectContaining({ kind: 'payment_status', fixed: true })]);
    expect(reconciled(report)).toBe(true);
    expect(w.h.payment(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(causesOf(w, payment.id).at(-1)).toEqual({ job: 'reconcile' });
    // The subscription the payment starts follows it, as it would after the flow.
    const subscription = w.h.memory.tables.subscriptions.find((s) => s.id === payment.subscriptionId);
    expect(subscription?.status).toBe('active');
    expect(w.callsInTransaction).toEqual([]);

    const rows = w.rows();
    const again = await w.run(true);
    expect(again.items).toEqual([]);
    expect(w.rows()).toEqual(rows);
  });

  it("records a refund made in Stripe's dashboard that no webhook announced, and the payment's refunded total", async () => {
    const w = await world();
    const { payment, intentId } = await w.h.payOf(2000);
    const dashboard = w.h.stripe.refund(intentId, 500, { reason: 'requested_by_customer' });

    const reported = await w.run(false);
    expect(reported.counts).toMatchObject({ missing_refund: 1, amount_refunded: 1 });
    expect(reported.items).toEqual([
      expect.objectContaining({
        kind: 'missing_refund',
        objectId: null,
        stripeId: dashboard.stripeRefundId,
        stripe: 500,
        fixed: false,
      }),
      expect.objectContaining({
        kind: 'amount_refunded',
        objectId: payment.id,
        pay: 0,
        stripe: 500,
        fixed: false,
      }),
    ]);

    const fixed = await w.run(true);
    expect(fixed.items.map((i) => [i.kind, i.fixed])).toEqual([
      ['missing_refund', true],
      ['amount_refunded', true],
    ]);
    const refund = w.h.memory.tables.refunds.find((r) => r.stripeRefundId === dashboard.stripeRefundId);
    expect(refund).toMatchObject({
      paymentId: payment.id,
      origin: 'stripe',
      status: 'succeeded',
      amount: 500,
    });
    expect(fixed.items[0]?.objectId).toBe(refund?.id);
    expect(w.h.payment(payment.id)).toMatchObject({ status: 'partially_refunded', amountRefunded: 500 });
    expect(causesOf(w, payment.id).at(-1)).toEqual({ job: 'reconcile' });
    const refundCauses = w.h.memory.tables.refundEvents
      .filter((e) => e.refundId === refund?.id)
      .map((e) => e.cause);
    expect(refundCauses).toEqual([{ job: 'reconcile' }]);

    const rows = w.rows();
    expect((await w.run(true)).items).toEqual([]);
    expect(w.rows()).toEqual(rows);
  });

  it('moves a refund pay holds pending to the status Stripe settled it in, and its amount with it', async () => {
    const w = await world();
    const { payment } = await w.h.payOf(2000);
    w.h.stripe.refundStatusOnCreate = 'pending';
    const attempt = await w.h
      .refunds()
      .create(...w.h.request(`refund-key-${'b'.repeat(24)}`, { paymentId: payment.id, amount: 800 }));
    const stripeRefundId = attempt.refund.stripeRefundId ?? '';
    w.h.stripe.setRefundStatus(stripeRefundId, 'succeeded');
    const amountBefore = w.h.payment(payment.id).amountRefunded;

    const report = await w.run(true);

    expect(report.items).toContainEqual(
      expect.objectContaining({
        kind: 'refund_status',
        objectId: attempt.refund.id,
        stripeId: stripeRefundId,
        pay: 'pending',
        stripe: 'succeeded',
        fixed: true,
      }),
    );
    expect(reconciled(report)).toBe(true);
    expect(w.h.memory.tables.refunds.find((r) => r.id === attempt.refund.id)?.status).toBe('succeeded');
    expect(w.h.payment(payment.id).amountRefunded).toBe(800);
    expect(report.counts.amount_refunded).toBe(amountBefore === 800 ? 0 : 1);
    expect((await w.run(true)).items).toEqual([]);
  });

  it('cancels at Stripe an intent carrying pay’s metadata for a payment pay does not have; a second run finds nothing', async () => {
    const w = await world();
    const orphan = w.h.stripe.createForeignIntent({
      amount: 1234,
      paymentId: newId('payment'),
      accountId: w.h.account.id,
    });

    const reported = await w.run(false);
    expect(reported.items).toEqual([
      expect.objectContaining({
        kind: 'orphan_intent',
        objectId: null,
        stripeId: orphan.stripePaymentIntentId,
        stripe: 'pending',
        fixed: false,
        unfixable: false,
      }),
    ]);
    expect(w.h.stripe.intent(orphan.stripePaymentIntentId).status).toBe('pending');

    const fixed = await w.run(true);
    expect(fixed.items).toEqual([expect.objectContaining({ kind: 'orphan_intent', fixed: true })]);
    expect(w.h.stripe.intent(orphan.stripePaymentIntentId).status).toBe('canceled');
    expect((await w.run(true)).items).toEqual([]);
  });

  it('reports, never "fixes", an orphan intent that took money, and a second intent of a payment pay recorded', async () => {
    const w = await world();
    const { payment, intentId } = await w.h.payOf(2000);
    const charged = w.h.stripe.createForeignIntent({
      amount: 900,
      paymentId: newId('payment'),
      accountId: w.h.account.id,
      status: 'succeeded',
    });
    const second = w.h.stripe.createForeignIntent({
      amount: 2000,
      paymentId: payment.id,
      accountId: w.h.account.id,
    });

    const report = await w.run(true);

    expect(report.items).toHaveLength(2);
    expect(report.items).toContainEqual(
      expect.objectContaining({
        kind: 'orphan_intent',
        stripeId: charged.stripePaymentIntentId,
        stripe: 'succeeded',
        fixed: false,
        unfixable: true,
        note: expect.stringContaining('money moved for a payment pay never recorded'),
      }),
    );
    expect(report.items).toContainEqual(
      expect.objectContaining({
        kind: 'orphan_intent',
        objectId: payment.id,
        stripeId: second.stripePaymentIntentId,
        pay: intentId,
        fixed: true,
      }),
    );
    expect(w.h.stripe.intent(charged.stripePaymentIntentId).status).toBe('succeeded');
    expect(reconciled(report)).toBe(false);
    // What a person must resolve is reported again, every run.
    expect((await w.run(true)).items.map((i) => [i.stripeId, i.unfixable])).toEqual([
      [charged.stripePaymentIntentId, true],
    ]);
  });

  it('reports a move the state machine forbids (pay succeeded, Stripe canceled) as unfixable, writing nothing', async () => {
    const w = await world();
    const { payment, intentId } = await w.h.payOf(2000);
    w.h.stripe.setIntentStatus(intentId, 'canceled');
    const rows = w.rows();

    const report = await w.run(true);

    expect(report.items).toEqual([
      expect.objectContaining({
        kind: 'payment_status',
        objectId: payment.id,
        pay: 'succeeded',
        stripe: 'canceled',
        fixed: false,
        unfixable: true,
      }),
    ]);
    expect(w.rows()).toEqual(rows);
    expect(w.h.payment(payment.id).status).toBe('succeeded');
  });

  it("records the intent of a payment whose create answer was lost, and applies Stripe's status", async () => {
    const w = await world();
    w.h.stripe.fail('createIntent', 'unavailable_after');
    await expect(
      w.h.payments.create(
        {
          accountId: w.h.account.id,
          userId: 'user-create-lost',
          planId: w.h.plan.id,
          paymentMethodId: 'pm_card_visa',
        },
        {
          accountId: w.h.account.id,
          key: `create-lost-${'q'.repeat(24)}`,
          method: 'POST',
          path: '/api/v1/payments',
          params: { lost: 'create' },
          requestId: 'req_create_lost',
        },
      ),
    ).rejects.toMatchObject({ code: 'dependency_unavailable' });
    const payment = w.h.memory.tables.payments.find((p) => p.status === 'pending');
    expect(payment?.stripePaymentIntentId).toBeNull();
    const [intent] = w.h.stripe.allIntents();

    const report = await w.run(true);

    expect(report.items).toEqual([
      expect.objectContaining({
        kind: 'orphan_intent',
        objectId: payment?.id,
        stripeId: intent?.stripePaymentIntentId,
        fixed: true,
      }),
    ]);
    expect(w.h.payment(payment?.id ?? ('' as Payment['id']))).toMatchObject({
      status: 'pending',
      stripePaymentIntentId: intent?.stripePaymentIntentId,
    });
    expect((await w.run(true)).items).toEqual([]);
  });

  it("pages through Stripe's intents and pay's payments alike", async () => {
    const w = await world();
    w.h.stripe.listPageSize = 2;
    const paid = [];
    for (let i = 0; i < 5; i++) {
      paid.push(await w.h.payOf(1000 + i));
    }
    const last = paid.at(-1);
    if (last === undefined) {
      throw new Error('setup');
    }
    w.h.stripe.refund(last.intentId, 100);

    const report = await w.run(true);

    expect(report.intentsChecked).toBe(5);
    expect(report.paymentsChecked).toBe(5);
    expect(report.counts).toMatchObject({ missing_refund: 1, amount_refunded: 1 });
    expect(w.h.stripe.count('listIntents')).toBe(3);
  });

  it('lists a comparison Stripe could not answer as a failure and goes on with the others', async () => {
    const w = await world();
    const { payment, intentId } = await w.h.payOf(2000);
    w.h.stripe.refund(intentId, 300);
    const orphan = w.h.stripe.createForeignIntent({
      amount: 500,
      paymentId: newId('payment'),
      accountId: w.h.account.id,
    });
    w.h.stripe.fail('listRefundsOfIntent', 'unavailable_before');

    const report = await w.run(true);

    expect(report.failures).toEqual([{ id: payment.id, error: expect.any(String) }]);
    expect(report.items).toEqual([
      expect.objectContaining({ kind: 'orphan_intent', stripeId: orphan.stripePaymentIntentId, fixed: true }),
    ]);
    expect(reconciled(report)).toBe(false);
    const again = await w.run(true);
    expect(again.failures).toEqual([]);
    expect(again.counts).toMatchObject({ missing_refund: 1, amount_refunded: 1, orphan_intent: 0 });
  });

  it('refuses an empty window', async () => {
    const w = await world();
    const now = w.h.clock.now();
    await expect(w.service.run({ since: now, until: now, fix: false })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
