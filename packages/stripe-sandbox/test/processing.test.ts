import Stripe from 'stripe';
import { ControlError, type ApiFault } from '../src/index.js';
import { confirmWith, harness, type Harness, idOf, newKey, stripeError } from './harness.js';
import { confirmVisa, sandboxHarness } from './webhooks-sandbox.js';

/*
 * SANDBOX.md §4.3 ("`processing` never occurs for cards in the sandbox unless a fault asks for it") and
 * §6.4: the `processing` fault, its settlement on the clock or through the control plane, through the SDK.
 */

type ProcessingOptions = Omit<Extract<ApiFault, { kind: 'processing' }>, 'kind'>;

const CONFIRM_PATH = '/v1/payment_intents/*/confirm';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());
afterEach(() => h.sandbox.faults.clear());

function account(key: string): string {
  return h.sandbox.accountIdForKey(key);
}

/** Creates and confirms (in one call) under a one-shot `processing` fault. */
function confirmProcessing(
  stripe: Stripe,
  fault: ProcessingOptions = {},
  pm = 'pm_card_visa',
  params: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.Response<Stripe.PaymentIntent>> {
  h.sandbox.faults.add({ kind: 'processing', times: 1, ...fault });
  return confirmWith(stripe, pm, params);
}

/** The `ControlError` an in-process control call throws. */
function controlError(call: () => unknown): ControlError {
  try {
    call();
  } catch (error) {
    if (error instanceof ControlError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ControlError');
}

/** Event types of the account, oldest first (the API lists newest first). */
async function eventTypes(stripe: Stripe): Promise<string[]> {
  return (await stripe.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('confirming under the processing fault', () => {
  it('leaves the intent processing after confirm, with the payment method and no charge yet', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const created = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
    });
    h.sandbox.faults.add({ kind: 'processing', times: 1, match: { method: 'POST', path: CONFIRM_PATH } });
    const pi = await stripe.paymentIntents.confirm(created.id);
    expect(pi).toMatchObject({
      status: 'processing',
      processing: { type: 'card', card: {} },
      payment_method: created.payment_method,
      latest_charge: null,
      amount_received: 0,
      last_payment_error: null,
      next_action: null,
    });
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({ status: 'processing' });
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(0);
    expect(h.sandbox.requests({ account: account(key), method: 'POST' }).map((r) => r.faults)).toEqual([
      [],
      ['processing'],
    ]);
  });

  it('emits payment_intent.processing and no charge event', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmProcessing(stripe);
    expect(await eventTypes(stripe)).toEqual(['payment_intent.created', 'payment_intent.processing']);
    const [event] = (await stripe.events.list({ type: 'payment_intent.processing' })).data;
    expect(event?.request).toEqual({ id: pi.lastResponse.requestId, idempotency_key: expect.any(String) });
    expect(event?.data.object).toMatchObject({ id: pi.id, status: 'processing' });
  });

  it('is taken only by a matching confirmation that reaches the charge step', async () => {
    const stripe = h.stripe(newKey());
    h.sandbox.faults.add({ kind: 'processing', times: 1, match: { path: CONFIRM_PATH } });
    // Create-and-confirm is another path; it charges as usual.
    expect((await confirmWith(stripe, 'pm_card_visa')).status).toBe('succeeded');
    // A confirmation that stops at 3-D Secure, or answers 400, leaves the fault's times alone.
    const challenged = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_threeDSecure2Required',
      allowed_payment_method_types: ['card'],
    });
    expect((await stripe.paymentIntents.confirm(challenged.id)).status).toBe('requires_action');
    const missing = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd' });
    expect((await stripeError(stripe.paymentIntents.confirm(missing.id))).statusCode).toBe(400);
    expect(h.sandbox.faults.list()).toEqual([expect.objectContaining({ remaining: 1 })]);

    const visa = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
    });
    expect((await stripe.paymentIntents.confirm(visa.id)).status).toBe('processing');
    expect(h.sandbox.faults.list()).toEqual([]);
  });

  it('refuses to confirm, capture or change the amount of a processing intent, but takes metadata', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmProcessing(stripe, {}, 'pm_card_visa', { capture_method: 'manual' });
    for (const call of [
      () => stripe.paymentIntents.confirm(pi.id),
      () => stripe.paymentIntents.capture(pi.id),
      () => stripe.paymentIntents.update(pi.id, { amount: 3000 }),
    ]) {
      const error = await stripeError(call());
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    }
    const tagged = await stripe.paymentIntents.update(pi.id, { metadata: { order: 'ord_1' } });
    expect(tagged).toMatchObject({ status: 'processing', metadata: { order: 'ord_1' } });
  });
});

