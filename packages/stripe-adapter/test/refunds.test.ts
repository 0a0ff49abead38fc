import { newId, type CreateGatewayRefundInput, type GatewayEvent, type GatewayRefundReason } from '@pay/core';
import {
  dropThenFailResend,
  newPayment,
  paidIntent,
  payErrorFields,
  rejectionOf,
  startHarness,
  type Harness,
} from './harness.js';

/*
 * Issue 7 at the adapter: refunds sent with pay's own key and ids, Stripe's refusals as typed errors, the
 * lookup recovery uses, and a refund whose answer was lost. The real SDK against the sandbox.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(() => h.sandbox.faults.clear());

const REJECTED = { name: 'GatewayRejectedError', retryable: false };
const AMBIGUOUS = {
  name: 'GatewayUnavailableError',
  code: 'dependency_unavailable',
  retryable: true,
  ambiguous: true,
};

/** A paid payment of 2000 usd in an account of its own, and a way to refund it as pay does. */
async function paidPayment(card = 'pm_card_visa') {
  const key = h.newKey();
  const gateway = h.gateway(key);
  const p = newPayment();
  const { intent, outcome } = await paidIntent(gateway, p, card);
  expect(outcome.kind).toBe('succeeded');
  const refundInput = (
    amount: number,
    reason: GatewayRefundReason | null = 'requested_by_customer',
  ): CreateGatewayRefundInput => {
    const refundId = newId('refund');
    return {
      refundId,
      accountId: p.accountId,
      paymentId: p.paymentId,
      stripePaymentIntentId: intent.stripePaymentIntentId,
      amount,
      reason,
      idempotencyKey: `pay:${refundId}:create_refund`,
    };
  };
  return { key, gateway, p, intent, refundInput };
}

function refundPath(input: CreateGatewayRefundInput) {
  return { method: 'POST', path: '/v1/refunds', idempotencyKey: input.idempotencyKey };
}

describe('creating a refund', () => {
  it('refunds part of a payment, then the rest, with pay’s ids in the refund’s metadata', async () => {
    const { key, gateway, p, intent, refundInput } = await paidPayment();
    const first = refundInput(500);
    const refund = await gateway.createRefund(first);
    expect(refund).toEqual({
      stripeRefundId: expect.stringMatching(/^re_/),
      stripePaymentIntentId: intent.stripePaymentIntentId,
      stripeChargeId: expect.stringMatching(/^ch_/),
      amount: 500,
      currency: 'usd',
      status: 'succeeded',
      reason: 'requested_by_customer',
      failureReason: null,
      refundId: first.refundId,
      created: expect.any(Date),
    });
    const raw = await h.stripe(key).refunds.retrieve(refund.stripeRefundId);
    expect(raw.metadata).toEqual({
      pay_refund_id: first.refundId,
      pay_payment_id: p.paymentId,
      pay_account_id: p.accountId,
    });
    const [request] = h.sandbox.ledger.requests({ idempotencyKey: first.idempotencyKey });
    expect(request?.params).toMatchObject({ payment_intent: intent.stripePaymentIntentId, amount: '500' });

    const rest = await gateway.createRefund(refundInput(1500, null));
    expect(rest).toMatchObject({ amount: 1500, status: 'succeeded', reason: null });
    expect(await gateway.retrieveCharge(refund.stripeChargeId ?? '')).toMatchObject({ amountRefunded: 2000 });
  });

  it('makes one refund for the same key sent twice, and answers both with it', async () => {
    const { key, gateway, refundInput } = await paidPayment();
    const input = refundInput(700);
    const first = await gateway.createRefund(input);
    const again = await gateway.createRefund(input);
    expect(again).toEqual(first);
    expect(h.count(key, 'refund')).toBe(1);
    const replayed = h.sandbox.ledger
      .requests({ idempotencyKey: input.idempotencyKey })
      .map((r) => r.replayed);
    expect(replayed).toEqual([false, true]);
  });

  it('turns Stripe’s refusal of more than remains into a GatewayRejectedError on amount, refunding nothing', async () => {
    const { key, gateway, refundInput } = await paidPayment();
    await gateway.createRefund(refundInput(1200));
    const error = await rejectionOf(gateway.createRefund(refundInput(801)));
    expect(payErrorFields(error)).toMatchObject({ ...REJECTED, param: 'amount', gatewayCode: null });
    expect((error as Error).message).toBe(
      'Refund amount ($8.01) is greater than unrefunded amount on charge ($8.00)',
    );
    expect(h.count(key, 'refund')).toBe(1);
  });

  it('passes Stripe’s code on for a charge already refunded and for one charged back', async () => {
    const whole = await paidPayment();
    await whole.gateway.createRefund(whole.refundInput(2000));
    expect(payErrorFields(await rejectionOf(whole.gateway.createRefund(whole.refundInput(1))))).toMatchObject(
      { ...REJECTED, gatewayCode: 'charge_already_refunded' },
    );

    const disputed = await paidPayment('pm_card_createDispute');
    h.sandbox.advance(2);
    expect(
      payErrorFields(await rejectionOf(disputed.gateway.createRefund(disputed.refundInput(100)))),
    ).toMatchObject({ ...REJECTED, gatewayCode: 'charge_disputed' });
  });
});

