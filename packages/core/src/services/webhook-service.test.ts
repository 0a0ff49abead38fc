import { webhookHarness, type WebhookHarness } from '../../test/memory/webhook-harness.js';
import {
  DependencyUnavailableError,
  NotFoundError,
  UnknownGatewayStateError,
  ValidationError,
} from '../errors.js';
import type { GatewayIntent } from '../ports/gateway.js';

/*
 * The inbox end to end on the in-memory store: what `receive` stores, what the worker applies for each
 * PaymentIntent event, and how it fails, retries, dies and comes back by replay.
 */

const DECLINE = { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' };

function subscriptionOf(h: WebhookHarness, paymentId: string) {
  const payment = h.memory.tables.payments.find((p) => p.id === paymentId);
  return h.memory.tables.subscriptions.find((s) => s.id === payment?.subscriptionId);
}

function eventRow(h: WebhookHarness, stripeEventId: string) {
  return h.memory.tables.webhookEvents.find((e) => e.stripeEventId === stripeEventId);
}

describe('WebhookService.receive', () => {
  it('stores a delivery once, pending and due now, with its raw payload', async () => {
    const h = await webhookHarness();
    const { intentId } = await h.pay();
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    const first = await h.webhooks.receive(delivery.payload);
    const again = await h.webhooks.receive(delivery.payload);
    expect(first.inserted).toBe(true);
    expect(again).toEqual({ inserted: false, event: first.event });
    expect(first.event).toMatchObject({
      stripeEventId: delivery.stripeEventId,
      type: 'payment_intent.succeeded',
      objectId: intentId,
      payload: delivery.payload,
      signatureVerified: true,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: h.clock.now(),
    });
    expect(h.memory.tables.webhookEvents).toHaveLength(1);
  });

  it('refuses a payload that is not an event and stores nothing', async () => {
    const h = await webhookHarness();
    await expect(h.webhooks.receive('{"not":"an event"}')).rejects.toBeInstanceOf(UnknownGatewayStateError);
    await expect(h.webhooks.receive('garbage')).rejects.toBeInstanceOf(UnknownGatewayStateError);
    expect(h.memory.tables.webhookEvents).toHaveLength(0);
  });

  it('stores a real event it cannot read as dead, once, so Stripe stops redelivering it', async () => {
    const h = await webhookHarness();
    // A Stripe event whose object this version of pay has no word for (a manual-capture status).
    const payload = JSON.stringify({
      id: 'evt_unreadable1',
      object: 'event',
      type: 'payment_intent.amount_capturable_updated',
      api_version: '2025-11-17.clover',
      livemode: false,
      created: 1_795_000_000,
      data: { object: { id: 'pi_manual1', object: 'payment_intent', status: 'requires_capture' } },
    });
    const first = await h.webhooks.receive(payload);
    const again = await h.webhooks.receive(payload);
    expect(first.inserted).toBe(true);
    expect(again.inserted).toBe(false);
    expect(h.memory.tables.webhookEvents).toEqual([
      expect.objectContaining({
        stripeEventId: 'evt_unreadable1',
        type: 'payment_intent.amount_capturable_updated',
        objectId: 'pi_manual1',
        status: 'dead',
        lastError: expect.stringMatching(/^pay cannot read this event: /) as unknown,
      }),
    ]);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });
  });
});