describe('settling on the clock', () => {
  it('settles on clock advance to succeeded with a charge and the success events', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const pi = await confirmProcessing(stripe, { settle_after_seconds: 60 });
    h.sandbox.advance(59);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('processing');

    h.sandbox.advance(1);
    const settled = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    expect(settled).toMatchObject({
      status: 'succeeded',
      amount_received: 2000,
      processing: null,
      last_payment_error: null,
    });
    const charge = settled.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({
      status: 'succeeded',
      paid: true,
      captured: true,
      amount_captured: 2000,
      payment_intent: pi.id,
      balance_transaction: null,
      created: pi.created + 60,
    });
    expect(await eventTypes(stripe)).toEqual([
      'payment_intent.created',
      'payment_intent.processing',
      'charge.succeeded',
      'payment_intent.succeeded',
    ]);
    // Automatic work, as an asynchronous capture is: no request caused it.
    const [succeeded] = (await stripe.events.list({ type: 'payment_intent.succeeded' })).data;
    expect(succeeded?.request).toEqual({ id: null, idempotency_key: null });

    h.sandbox.advance(1);
    expect((await eventTypes(stripe)).at(-1)).toBe('charge.updated');
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(1);
  });

  it('settles to failed with last_payment_error and a failed charge when asked', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmProcessing(stripe, { settle_after_seconds: 30, outcome: 'failed' });
    h.sandbox.advance(30);
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    expect(failed).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      processing: null,
      last_payment_error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        charge: failed.latest_charge,
      },
    });
    const charge = await stripe.charges.retrieve(idOf(failed.latest_charge));
    expect(charge).toMatchObject({ status: 'failed', paid: false, failure_code: 'card_declined' });
    expect((await eventTypes(stripe)).slice(-2)).toEqual(['charge.failed', 'payment_intent.payment_failed']);
  });

  it("settles a decline card to the card's own decline by default, answering 200 at confirm", async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmProcessing(
      stripe,
      { settle_after_seconds: 5 },
      'pm_card_visa_chargeDeclinedInsufficientFunds',
    );
    expect(pi.status).toBe('processing');
    h.sandbox.advance(5);
    expect((await stripe.paymentIntents.retrieve(pi.id)).last_payment_error).toMatchObject({
      code: 'card_declined',
      decline_code: 'insufficient_funds',
    });
  });

  it('settles by a timer on a real clock', async () => {
    const real = await harness({ clock: 'real' });
    try {
      const stripe = real.stripe();
      real.sandbox.faults.add({ kind: 'processing', times: 1, settle_after_seconds: 0.2 });
      const pi = await confirmWith(stripe, 'pm_card_visa');
      expect(pi.status).toBe('processing');
      let status = pi.status;
      for (const deadline = Date.now() + 5000; status === 'processing' && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await stripe.paymentIntents.retrieve(pi.id)).status;
      }
      expect(status).toBe('succeeded');
    } finally {
      await real.close();
    }
  });
});