describe('a refund whose answer was lost', () => {
  it('is healed by the SDK’s own re-send when the connection dropped after Stripe committed', async () => {
    const { key, gateway, refundInput } = await paidPayment();
    const input = refundInput(900);
    h.sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match: refundPath(input) });
    const refund = await gateway.createRefund(input);
    expect(refund).toMatchObject({ amount: 900, refundId: input.refundId });
    const log = h.sandbox.ledger.requests({ idempotencyKey: input.idempotencyKey });
    expect(log.map((r) => [r.faults, r.replayed])).toEqual([
      [['drop_after_commit'], false],
      [[], true],
    ]);
    expect(h.count(key, 'refund')).toBe(1);
  });

  it('is ambiguous when the re-send failed too; the retry with the same key returns the one refund', async () => {
    const { key, gateway, refundInput } = await paidPayment();
    const input = refundInput(900);
    const error = await dropThenFailResend(h.sandbox, refundPath(input), () => gateway.createRefund(input));
    expect(payErrorFields(error)).toEqual(AMBIGUOUS);
    // Stripe did refund: the money is gone although pay got no answer.
    expect(h.count(key, 'refund')).toBe(1);

    const retried = await gateway.createRefund(input);
    expect(retried).toMatchObject({ amount: 900, status: 'succeeded', refundId: input.refundId });
    expect(h.count(key, 'refund')).toBe(1);
    const [only] = (await h.stripe(key).refunds.list({ limit: 10 })).data;
    expect(retried.stripeRefundId).toBe(only?.id);
  });
});

describe('finding a refund by pay’s refund id', () => {
  it('finds pay’s refund among the intent’s others, and null for a refund Stripe never made', async () => {
    const { key, gateway, intent, refundInput } = await paidPayment();
    const mine = refundInput(300);
    const refund = await gateway.createRefund(mine);
    await gateway.createRefund(refundInput(200));
    await h.stripe(key).refunds.create({ payment_intent: intent.stripePaymentIntentId, amount: 100 });

    const lookup = { stripePaymentIntentId: intent.stripePaymentIntentId };
    expect(await gateway.findRefundByRefundId({ ...lookup, refundId: mine.refundId })).toEqual(refund);
    expect(await gateway.findRefundByRefundId({ ...lookup, refundId: newId('refund') })).toBeNull();
  });

  it('refuses to pick when Stripe holds two refunds for one refund id', async () => {
    const { gateway, intent, refundInput } = await paidPayment();
    const input = refundInput(400);
    await gateway.createRefund(input);
    // Past Stripe's 24 h key window the same key makes a second refund: what the lookup guards against.
    h.sandbox.advance(24 * 3600 + 1);
    await gateway.createRefund(input);
    const error = await rejectionOf(
      gateway.findRefundByRefundId({
        refundId: input.refundId,
        stripePaymentIntentId: intent.stripePaymentIntentId,
      }),
    );
    expect(payErrorFields(error)).toMatchObject({ name: 'InternalError', code: 'internal_error' });
  });
});

describe('refunds that change later (the asynchronous-refund test cards)', () => {
  async function decodedRefundEvents(key: string): Promise<GatewayEvent[]> {
    const gateway = h.gateway(key);
    const events: GatewayEvent[] = [];
    for await (const event of h.stripe(key).events.list({ limit: 100 })) {
      if (event.type.startsWith('refund.') || event.type === 'charge.refund.updated') {
        events.push(gateway.decodeEvent(JSON.stringify(event)));
      }
    }
    return events.reverse();
  }

  it('reads a refund that started pending and succeeded', async () => {
    const { key, gateway, refundInput } = await paidPayment('pm_card_pendingRefund');
    const input = refundInput(600);
    const refund = await gateway.createRefund(input);
    expect(refund.status).toBe('pending');
    h.sandbox.settleRefund(refund.stripeRefundId);
    expect(await gateway.retrieveRefund(refund.stripeRefundId)).toMatchObject({ status: 'succeeded' });
    const statuses = (await decodedRefundEvents(key)).map((e) =>
      e.object.kind === 'refund' ? [e.type, e.object.refund.status, e.object.refund.refundId] : [e.type],
    );
    expect(statuses).toEqual([
      ['refund.created', 'pending', input.refundId],
      ['refund.updated', 'succeeded', input.refundId],
      ['charge.refund.updated', 'succeeded', input.refundId],
    ]);
  });

  it('reads a refund that looked succeeded and failed, with its reason and the charge’s amount given back', async () => {
    const { key, gateway, refundInput } = await paidPayment('pm_card_refundFail');
    const input = refundInput(2000);
    const refund = await gateway.createRefund(input);
    expect(refund.status).toBe('succeeded');
    h.sandbox.advance(5);
    expect(await gateway.retrieveRefund(refund.stripeRefundId)).toMatchObject({
      status: 'failed',
      failureReason: 'expired_or_canceled_card',
      refundId: input.refundId,
    });
    expect(await gateway.retrieveCharge(refund.stripeChargeId ?? '')).toMatchObject({ amountRefunded: 0 });
    const failed = (await decodedRefundEvents(key)).find((e) => e.type === 'refund.failed');
    expect(failed?.object).toMatchObject({
      kind: 'refund',
      refund: { status: 'failed', failureReason: 'expired_or_canceled_card', refundId: input.refundId },
    });
    // What failed may be refunded again.
    expect(await gateway.createRefund(refundInput(2000))).toMatchObject({ status: 'succeeded' });
  });
});
