import type { ConfirmOutcome } from '@pay/core';
import { intentFor, newPayment, payErrorFields, rejectionOf, startHarness, type Harness } from './harness.js';

/* Issue 4's payment flow through the adapter, with the real SDK against the sandbox: every outcome. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(() => h.sandbox.faults.clear());

const RETURN_URL = 'https://pay.example/api/v1/payments/return';

async function confirmCard(card: string, options: { offSession?: boolean } = {}) {
  const key = h.newKey();
  const gateway = h.gateway(key);
  const p = newPayment();
  const { intent } = await intentFor(gateway, p, card);
  const outcome = await gateway.confirmIntent({
    stripePaymentIntentId: intent.stripePaymentIntentId,
    idempotencyKey: p.keys.confirm,
    ...(options.offSession === true ? { offSession: true } : { returnUrl: RETURN_URL }),
  });
  return { key, gateway, p, intent, outcome };
}

function declineOf(outcome: ConfirmOutcome) {
  return outcome.kind === 'declined'
    ? { kind: outcome.kind, ...outcome.decline, intentStatus: outcome.intent?.status }
    : { kind: outcome.kind };
}

describe('creating an intent', () => {
  it('creates it unconfirmed, with only pay’s ids in its metadata', async () => {
    const key = h.newKey();
    const p = newPayment();
    const { intent, stripeCustomerId, card } = await intentFor(h.gateway(key), p, 'pm_card_visa');
    expect(intent).toMatchObject({
      status: 'pending',
      amount: 2000,
      amountReceived: 0,
      currency: 'usd',
      stripeCustomerId,
      stripePaymentMethodId: card.stripePaymentMethodId,
      paymentId: p.paymentId,
      accountId: p.accountId,
      redirectUrl: null,
      failure: null,
    });
    const raw = await h.stripe(key).paymentIntents.retrieve(intent.stripePaymentIntentId);
    expect(raw.metadata).toEqual({ pay_payment_id: p.paymentId, pay_account_id: p.accountId });
    expect(h.count(key, 'charge')).toBe(0);
  });

  it('returns the same intent for the same key, and Stripe holds one', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent, stripeCustomerId, card } = await intentFor(gateway, p, 'pm_card_visa');
    const again = await gateway.createIntent({
      paymentId: p.paymentId,
      accountId: p.accountId,
      amount: 2000,
      currency: 'usd',
      stripeCustomerId,
      stripePaymentMethodId: card.stripePaymentMethodId,
      idempotencyKey: p.keys.create,
    });
    expect(again.stripePaymentIntentId).toBe(intent.stripePaymentIntentId);
    expect(h.count(key, 'payment_intent')).toBe(1);
  });
});

describe('confirming', () => {
  it('4242: succeeds and captures the whole amount', async () => {
    const { outcome, key } = await confirmCard('pm_card_visa');
    expect(outcome.kind).toBe('succeeded');
    expect(outcome.intent).toMatchObject({ status: 'succeeded', amountReceived: 2000 });
    expect(h.count(key, 'charge')).toBe(1);
  });

  it.each([
    ['0002', 'pm_card_chargeDeclined', 'card_declined', 'generic_decline', 'Your card was declined.'],
    [
      '9995',
      'pm_card_chargeDeclinedInsufficientFunds',
      'card_declined',
      'insufficient_funds',
      'Your card has insufficient funds.',
    ],
    ['0069', 'pm_card_chargeDeclinedExpiredCard', 'expired_card', null, 'Your card has expired.'],
  ])(
    '%s: is declined with Stripe’s code and decline code',
    async (_last4, card, code, declineCode, message) => {
      const { outcome } = await confirmCard(card);
      expect(declineOf(outcome)).toEqual({
        kind: 'declined',
        code,
        declineCode,
        message,
        intentStatus: 'failed',
      });
    },
  );

  it('replays the first answer for the same confirmation key, without a second charge', async () => {
    const { gateway, intent, p, key, outcome } = await confirmCard('pm_card_chargeDeclined');
    const again = await gateway.confirmIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: p.keys.confirm,
      returnUrl: RETURN_URL,
    });
    expect(declineOf(again)).toEqual(declineOf(outcome));
    expect(h.count(key, 'charge')).toBe(1);
  });

  it('3220: requires 3-D Secure with a redirect URL, then succeeds once the card holder passes it', async () => {
    const { outcome, gateway, intent, key } = await confirmCard('pm_card_threeDSecure2Required');
    if (outcome.kind !== 'requires_action') {
      throw new Error(`expected requires_action, got ${JSON.stringify(outcome)}`);
    }
    expect(outcome.redirectUrl).toMatch(
      new RegExp(`^${h.sandbox.url}/_sandbox/3ds/${intent.stripePaymentIntentId}`),
    );
    expect(outcome.intent.status).toBe('requires_action');
    expect(h.count(key, 'charge')).toBe(0);

    h.sandbox.authenticate(intent.stripePaymentIntentId, 'succeed');
    const after = await gateway.retrieveIntent(intent.stripePaymentIntentId);
    expect(after).toMatchObject({ status: 'succeeded', amountReceived: 2000, redirectUrl: null });
    expect(h.count(key, 'charge')).toBe(1);
  });

  it('3220: ends failed, with the reason, when the card holder fails 3-D Secure', async () => {
    const { outcome, gateway, intent, key } = await confirmCard('pm_card_threeDSecure2Required');
    expect(outcome.kind).toBe('requires_action');
    h.sandbox.authenticate(intent.stripePaymentIntentId, 'fail');
    const after = await gateway.retrieveIntent(intent.stripePaymentIntentId);
    expect(after.status).toBe('failed');
    expect(after.failure?.code).toBe('payment_intent_authentication_failure');
    expect(after.stripePaymentMethodId).toBeNull();
    expect(h.count(key, 'charge')).toBe(0);
  });

  it('3220 off-session: is declined as authentication_required, since nobody can pass 3-D Secure', async () => {
    const { outcome } = await confirmCard('pm_card_threeDSecure2Required', { offSession: true });
    expect(declineOf(outcome)).toMatchObject({
      kind: 'declined',
      code: 'authentication_required',
      intentStatus: 'failed',
    });
  });

  it('reports processing when Stripe has not settled the charge yet, and the settled status later', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await intentFor(gateway, p, 'pm_card_visa');
    h.sandbox.faults.add({ kind: 'processing', times: 1 });
    const outcome = await gateway.confirmIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: p.keys.confirm,
    });
    expect(outcome).toMatchObject({ kind: 'processing', intent: { status: 'processing' } });
    h.sandbox.settle(intent.stripePaymentIntentId, 'succeeded');
    expect((await gateway.retrieveIntent(intent.stripePaymentIntentId)).status).toBe('succeeded');
  });

  it('refuses to confirm a canceled intent as a state conflict, and charges nothing', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const { intent } = await intentFor(gateway, p, 'pm_card_visa');
    await gateway.cancelIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: p.keys.cancel,
    });
    const error = await rejectionOf(
      gateway.confirmIntent({
        stripePaymentIntentId: intent.stripePaymentIntentId,
        idempotencyKey: p.keys.confirm,
      }),
    );
    expect(payErrorFields(error)).toMatchObject({ name: 'InvalidStateError', code: 'invalid_state' });
    expect(h.count(key, 'charge')).toBe(0);
  });
});
