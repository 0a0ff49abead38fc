import { paymentHarness, type PaymentHarness } from '../../test/memory/payment-harness.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS, IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
import { PAYMENT_CRASH_POINTS, type PaymentService } from './payment-service.js';

/* RELIABILITY.md A8 and C1 in core: a crash at any named point loses nothing and never charges twice. */

let h: PaymentHarness;
let service: PaymentService;

beforeEach(async () => {
  h = await paymentHarness();
  service = h.service();
});

const KEY = 'key-crash-000000000000001';
const STALE = DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1;
const DAY = IDEMPOTENCY_KEY_TTL_MS;

/** Runs the first request until the process "dies" at `point`, then "restarts" it. */
async function crashAt(point: string): Promise<void> {
  h.faults.arm(point);
  await expect(service.create(...h.request(KEY))).rejects.toThrow();
  expect(h.faults.reached).toContain(point);
  h.faults.restart();
  service = h.service();
}

/** K1, K2, K4, K5 for the one payment of the test, once it succeeded. */
function expectOneSucceededCharge(): void {
  expect(h.memory.tables.payments.map((p) => p.status)).toEqual(['succeeded']);
  const intents = h.gateway.allIntents();
  expect(intents.map((i) => [i.status, i.paymentId])).toEqual([
    ['succeeded', h.memory.tables.payments[0]?.id],
  ]);
  // Confirmations Stripe acted on (the first of a key, whether or not its answer came back).
  const acted = h.gateway.calls.filter(
    (c) =>
      c.method === 'confirmIntent' && ((!c.replayed && c.fault === null) || c.fault === 'unavailable_after'),
  );
  expect(acted).toHaveLength(1);
  expect(h.gateway.customerCount()).toBe(1);
  expect(h.memory.tables.paymentEvents.map((e) => e.toStatus)).toEqual(['pending', 'succeeded']);
  expect(h.memory.tables.subscriptions.map((s) => s.status)).toEqual(['active']);
  expect(h.memory.tables.idempotencyKeys.map((k) => [k.recoveryPoint, k.lockedAt, k.responseStatus])).toEqual(
    [['finished', null, 201]],
  );
}

const FLOW_POINTS = PAYMENT_CRASH_POINTS.filter((p) => !p.includes('retrieve_intent'));

describe.each(FLOW_POINTS)('a crash at %s', (point) => {
  it('is finished by the client’s retry once the lock is stale', async () => {
    await crashAt(point);
    h.clock.advance(STALE);
    const retry = await service.create(...h.request(KEY));
    expect(retry.result.kind).toBe('succeeded');
    expect(retry.replayed).toBe(point === 'payment.after_commit_before_response');
    expectOneSucceededCharge();
  });

  it('is finished by one recovery pass, and the client’s retry then gets the stored answer', async () => {
    await crashAt(point);
    h.clock.advance(STALE);
    const report = await service.recover();
    expect(report).toMatchObject({
      keysResumed: point === 'payment.after_commit_before_response' ? 0 : 1,
      failures: [],
    });
    expectOneSucceededCharge();
    expect(await service.create(...h.request(KEY))).toMatchObject({
      replayed: true,
      result: { kind: 'succeeded' },
    });
    expect(
      h.memory.tables.paymentEvents
        .slice(1)
        .every((e) => e.cause.job === 'recovery' || e.cause.requestId === 'req_1'),
    ).toBe(true);
  });
});

describe('the 3-D Secure return', () => {
  it.each(['payment.before_retrieve_intent', 'payment.after_retrieve_intent_before_commit'])(
    'crashing at %s is finished by the next return or by recovery',
    async (point) => {
      await service.create(...h.request(KEY, { paymentMethodId: 'pm_card_threeDSecure2Required' }));
      const payment = h.memory.tables.payments[0];
      h.gateway.completeThreeDSecure(payment?.stripePaymentIntentId ?? '', true);
      h.faults.arm(point);
      await expect(service.completeReturn(payment?.id ?? '', 'req_return')).rejects.toThrow();
      h.faults.restart();
      service = h.service();
      expect(h.memory.tables.payments[0]?.status).toBe('requires_action');
      h.clock.advance(STALE);
      expect(await service.recover()).toMatchObject({ paymentsResolved: 1, failures: [] });
      expect((await service.completeReturn(payment?.id ?? '', 'req_return')).view.payment.status).toBe(
        'succeeded',
      );
      expect(h.memory.tables.subscriptions[0]?.status).toBe('active');
    },
  );
});

