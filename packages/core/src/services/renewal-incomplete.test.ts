import { renewalHarness, type RenewalHarness } from '../../test/memory/renewal-harness.js';
import type { Payment } from '../domain/entities.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
import { INCOMPLETE_EXPIRY_MS } from './subscription-results.js';

/* An `incomplete` subscription whose first payment was abandoned expires after 23 h; its intent is canceled. */

let h: RenewalHarness;

beforeEach(async () => {
  h = await renewalHarness();
});

/** A first payment that waits for 3-D Secure the card holder never completes. */
async function abandonedFirstPayment(): Promise<Payment> {
  const attempt = await h
    .service()
    .create(...h.request('key-abandoned-3ds-000001', { paymentMethodId: 'pm_card_threeDSecure2Required' }));
  expect(attempt.result.kind).toBe('requires_action');
  return attempt.result.view.payment;
}

function subscriptionOf(payment: Payment) {
  return h.memory.tables.subscriptions.find((s) => s.id === payment.subscriptionId);
}

describe('incomplete subscriptions past their deadline', () => {
  it('expire, and their first payment’s intent is canceled at Stripe', async () => {
    const payment = await abandonedFirstPayment();
    const renewals = h.renewals();
    h.clock.advance(INCOMPLETE_EXPIRY_MS - 1);
    expect(await renewals.renewDue()).toMatchObject({ expired: 0 });
    expect(subscriptionOf(payment)?.status).toBe('incomplete');

    h.clock.advance(2);
    expect(await renewals.renewDue()).toMatchObject({ expired: 1, attempted: 0, failures: [] });
    expect(subscriptionOf(payment)).toMatchObject({ status: 'expired', nextBillingAt: null });
    expect(h.memory.tables.payments.find((p) => p.id === payment.id)?.status).toBe('canceled');
    expect(h.gateway.allIntents().map((i) => [i.paymentId, i.status])).toEqual([[payment.id, 'canceled']]);
    const events = await h.store.repos.subscriptions.listEvents(payment.subscriptionId ?? ('' as never));
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.cause.job])).toEqual([
      [null, 'incomplete', undefined],
      ['incomplete', 'expired', 'renewals'],
    ]);
    expect(await renewals.renewDue()).toMatchObject({ expired: 0 });
  });

  it('are activated instead when the card holder completed 3-D Secure and pay never heard', async () => {
    const payment = await abandonedFirstPayment();
    h.gateway.completeThreeDSecure(payment.stripePaymentIntentId ?? '', true);
    h.clock.advance(INCOMPLETE_EXPIRY_MS + 1);
    expect(await h.renewals().renewDue()).toMatchObject({ expired: 0, failures: [] });
    expect(subscriptionOf(payment)?.status).toBe('active');
    expect(h.memory.tables.payments.find((p) => p.id === payment.id)?.status).toBe('succeeded');
  });

  it('wait for recovery when the first payment never reached Stripe, which then expires them', async () => {
    h.gateway.fail('createIntent', 'unavailable_before');
    await expect(h.service().create(...h.request('key-outage-first-000001'))).rejects.toMatchObject({
      code: 'dependency_unavailable',
    });
    const [payment] = h.memory.tables.payments;
    if (payment === undefined) {
      throw new Error('no payment');
    }
    h.clock.advance(INCOMPLETE_EXPIRY_MS + 1);
    expect(await h.renewals().renewDue()).toMatchObject({ expired: 0, waiting: 1 });
    h.clock.advance(IDEMPOTENCY_KEY_TTL_MS - INCOMPLETE_EXPIRY_MS);
    await h.service().recover();
    expect(await h.renewals().renewDue()).toMatchObject({ expired: 0, waiting: 0 });
    expect(subscriptionOf(payment)?.status).toBe('expired');
  });
});