describe('WebhookService.processDue: PaymentIntent events', () => {
  it('payment_intent.succeeded completes a 3-D Secure payment and activates its subscription', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    expect(payment.status).toBe('requires_action');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);

    expect(await h.webhooks.processDue()).toEqual({ processed: 1, ignored: 0, failed: 0, dead: 0 });
    expect(h.payment(payment.id)).toMatchObject({ status: 'succeeded', nextActionUrl: null });
    expect(subscriptionOf(h, payment.id)).toMatchObject({ status: 'active' });
    expect(eventRow(h, delivery.stripeEventId)).toMatchObject({ status: 'processed', attempts: 1 });
    const events = h.memory.tables.paymentEvents.filter((e) => e.paymentId === payment.id);
    expect(events.at(-1)).toMatchObject({
      fromStatus: 'requires_action',
      toStatus: 'succeeded',
      amount: 2000,
      cause: { stripeEventId: delivery.stripeEventId },
    });
    expect(h.outcomes).toEqual([{ status: 'processed', type: 'payment_intent.succeeded', lagSeconds: 0 }]);
  });

  it('payment_intent.processing, then .succeeded, move a payment forward one step each', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const processing = h.stripe.event('payment_intent.processing', {
      kind: 'payment_intent',
      intent: { ...h.stripe.intent(intentId), status: 'processing' },
    });
    await h.deliver(processing);
    await h.webhooks.processDue();
    expect(h.payment(payment.id).status).toBe('processing');
    await h.deliver(h.stripe.intentEvent('payment_intent.succeeded', intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id).status).toBe('succeeded');
  });

  it('payment_intent.requires_action records the 3-D Secure page of a pending payment', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    // Back to what pay had before the confirmation's answer arrived: the webhook overtook it.
    h.memory.tables.payments = h.memory.tables.payments.map((p) =>
      p.id === payment.id ? { ...p, status: 'pending', nextActionUrl: null } : p,
    );
    await h.deliver(h.stripe.intentEvent('payment_intent.requires_action', intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({
      status: 'requires_action',
      nextActionUrl: `https://hooks.stripe.test/3ds/${intentId}`,
    });
  });

  it('payment_intent.canceled cancels the payment and expires its subscription', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    await h.stripe.cancelIntent({ stripePaymentIntentId: intentId, idempotencyKey: 'cancel-test' });
    await h.deliver(h.stripe.intentEvent('payment_intent.canceled', intentId));
    await h.webhooks.processDue();
    expect(h.payment(payment.id)).toMatchObject({ status: 'canceled', failureCode: 'payment_canceled' });
    expect(subscriptionOf(h, payment.id)).toMatchObject({ status: 'expired' });
  });

  it('payment_intent.payment_failed applies the intent as Stripe has it now, fetched outside the transaction', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecureRequiredChargeDeclined');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.payment_failed', intentId);
    await h.deliver(delivery);
    const retrievesBefore = h.stripe.count('retrieveIntent');

    await h.webhooks.processDue();
    expect(h.stripe.count('retrieveIntent')).toBe(retrievesBefore + 1);
    expect(h.payment(payment.id)).toMatchObject({
      status: 'failed',
      failureCode: 'card_declined',
      declineCode: 'generic_decline',
    });
    expect(subscriptionOf(h, payment.id)).toMatchObject({ status: 'expired' });
    expect(eventRow(h, delivery.stripeEventId)).toMatchObject({ status: 'processed', attempts: 1 });
  });

  it('a stale payment_failed whose intent has since succeeded makes the payment succeed, not fail', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_twinProcessing');
    const failedSnapshot: GatewayIntent = {
      ...h.stripe.intent(intentId),
      status: 'failed',
      failure: DECLINE,
    };
    h.stripe.settle(intentId, 'succeeded');
    await h.deliver(
      h.stripe.event('payment_intent.payment_failed', { kind: 'payment_intent', intent: failedSnapshot }),
    );
    await h.webhooks.processDue();
    expect(h.payment(payment.id).status).toBe('succeeded');
  });

  it('a late payment_failed after succeeded changes nothing and fetches nothing', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay();
    const before = h.memory.tables.paymentEvents.length;
    const retrievesBefore = h.stripe.count('retrieveIntent');
    await h.deliver(
      h.stripe.event('payment_intent.payment_failed', {
        kind: 'payment_intent',
        intent: { ...h.stripe.intent(intentId), status: 'failed', failure: DECLINE },
      }),
    );
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 1 });
    expect(h.payment(payment.id).status).toBe('succeeded');
    expect(h.memory.tables.paymentEvents).toHaveLength(before);
    expect(h.stripe.count('retrieveIntent')).toBe(retrievesBefore);
  });

  it('ignores an intent without pay metadata and an unknown event type, and records both', async () => {
    const h = await webhookHarness();
    const { intentId } = await h.pay();
    const foreign = h.stripe.event('payment_intent.succeeded', {
      kind: 'payment_intent',
      intent: {
        ...h.stripe.intent(intentId),
        stripePaymentIntentId: 'pi_elsewhere',
        paymentId: null,
        accountId: null,
      },
    });
    const unknown = h.stripe.event('customer.created', { kind: 'other' });
    await h.deliver(foreign, unknown);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 2, failed: 0, dead: 0 });
    expect(eventRow(h, foreign.stripeEventId)?.status).toBe('ignored');
    expect(eventRow(h, unknown.stripeEventId)?.status).toBe('ignored');
  });

  it('retries an event about a payment pay has not recorded yet, then applies it once it is there', async () => {
    const h = await webhookHarness({ backoff: { baseMs: 1_000, capMs: 60_000 } });
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    // The flow has not recorded the intent's id yet (a crash between creating and recording it).
    h.memory.tables.payments = h.memory.tables.payments.map((p) =>
      p.id === payment.id ? { ...p, stripePaymentIntentId: null } : p,
    );
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);

    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 1, dead: 0 });
    const failed = eventRow(h, delivery.stripeEventId);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed?.lastError).toMatch(/has not recorded PaymentIntent/);
    expect(failed?.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(h.clock.now().getTime() + 1_000);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });

    await h.memory.store.repos.payments.setStripeIntentId(payment.id, intentId);
    h.clock.advance(1_000);
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 1 });
    expect(h.payment(payment.id).status).toBe('succeeded');
  });

  it('applies each Stripe event once: a redelivery after processing stores and applies nothing', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);
    await h.webhooks.processDue();
    const rows = h.memory.tables.paymentEvents.length;
    await h.deliver(delivery);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });
    expect(h.memory.tables.paymentEvents).toHaveLength(rows);
    expect(h.payment(payment.id).status).toBe('succeeded');
  });

  it('a worker told to stop finishes the event it holds, claims no other, and leaves the rest due for the next', async () => {
    const h = await webhookHarness();
    const first = await h.pay('pm_card_threeDSecure2Required');
    const second = await h.pay('pm_card_threeDSecure2Required');
    for (const { intentId } of [first, second]) {
      h.stripe.completeThreeDSecure(intentId, true);
      await h.deliver(h.stripe.intentEvent('payment_intent.succeeded', intentId));
    }
    const stop = new AbortController();
    // Aborted as the first event's transaction opens: the pass finishes that event and ends.
    h.onNextTransaction(() => stop.abort());
    const pass = h.webhooks.processDue({ signal: stop.signal });
    expect(await pass).toEqual({ processed: 1, ignored: 0, failed: 0, dead: 0 });
    expect(h.memory.tables.webhookEvents.map((e) => e.status).sort()).toEqual(['pending', 'processed']);

    expect(await h.webhooks.processDue()).toEqual({ processed: 1, ignored: 0, failed: 0, dead: 0 });
    expect([h.payment(first.payment.id).status, h.payment(second.payment.id).status]).toEqual([
      'succeeded',
      'succeeded',
    ]);
  });
});