describe('recover()', () => {
  it('resumes a released key at once, without waiting for the lock timeout', async () => {
    h.gateway.fail('confirmIntent', 'unavailable_after');
    await expect(service.create(...h.request(KEY))).rejects.toThrow();
    expect(await service.recover()).toMatchObject({ keysResumed: 1, paymentsResolved: 0, failures: [] });
    expectOneSucceededCharge();
  });

  it('leaves a key a live request holds alone', async () => {
    h.faults.arm('payment.after_key_insert');
    await expect(service.create(...h.request(KEY))).rejects.toThrow();
    h.faults.restart();
    expect(await service.recover()).toMatchObject({ keysResumed: 0, paymentsResolved: 0, keysReaped: 0 });
    expect(h.gateway.count()).toBe(0);
    expect(h.memory.tables.payments[0]?.status).toBe('pending');
  });

  it('records what Stripe says of a challenge the card holder finished without coming back', async () => {
    await service.create(...h.request(KEY, { paymentMethodId: 'pm_card_threeDSecure2Required' }));
    h.gateway.completeThreeDSecure(h.memory.tables.payments[0]?.stripePaymentIntentId ?? '', true);
    expect(await service.recover()).toMatchObject({ paymentsResolved: 0 }); // younger than the lock timeout
    h.clock.advance(STALE);
    expect(await service.recover()).toMatchObject({ paymentsResolved: 1, failures: [] });
    expect(h.memory.tables.payments[0]?.status).toBe('succeeded');
    expect(h.memory.tables.subscriptions[0]?.status).toBe('active');
    expect(await service.recover()).toMatchObject({ paymentsResolved: 0 }); // nothing left to do
  });

  it('counts an object it could not finish as a failure and goes on with the others', async () => {
    for (const key of ['key-a-00000000000000000001', 'key-b-00000000000000000001']) {
      h.gateway.fail('confirmIntent', 'unavailable_before');
      await expect(service.create(...h.request(key))).rejects.toThrow();
    }
    h.gateway.fail('confirmIntent', 'unavailable_before');
    const report = await service.recover();
    expect(report.keysResumed).toBe(1);
    expect(report.failures).toEqual([
      { id: expect.stringMatching(/^pay_/), error: expect.stringMatching(/did not answer/) },
    ]);
    expect(await service.recover()).toMatchObject({ keysResumed: 1, failures: [] });
    expect(h.memory.tables.payments.map((p) => p.status)).toEqual(['succeeded', 'succeeded']);
    expect(h.gateway.allIntents()).toHaveLength(2);
  });

  it('deletes keys older than 24 h; the same key then starts a new request, as with Stripe', async () => {
    await service.create(...h.request(KEY));
    h.clock.advance(DAY - 1000);
    expect(await service.recover()).toMatchObject({ keysReaped: 0 });
    expect((await service.create(...h.request(KEY))).replayed).toBe(true);
    h.clock.advance(2000);
    expect(await service.recover()).toMatchObject({ keysReaped: 1 });
    expect(h.memory.tables.idempotencyKeys).toEqual([]);
    expect((await service.create(...h.request(KEY))).replayed).toBe(false);
    expect(h.memory.tables.payments).toHaveLength(2);
  });
});

describe('past Stripe’s 24 h key window', () => {
  it('a retry looks the lost intent up instead of creating it again, then confirms it', async () => {
    await crashAt('payment.after_create_intent_before_commit');
    expect(h.gateway.allIntents()).toHaveLength(1);
    h.clock.advance(DAY + 60_000);
    const retry = await service.create(...h.request(KEY));
    expect(retry.result.kind).toBe('succeeded');
    expect(h.gateway.count('createIntent')).toBe(1);
    expect(h.gateway.count('findIntentByPaymentId')).toBe(1);
    expectOneSucceededCharge();
  });

  it('recovery cancels an intent nobody will confirm any more, found by lookup, and expires the subscription', async () => {
    await crashAt('payment.after_create_intent_before_commit');
    h.clock.advance(DAY + 60_000);
    const report = await service.recover();
    expect(report).toMatchObject({ keysResumed: 0, paymentsResolved: 1, keysReaped: 1, failures: [] });
    expect(h.gateway.count('createIntent')).toBe(1);
    expect(h.gateway.count('findIntentByPaymentId')).toBe(1);
    expect(h.gateway.allIntents().map((i) => i.status)).toEqual(['canceled']);
    expect(h.memory.tables.payments[0]).toMatchObject({
      status: 'canceled',
      stripePaymentIntentId: h.gateway.allIntents()[0]?.stripePaymentIntentId,
      failureCode: 'payment_canceled',
    });
    expect(h.memory.tables.subscriptions[0]?.status).toBe('expired');
  });

  it('recovery cancels a payment that never reached Stripe, without any gateway call', async () => {
    await crashAt('payment.after_key_insert');
    h.clock.advance(DAY + 60_000);
    expect(await service.recover()).toMatchObject({ paymentsResolved: 1, keysReaped: 1, failures: [] });
    expect(h.gateway.count()).toBe(0);
    expect(h.memory.tables.payments[0]?.status).toBe('canceled');
    expect(h.memory.tables.paymentEvents.at(-1)).toMatchObject({
      toStatus: 'canceled',
      cause: { job: 'recovery' },
    });
  });

  it('recovery leaves a young payment without an intent to its key', async () => {
    h.gateway.fail('createIntent', 'unavailable_before');
    await expect(service.create(...h.request(KEY))).rejects.toThrow();
    h.gateway.fail('createIntent', 'unavailable_before');
    h.clock.advance(10 * 60_000);
    const report = await service.recover();
    expect(report.paymentsResolved).toBe(0);
    expect(report.failures).toHaveLength(1);
    expect(h.memory.tables.payments[0]?.status).toBe('pending');
  });
});

describe('a confirm resumed by another process', () => {
  it('sends the 3-D Secure return address recorded with the key, not its own', async () => {
    // The Stripe call was made and its answer lost; the process that resumes it (the CLI's
    // `pay recover`) derives another address for pay. Re-sending the confirm with it under the same
    // Stripe key would be refused by Stripe as a reuse of the key.
    h.faults.arm('payment.after_confirm_before_commit');
    await expect(service.create(...h.request(KEY))).rejects.toThrow();
    h.faults.restart();
    service = h.service({
      threeDSecureReturnUrl: (id) => `http://localhost:3000/api/v1/payments/${id}/return`,
    });
    h.clock.advance(STALE);

    expect(await service.recover()).toMatchObject({ keysResumed: 1, failures: [] });

    expectOneSucceededCharge();
    const [intent] = h.gateway.allIntents();
    const paymentId = h.memory.tables.payments[0]?.id;
    expect(h.gateway.intentReturnUrl(intent?.stripePaymentIntentId ?? '')).toBe(
      `https://pay.example/api/v1/payments/${paymentId}/return`,
    );
  });
});
