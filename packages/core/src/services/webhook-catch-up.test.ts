import { webhookHarness, type WebhookHarness } from '../../test/memory/webhook-harness.js';
import type { Delivery } from '../../test/memory/memory-stripe.js';
import type { Payment } from '../domain/entities.js';
import { ValidationError } from '../errors.js';
import { HANDLED_WEBHOOK_EVENT_TYPES } from './webhook-handlers.js';

/*
 * RELIABILITY.md D8 on the in-memory world: events Stripe could not deliver (or has not tried yet) are
 * fetched from its events API into the inbox, once per Stripe id, and applied by the worker like any
 * delivery.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** A 3-D Secure payment the card holder completed at Stripe: `payment_intent.succeeded` is the news. */
async function completedAtStripe(h: WebhookHarness): Promise<{ paymentId: Payment['id']; event: Delivery }> {
  const { payment, intentId } = await h.pay('pm_card_threeDSecure2Required');
  h.stripe.completeThreeDSecure(intentId, true);
  return { paymentId: payment.id, event: h.stripe.intentEvent('payment_intent.succeeded', intentId) };
}

function inboxIds(h: WebhookHarness): string[] {
  return h.memory.tables.webhookEvents.map((e) => e.stripeEventId).sort();
}

describe('WebhookService.catchUp', () => {
  it('stores an event whose delivery failed, and the worker applies it like a delivered one', async () => {
    const h = await webhookHarness();
    const { paymentId, event } = await completedAtStripe(h);
    h.stripe.deliveryAttempted(event.stripeEventId, false);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 1, stored: 1, alreadyKnown: 0 });
    expect(h.memory.tables.webhookEvents).toEqual([
      expect.objectContaining({
        stripeEventId: event.stripeEventId,
        payload: event.payload,
        status: 'pending',
        // Fetched over the authenticated API, not delivered with a signature.
        signatureVerified: false,
      }),
    ]);
    expect(await h.webhooks.processDue()).toEqual({ processed: 1, ignored: 0, failed: 0, dead: 0 });
    expect(h.payment(paymentId).status).toBe('succeeded');
  });

  it('asks Stripe nothing when catch-up is off (an account whose events are not all this pay’s)', async () => {
    const h = await webhookHarness({ catchUpEnabled: false });
    const { event } = await completedAtStripe(h);
    h.stripe.deliveryAttempted(event.stripeEventId, false);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 0, stored: 0, alreadyKnown: 0 });
    expect(h.memory.tables.webhookEvents).toEqual([]);
  });

  it('stores a missed event once however many passes and late deliveries meet it', async () => {
    const h = await webhookHarness();
    const { paymentId, event } = await completedAtStripe(h);
    h.stripe.deliveryAttempted(event.stripeEventId, false);

    await h.webhooks.catchUp();
    expect(await h.webhooks.catchUp()).toEqual({ listed: 1, stored: 0, alreadyKnown: 1 });
    // Stripe's own retry gets through after all.
    const late = await h.webhooks.receive(event.payload);
    expect(late.inserted).toBe(false);
    await h.webhooks.processDue();
    expect(h.memory.tables.webhookEvents).toHaveLength(1);
    const moves = h.memory.tables.paymentEvents.filter(
      (m) => m.paymentId === paymentId && m.cause.stripeEventId === event.stripeEventId,
    );
    expect(moves).toHaveLength(1);
  });

  it('leaves an event the inbox holds as it is, even when Stripe counts its delivery as failed', async () => {
    const h = await webhookHarness();
    const { paymentId, event } = await completedAtStripe(h);
    // Stored and applied, but Stripe never saw the 200 (a timeout on its side).
    await h.deliver(event);
    await h.webhooks.processDue();
    h.stripe.deliveryAttempted(event.stripeEventId, false);
    const before = structuredClone(h.memory.tables.webhookEvents);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 1, stored: 0, alreadyKnown: 1 });
    expect(h.memory.tables.webhookEvents).toEqual(before);
    expect(await h.webhooks.processDue()).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });
    expect(h.payment(paymentId).status).toBe('succeeded');
  });

  it('finds events newer than the newest the inbox holds that Stripe has not tried to deliver', async () => {
    const h = await webhookHarness();
    const first = await completedAtStripe(h);
    await h.deliver(first.event);
    h.stripe.deliveryAttempted(first.event.stripeEventId, true);
    h.clock.advance(60_000);
    // No endpoint answered for these, and no attempt failed yet: delivery_success matches neither.
    const second = await completedAtStripe(h);
    const paid = h.stripe.intentEvent('payment_intent.succeeded', (await h.pay()).intentId);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 3, stored: 2, alreadyKnown: 1 });
    expect(inboxIds(h)).toEqual(
      [first.event.stripeEventId, second.event.stripeEventId, paid.stripeEventId].sort(),
    );
    await h.webhooks.processDue();
    expect(h.payment(second.paymentId).status).toBe('succeeded');
  });

  it('does not list an older event Stripe is still about to deliver: its delivery brings it', async () => {
    const h = await webhookHarness();
    const older = await completedAtStripe(h);
    h.clock.advance(60_000);
    const newer = await completedAtStripe(h);
    await h.deliver(newer.event);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 1, stored: 0, alreadyKnown: 1 });
    expect(inboxIds(h)).toEqual([newer.event.stripeEventId]);
    // Once its first attempt fails, the next pass has it.
    h.stripe.deliveryAttempted(older.event.stripeEventId, false);
    expect(await h.webhooks.catchUp()).toMatchObject({ stored: 1 });
  });

  it('pages through Stripe’s list and stores every missed event once', async () => {
    const h = await webhookHarness();
    h.stripe.eventPageSize = 2;
    const missed: Delivery[] = [];
    for (let i = 0; i < 5; i++) {
      const { event } = await completedAtStripe(h);
      h.stripe.deliveryAttempted(event.stripeEventId, false);
      missed.push(event);
      h.clock.advance(1_000);
    }

    expect(await h.webhooks.catchUp()).toEqual({ listed: 5, stored: 5, alreadyKnown: 0 });
    expect(inboxIds(h)).toEqual(missed.map((e) => e.stripeEventId).sort());
    // An empty inbox: one listing of the window, three pages of it, each after the last id of the previous.
    expect(h.stripe.eventListings.map((q) => q.startingAfter)).toEqual([
      undefined,
      missed[3]?.stripeEventId,
      missed[1]?.stripeEventId,
    ]);
    // Within a page the older event is stored first.
    expect(h.memory.tables.webhookEvents.slice(0, 2).map((e) => e.stripeEventId)).toEqual([
      missed[3]?.stripeEventId,
      missed[4]?.stripeEventId,
    ]);
    expect(await h.webhooks.processDue()).toMatchObject({ processed: 5, failed: 0 });
  });

  it('asks for the failed ones in the lookback window and everything since the newest known, of handled types', async () => {
    const h = await webhookHarness();
    const { event } = await completedAtStripe(h);
    await h.deliver(event);
    const newest = h.memory.tables.webhookEvents[0]?.stripeCreatedAt;
    h.clock.advance(10_000);

    await h.webhooks.catchUp();
    expect(h.stripe.eventListings).toEqual([
      {
        createdAfter: new Date(h.clock.now().getTime() - 3 * DAY_MS),
        deliverySuccess: false,
        types: HANDLED_WEBHOOK_EVENT_TYPES,
      },
      { createdAfter: newest, types: HANDLED_WEBHOOK_EVENT_TYPES },
    ]);
  });

  it('leaves out failed events older than the lookback (3 days by default), and types pay does not handle', async () => {
    const h = await webhookHarness();
    const old = await completedAtStripe(h);
    h.stripe.deliveryAttempted(old.event.stripeEventId, false);
    h.clock.advance(4 * DAY_MS);
    const { event: recent } = await completedAtStripe(h);
    await h.deliver(recent);
    const unhandled = h.stripe.event('customer.created', { kind: 'other' });
    h.stripe.deliveryAttempted(unhandled.stripeEventId, false);

    expect(await h.webhooks.catchUp()).toEqual({ listed: 1, stored: 0, alreadyKnown: 1 });
    expect(await h.webhooks.catchUp({ lookbackMs: 5 * DAY_MS })).toEqual({
      listed: 2,
      stored: 1,
      alreadyKnown: 1,
    });
    expect(inboxIds(h)).toEqual([old.event.stripeEventId, recent.stripeEventId].sort());
  });

  it('reaches back at most Stripe’s 30 days, and refuses a lookback that is not a positive integer', async () => {
    const h = await webhookHarness();
    await h.webhooks.catchUp({ lookbackMs: 90 * DAY_MS, now: new Date('2026-03-01T00:00:00Z') });
    expect(h.stripe.eventListings[0]?.createdAfter).toEqual(new Date('2026-01-30T00:00:00Z'));
    for (const lookbackMs of [0, -1, 1.5, Number.NaN]) {
      await expect(h.webhooks.catchUp({ lookbackMs })).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('makes its Stripe calls outside any transaction', async () => {
    const h = await webhookHarness();
    let listedInTransaction = 0;
    const open = { count: 0 };
    const transaction = h.store.transaction.bind(h.store);
    const webhooks = h.worker({
      store: {
        repos: h.store.repos,
        transaction: async (fn) => {
          open.count += 1;
          try {
            return await transaction(fn);
          } finally {
            open.count -= 1;
          }
        },
      },
    });
    const list = h.stripe.listEvents.bind(h.stripe);
    h.stripe.listEvents = (query) => {
      listedInTransaction += open.count;
      return list(query);
    };
    const { event } = await completedAtStripe(h);
    h.stripe.deliveryAttempted(event.stripeEventId, false);
    expect(await webhooks.catchUp()).toMatchObject({ stored: 1 });
    expect(listedInTransaction).toBe(0);
  });
});
