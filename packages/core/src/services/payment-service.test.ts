import { API_BASE, paymentHarness, type PaymentHarness } from '../../test/memory/payment-harness.js';
import { addInterval } from '../domain/billing-period.js';
import { NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { paymentResultStatus, type PaymentService } from './payment-service.js';
import type { PaymentResult } from './payment-results.js';

let h: PaymentHarness;
let service: PaymentService;

beforeEach(async () => {
  h = await paymentHarness();
  service = h.service();
});

async function pay(key: string, paymentMethodId = 'pm_card_visa', userId = 'user-1'): Promise<PaymentResult> {
  const attempt = await service.create(...h.request(key, { paymentMethodId, userId }));
  expect(attempt.replayed).toBe(false);
  return attempt.result;
}

const only = <T>(rows: readonly T[]): T => {
  expect(rows).toHaveLength(1);
  return rows[0] as T;
};

describe('taking a payment for a plan', () => {
  it('charges once, records the payment as succeeded and starts the subscription with its period', async () => {
    const now = h.clock.now();
    const result = await pay('key-success-000000000001');

    expect(result.kind).toBe('succeeded');
    expect(paymentResultStatus(result)).toBe(201);
    const payment = only(h.memory.tables.payments);
    const subscription = only(h.memory.tables.subscriptions);
    const card = only(h.memory.tables.paymentMethods);
    const intent = only(h.gateway.allIntents());
    expect(result.view).toEqual({ payment, userId: 'user-1', card: { brand: 'visa', last4: '4242' } });
    expect(payment).toMatchObject({
      accountId: h.account.id,
      status: 'succeeded',
      amount: 2000,
      currency: 'usd',
      planId: h.plan.id,
      subscriptionId: subscription.id,
      billingReason: 'subscription_create',
      paymentMethodId: card.id,
      stripePaymentIntentId: intent.stripePaymentIntentId,
      stripeIdempotencyKey: `pay:${payment.id}`,
      returnUrl: 'https://shop.example/thanks',
      failureCode: null,
    });
    // Jan 31 + 1 month is Feb 28: the period is clamped to the month's end.
    expect(subscription).toMatchObject({
      status: 'active',
      planId: h.plan.id,
      paymentMethodId: card.id,
      currentPeriodStart: now,
      currentPeriodEnd: new Date('2026-02-28T12:00:00.000Z'),
      nextBillingAt: new Date('2026-02-28T12:00:00.000Z'),
    });
    expect(subscription.currentPeriodEnd).toEqual(addInterval(now, 'month'));
    expect(intent).toMatchObject({
      status: 'succeeded',
      amount: 2000,
      amountReceived: 2000,
      paymentId: payment.id,
    });

    expect(h.memory.tables.paymentEvents.map((e) => [e.fromStatus, e.toStatus, e.amount, e.cause])).toEqual([
      [null, 'pending', 0, { requestId: 'req_1' }],
      ['pending', 'succeeded', 2000, { requestId: 'req_1' }],
    ]);
    expect(h.memory.tables.subscriptionEvents.map((e) => [e.fromStatus, e.toStatus, e.cause])).toEqual([
      [null, 'incomplete', { requestId: 'req_1' }],
      ['incomplete', 'active', { requestId: 'req_1' }],
    ]);
    expect(only(h.memory.tables.idempotencyKeys)).toMatchObject({
      resourceId: payment.id,
      recoveryPoint: 'finished',
      lockedAt: null,
      responseStatus: 201,
    });
  });

  it('sends Stripe deterministic keys derived from the payment, and pay’s own 3-D Secure return URL', async () => {
    await pay('key-keys-0000000000000001');
    const payment = only(h.memory.tables.payments);
    const customer = only(h.memory.tables.customers);
    expect(h.gateway.calls.map((c) => [c.method, c.idempotencyKey])).toEqual([
      ['createCustomer', `pay:${customer.id}:create_customer`],
      ['attachPaymentMethod', `pay:${payment.id}:attach_payment_method`],
      ['createIntent', `pay:${payment.id}:create_intent`],
      ['confirmIntent', `pay:${payment.id}:confirm_intent`],
    ]);
    expect(h.gatewayCalls).toEqual(
      ['create_customer', 'attach_payment_method', 'create_intent', 'confirm_intent'].map((call) => ({
        call,
        outcome: 'ok',
      })),
    );
    expect(only(h.memory.tables.customers)).toMatchObject({
      userId: 'user-1',
      stripeCustomerId: expect.stringMatching(/^cus_/),
    });
  });

  it('replays the stored result for the same key and parameters, with no gateway call and no new row', async () => {
    const first = await pay('key-replay-00000000000001');
    const calls = h.gateway.count();
    h.clock.advance(60 * 60 * 1000);
    const again = await service.create(...h.request('key-replay-00000000000001'));
    expect(again).toEqual({ replayed: true, result: first });
    expect(again.result.view.payment.createdAt).toBeInstanceOf(Date);
    expect(h.gateway.count()).toBe(calls);
    expect(h.memory.tables.payments).toHaveLength(1);
    expect(h.memory.tables.paymentEvents).toHaveLength(2);
  });

  it('reuses the user’s customer and Stripe customer for a second payment', async () => {
    await pay('key-first-000000000000001');
    await pay('key-second-00000000000001');
    expect(h.memory.tables.customers).toHaveLength(1);
    expect(h.gateway.customerCount()).toBe(1);
    expect(h.memory.tables.payments).toHaveLength(2);
    expect(h.gateway.count('createCustomer')).toBe(1);
  });
});

describe('declines', () => {
  it.each([
    ['refused when attached', 'pm_card_chargeDeclined', 'generic_decline', 0],
    [
      'refused for insufficient funds',
      'pm_card_visa_chargeDeclinedInsufficientFunds',
      'insufficient_funds',
      0,
    ],
    ['refused when charged', 'pm_card_chargeCustomerFail', 'generic_decline', 1],
  ])(
    'a card %s is a 402 result with Stripe’s codes; the payment fails and the subscription expires',
    async (_what, card, declineCode, intents) => {
      const result = await pay('key-decline-0000000000001', card);
      expect(result).toMatchObject({
        kind: 'declined',
        decline: { code: 'card_declined', declineCode, message: expect.any(String) },
      });
      expect(paymentResultStatus(result)).toBe(402);
      const payment = only(h.memory.tables.payments);
      expect(payment).toMatchObject({ status: 'failed', failureCode: 'card_declined', declineCode });
      expect(only(h.memory.tables.subscriptions)).toMatchObject({
        status: 'expired',
        endedAt: h.clock.now(),
      });
      expect(h.gateway.allIntents()).toHaveLength(intents);
      expect(only(h.memory.tables.idempotencyKeys)).toMatchObject({ responseStatus: 402, lockedAt: null });

      const calls = h.gateway.count();
      const replay = await service.create(
        ...h.request('key-decline-0000000000001', { paymentMethodId: card }),
      );
      expect(replay).toEqual({ replayed: true, result });
      expect(h.gateway.count()).toBe(calls);
    },
  );

  it('an unknown payment method is a 400 `rejected` result, stored and replayed like any answer', async () => {
    const result = await pay('key-rejected-000000000001', 'pm_doesNotExist');
    expect(result).toMatchObject({
      kind: 'rejected',
      error: {
        code: 'invalid_request',
        param: 'payment_method_id',
        message: expect.stringMatching(/No such PaymentMethod/),
      },
      requestId: 'req_1',
    });
    expect(paymentResultStatus(result)).toBe(400);
    expect(only(h.memory.tables.payments)).toMatchObject({
      status: 'failed',
      failureCode: 'resource_missing',
    });
    expect(only(h.memory.tables.subscriptions).status).toBe('expired');
    const replay = await service.create(
      ...h.request('key-rejected-000000000001', { paymentMethodId: 'pm_doesNotExist' }),
    );
    expect(replay).toEqual({ replayed: true, result });
  });
});

describe('3-D Secure', () => {
  async function challenged() {
    const result = await pay('key-3ds-000000000000001', 'pm_card_threeDSecure2Required');
    const payment = only(h.memory.tables.payments);
    return { result, payment, intentId: payment.stripePaymentIntentId ?? '' };
  }

  it('answers requires_action with Stripe’s page, keeps the subscription incomplete, and records the return', async () => {
    const { result, payment, intentId } = await challenged();
    expect(result).toMatchObject({
      kind: 'requires_action',
      redirectUrl: expect.stringMatching(/^https:\/\/hooks/),
    });
    expect(paymentResultStatus(result)).toBe(201);
    expect(payment).toMatchObject({
      status: 'requires_action',
      nextActionUrl: (result as { redirectUrl: string }).redirectUrl,
    });
    expect(only(h.memory.tables.subscriptions).status).toBe('incomplete');
    const confirm = h.gateway.calls.find((c) => c.method === 'confirmIntent');
    expect(confirm).toBeDefined();

    h.gateway.completeThreeDSecure(intentId, true);
    h.clock.advance(5 * 60 * 1000);
    const back = await service.completeReturn(payment.id, 'req_return');
    expect(back.returnUrl).toBe('https://shop.example/thanks');
    expect(back.view.payment).toMatchObject({ status: 'succeeded', nextActionUrl: null });
    expect(only(h.memory.tables.subscriptions)).toMatchObject({
      status: 'active',
      currentPeriodStart: h.clock.now(),
      currentPeriodEnd: addInterval(h.clock.now(), 'month'),
    });
    expect(h.memory.tables.paymentEvents.at(-1)).toMatchObject({
      fromStatus: 'requires_action',
      toStatus: 'succeeded',
      amount: 2000,
      cause: { requestId: 'req_return' },
    });

    // Idempotent: a second return asks Stripe nothing and changes nothing.
    const calls = h.gateway.count();
    expect(await service.completeReturn(payment.id, 'req_return_2')).toEqual(back);
    expect(h.gateway.count()).toBe(calls);
    expect(h.memory.tables.paymentEvents).toHaveLength(3);
  });

  it('records a failed challenge as a failed payment and an expired subscription', async () => {
    const { payment, intentId } = await challenged();
    h.gateway.completeThreeDSecure(intentId, false);
    const back = await service.completeReturn(payment.id, 'req_return');
    expect(back.view.payment).toMatchObject({
      status: 'failed',
      failureCode: 'payment_intent_authentication_failure',
    });
    expect(only(h.memory.tables.subscriptions).status).toBe('expired');
  });

  it('leaves a payment whose challenge is still open as it is', async () => {
    const { payment } = await challenged();
    const back = await service.completeReturn(payment.id, 'req_return');
    expect(back.view.payment.status).toBe('requires_action');
    expect(h.memory.tables.paymentEvents).toHaveLength(2);
  });

  it('does not know a payment id that does not exist, or is malformed', async () => {
    await expect(service.completeReturn(newId('payment'), 'req')).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.completeReturn('pi_123', 'req')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('processing', () => {
  it('answers processing (201) and lets recovery record the bank’s final answer', async () => {
    const result = await pay('key-processing-0000000001', 'pm_card_twinProcessing');
    expect(result.kind).toBe('processing');
    expect(paymentResultStatus(result)).toBe(201);
    const payment = only(h.memory.tables.payments);
    expect(only(h.memory.tables.subscriptions).status).toBe('incomplete');
    h.gateway.settle(payment.stripePaymentIntentId ?? '', 'succeeded');
    h.clock.advance(2 * 60 * 1000);
    const report = await service.recover();
    expect(report).toMatchObject({ paymentsResolved: 1, keysResumed: 0, failures: [] });
    expect(only(h.memory.tables.payments).status).toBe('succeeded');
    expect(only(h.memory.tables.subscriptions).status).toBe('active');
    expect(h.memory.tables.paymentEvents.at(-1)?.cause).toEqual({ job: 'recovery' });
  });
});

describe('reading payments', () => {
  it('gets a payment of the account with its user and card, and hides it from every other account', async () => {
    const result = await pay('key-read-0000000000000001');
    const id = result.view.payment.id;
    expect(await service.get(h.account.id, id)).toEqual(result.view);
    const other = await h.memory.store.repos.accounts.create({ name: 'Other' });
    await expect(service.get(other.id, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(h.account.id, newId('payment'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(h.account.id, 'not-an-id')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists payments newest first, page by page, or one user’s only', async () => {
    const ids: string[] = [];
    for (const [i, user] of ['alice', 'bob', 'alice', 'alice'].entries()) {
      h.clock.advance(1000);
      ids.push((await pay(`key-list-${i}-000000000000000`, 'pm_card_visa', user)).view.payment.id);
    }
    const first = await service.list(h.account.id, { limit: 3 });
    expect(first.data.map((v) => v.payment.id)).toEqual([...ids].reverse().slice(0, 3));
    expect(first.hasMore).toBe(true);
    const rest = await service.list(h.account.id, { limit: 3, startingAfter: first.data[2]?.payment.id });
    expect({ ids: rest.data.map((v) => v.payment.id), hasMore: rest.hasMore }).toEqual({
      ids: [ids[0]],
      hasMore: false,
    });

    const alice = await service.list(h.account.id, { limit: 10, userId: 'alice' });
    expect(alice.data.map((v) => v.payment.id)).toEqual([ids[3], ids[2], ids[0]]);
    expect(alice.data.every((v) => v.userId === 'alice' && v.card?.last4 === '4242')).toBe(true);
    expect(await service.list(h.account.id, { limit: 10, userId: 'nobody' })).toEqual({
      data: [],
      hasMore: false,
    });
  });

  it('refuses a bad page request', async () => {
    await expect(service.list(h.account.id, { limit: 0 })).rejects.toMatchObject({ param: 'limit' });
    await expect(service.list(h.account.id, { limit: 10, startingAfter: 'pln_x' })).rejects.toMatchObject({
      param: 'starting_after',
    });
  });
});

it('builds the 3-D Secure return address from pay’s own base URL', async () => {
  await pay('key-return-url-0000000001', 'pm_card_threeDSecure2Required');
  const payment = only(h.memory.tables.payments);
  expect(h.gateway.intentReturnUrl(payment.stripePaymentIntentId ?? '')).toBe(
    `${API_BASE}/api/v1/payments/${payment.id}/return`,
  );
});