describe('settling through the control plane', () => {
  it('settles at once with POST /_sandbox/payment_intents/:id/settle, and the scheduled settle then does nothing', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const pi = await confirmProcessing(stripe, { settle_after_seconds: 30, outcome: 'failed' });
    const res = await h.control('POST', `payment_intents/${pi.id}/settle`, { outcome: 'succeeded' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: pi.id, status: 'succeeded', amount_received: 2000 });

    h.sandbox.advance(30);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(1);

    const again = await h.control('POST', `payment_intents/${pi.id}/settle`, {});
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ type: 'sandbox_error' });
    expect((await h.control('POST', `payment_intents/${pi.id}/settle`, { outcome: 'maybe' })).status).toBe(
      400,
    );
    expect((await h.control('POST', 'payment_intents/pi_nope/settle', {})).status).toBe(404);
  });

  it('settles through the handle, to requires_capture under manual capture', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmProcessing(stripe, {}, 'pm_card_visa', { capture_method: 'manual' });
    expect(h.sandbox.settle(pi.id)).toMatchObject({ status: 'requires_capture', amount_capturable: 2000 });
    expect((await eventTypes(stripe)).slice(-2)).toEqual([
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
    ]);
    expect(controlError(() => h.sandbox.settle(pi.id)).status).toBe(409);
  });

  it('cancels a processing intent, which then never settles', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const pi = await confirmProcessing(stripe, { settle_after_seconds: 10 });
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
      processing: null,
      latest_charge: null,
    });
    h.sandbox.advance(10);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('canceled');
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(0);
    expect(await eventTypes(stripe)).toEqual([
      'payment_intent.created',
      'payment_intent.processing',
      'payment_intent.canceled',
    ]);
    expect(controlError(() => h.sandbox.settle(pi.id)).status).toBe(409);
  });
});

describe('idempotency and webhooks', () => {
  it('replays the confirm with the processing body as stored, after the intent settled', async () => {
    const key = newKey();
    const stripe = h.stripe(key);
    const created = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
    });
    h.sandbox.faults.add({ kind: 'processing', times: 1 });
    const first = await stripe.paymentIntents.confirm(created.id, {}, { idempotencyKey: 'processing-1' });
    h.sandbox.settle(first.id);

    const replay = await stripe.paymentIntents.confirm(created.id, {}, { idempotencyKey: 'processing-1' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect({ ...replay, lastResponse: null }).toEqual({ ...first, lastResponse: null });
    expect(replay.status).toBe('processing');
    expect((await stripe.paymentIntents.retrieve(created.id)).status).toBe('succeeded');
    expect(h.sandbox.ledger.count('charge', account(key))).toBe(1);
  });

  it('delivers payment_intent.processing, then payment_intent.succeeded, signed for the endpoint', async () => {
    const w = await sandboxHarness();
    try {
      const endpoint = await w.stripe.webhookEndpoints.create({
        url: w.receiver.url,
        enabled_events: ['payment_intent.processing', 'payment_intent.succeeded'],
      });
      // Added over HTTP, as a test in another process would.
      await w.control('POST', 'faults', { kind: 'processing', times: 1, settle_after_seconds: 5 });
      const pi = await confirmVisa(w.stripe);
      await w.control('POST', 'webhooks/flush');
      const processing = await w.verify((await w.receiver.waitFor(1))[0], endpoint.secret ?? '');
      expect(processing).toMatchObject({
        type: 'payment_intent.processing',
        request: { id: pi.lastResponse.requestId },
        data: { object: { id: pi.id, status: 'processing' } },
      });

      await w.control('POST', 'clock', { advance_seconds: 5 });
      await w.control('POST', 'webhooks/flush');
      const succeeded = await w.verify((await w.receiver.waitFor(2))[1], endpoint.secret ?? '');
      expect(succeeded).toMatchObject({
        type: 'payment_intent.succeeded',
        data: { object: { id: pi.id, status: 'succeeded' } },
      });
    } finally {
      await w.close();
    }
  });
});