describe('WebhookService: failures, dead events and replay', () => {
  it('backs a poison event off exponentially, ends it dead, and keeps processing the others', async () => {
    const h = await webhookHarness({ maxAttempts: 3, backoff: { baseMs: 1_000, capMs: 60_000 } });
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    const poison = h.stripe.event('charge.refunded', { kind: 'other' });
    await h.deliver(poison);
    h.stripe.completeThreeDSecure(intentId, true);
    const good = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(good);

    expect(await h.webhooks.processDue()).toEqual({ processed: 1, ignored: 0, failed: 1, dead: 0 });
    expect(h.payment(payment.id).status).toBe('succeeded');
    const waits: number[] = [];
    for (let attempt = 2; attempt <= 3; attempt++) {
      const row = eventRow(h, poison.stripeEventId);
      const wait = (row?.nextAttemptAt.getTime() ?? 0) - h.clock.now().getTime();
      waits.push(wait);
      h.clock.advance(wait);
      await h.webhooks.processDue();
    }
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[0]).toBeLessThanOrEqual(1_000);
    expect(waits[1]).toBeGreaterThanOrEqual(1_000);
    expect(waits[1]).toBeLessThanOrEqual(2_000);
    expect(eventRow(h, poison.stripeEventId)).toMatchObject({ status: 'dead', attempts: 3 });
    expect(eventRow(h, poison.stripeEventId)?.lastError).toMatch(/carries a other, not a charge/);
    expect(
      h.outcomes
        .slice(0, 2)
        .map((o) => o.status)
        .sort(),
    ).toEqual(['failed', 'processed']);
    expect(h.outcomes.slice(2).map((o) => o.status)).toEqual(['failed', 'dead']);
    h.clock.advance(86_400_000);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });

    const status = await h.webhooks.status();
    expect(status.counts).toEqual({ pending: 0, processed: 1, failed: 0, dead: 1, ignored: 0 });
    expect((await h.webhooks.list('dead', { limit: 10 })).data.map((e) => e.stripeEventId)).toEqual([
      poison.stripeEventId,
    ]);

    expect(await h.webhooks.replayDead()).toBe(1);
    expect(eventRow(h, poison.stripeEventId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await h.webhooks.processDue()).toMatchObject({ failed: 1 });
  });

  it('replays one event by its Stripe id, and applying it again changes nothing', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);
    await h.webhooks.processDue();
    const rows = h.memory.tables.paymentEvents.length;

    const replayed = await h.webhooks.replay(delivery.stripeEventId);
    expect(replayed).toMatchObject({ status: 'pending', attempts: 0, processedAt: null });
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 1 });
    expect(h.memory.tables.paymentEvents).toHaveLength(rows);
    expect(h.payment(payment.id).status).toBe('succeeded');
    await expect(h.webhooks.replay('evt_unknown')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reports counts, the oldest pending event and the lag behind it; lists pending events newest first', async () => {
    const h = await webhookHarness();
    expect(await h.webhooks.status()).toEqual({
      counts: { pending: 0, processed: 0, failed: 0, dead: 0, ignored: 0 },
      oldestPending: null,
      lagSeconds: null,
    });
    const first = h.stripe.event('customer.created', { kind: 'other' });
    h.clock.advance(5_000);
    const second = h.stripe.event('customer.updated', { kind: 'other' });
    // Received in the other order: the lag counts from Stripe's `created`, pages go by receipt.
    await h.deliver(second);
    h.clock.advance(1_000);
    await h.deliver(first);
    h.clock.advance(6_000);
    const status = await h.webhooks.status();
    expect(status.counts.pending).toBe(2);
    expect(status.oldestPending).toMatchObject({
      stripeEventId: first.stripeEventId,
      type: 'customer.created',
    });
    expect(status.lagSeconds).toBe(12);
    const page = await h.webhooks.list('pending', { limit: 1 });
    expect(page.hasMore).toBe(true);
    const rest = await h.webhooks.list('pending', { limit: 1, startingAfter: page.data[0]?.id });
    expect([...page.data, ...rest.data].map((e) => e.stripeEventId)).toEqual([
      first.stripeEventId,
      second.stripeEventId,
    ]);
    await expect(h.webhooks.list('pending', { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(h.webhooks.list('pending', { limit: 5, startingAfter: 'evt_1' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('a crash after applying and before marking rolls both back; the restarted worker applies the event once', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);
    h.faults.arm('webhook.in_worker_after_apply_before_mark');
    await expect(h.webhooks.processDue()).rejects.toThrow();
    expect(h.faults.reached).toContain('webhook.in_worker_after_apply_before_mark');
    expect(h.payment(payment.id).status).toBe('requires_action');
    expect(eventRow(h, delivery.stripeEventId)).toMatchObject({ status: 'pending', attempts: 0 });

    h.faults.restart();
    expect(await h.worker().processDue()).toMatchObject({ processed: 1 });
    expect(h.payment(payment.id).status).toBe('succeeded');
    const moves = h.memory.tables.paymentEvents.filter(
      (e) => e.paymentId === payment.id && e.toStatus === 'succeeded',
    );
    expect(moves).toHaveLength(1);
  });

  it('a database outage while applying is not counted against the event: it stays due with its attempts, and applies once the database is back', async () => {
    const h = await webhookHarness();
    const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
    h.stripe.completeThreeDSecure(intentId, true);
    const delivery = h.stripe.intentEvent('payment_intent.succeeded', intentId);
    await h.deliver(delivery);
    const lost = new DependencyUnavailableError('The database connection was lost; retry the request.');
    const down = h.worker({
      store: {
        repos: h.store.repos,
        // The connection dies after the handler's writes, before the commit, in each transaction that
        // claimed and applied an event: it rolls back. Any other (recording a failure) would get through.
        transaction: (fn) =>
          h.store.transaction(async (tx) => {
            let claimed = false;
            const value = await fn({
              ...tx,
              webhookEvents: {
                ...tx.webhookEvents,
                claimDue: (...args) => {
                  claimed = true;
                  return tx.webhookEvents.claimDue(...args);
                },
              },
            });
            if (claimed) {
              throw lost;
            }
            return value;
          }),
      },
    });
    for (let outage = 0; outage < 10; outage++) {
      await expect(down.processDue()).rejects.toBe(lost);
    }
    expect(eventRow(h, delivery.stripeEventId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(h.payment(payment.id).status).toBe('requires_action');

    expect(await h.worker().processDue()).toMatchObject({ processed: 1 });
    expect(h.payment(payment.id).status).toBe('succeeded');
  });

  it('stops after `limit` events', async () => {
    const h = await webhookHarness();
    await h.deliver(...[1, 2, 3].map(() => h.stripe.event('customer.created', { kind: 'other' })));
    expect(await h.webhooks.processDue({ limit: 2 })).toMatchObject({ ignored: 2 });
    expect(await h.webhooks.processDue()).toMatchObject({ ignored: 1 });
  });
});
