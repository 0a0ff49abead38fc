import type { ListedGatewayEvent } from '@pay/core';
import { newPayment, paidIntent, startHarness, type Harness } from './harness.js';

/*
 * RELIABILITY.md D8, the adapter's part: `listEvents` pages Stripe's events API through the real SDK,
 * filtered as the webhook catch-up asks, and hands back each event as JSON `decodeEvent` reads like a
 * delivery's body.
 */

let h: Harness;
beforeAll(async () => {
  // Deliveries only on flush, so "the endpoint refused them" is a step of the test.
  h = await startHarness({ autoDeliverWebhooks: false });
});
afterAll(() => h.close());

const EPOCH = new Date(0);

/** A key (a fresh account) whose one endpoint refuses every delivery: nothing listens on port 1. */
function accountWithDeadEndpoint(): string {
  const key = h.newKey();
  h.sandbox.webhooks.createEndpoint(h.sandbox.accountIdForKey(key), {
    url: 'http://127.0.0.1:1/api/v1/webhooks/stripe',
    enabled_events: ['*'],
  });
  return key;
}

/** Every event of the account as the SDK's auto-pagination lists it (newest first), by id. */
async function sdkEventIds(key: string, params: { delivery_success?: boolean } = {}): Promise<string[]> {
  const ids: string[] = [];
  for await (const event of h.stripe(key).events.list({ limit: 100, ...params })) {
    ids.push(event.id);
  }
  return ids;
}

/** The event as `GET /v1/events/:id` answers it, parsed from the raw body. */
async function rawEvent(key: string, id: string): Promise<unknown> {
  const response = await fetch(`${h.sandbox.url}/v1/events/${id}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return await response.json();
}

describe('StripeGateway.listEvents', () => {
  it('lists the events whose delivery failed, each as Stripe’s JSON that decodes like a delivery', async () => {
    const key = accountWithDeadEndpoint();
    const gateway = h.gateway(key);
    const { intent } = await paidIntent(gateway, newPayment());
    const flushed = await h.sandbox.flush();
    expect(flushed.failed).toBeGreaterThan(0);

    const page = await gateway.listEvents({ createdAfter: EPOCH, deliverySuccess: false });
    expect(page.hasMore).toBe(false);
    expect(page.data.map((e) => e.stripeEventId)).toEqual(
      await sdkEventIds(key, { delivery_success: false }),
    );
    expect(page.data.map((e) => e.stripeEventId)).toEqual(await sdkEventIds(key));
    for (const listed of page.data) {
      expect(JSON.parse(listed.payload)).toEqual(await rawEvent(key, listed.stripeEventId));
      const decoded = gateway.decodeEvent(listed.payload);
      expect(decoded).toMatchObject({ stripeEventId: listed.stripeEventId, created: listed.created });
    }
    const succeeded = page.data.find(
      (e) => gateway.decodeEvent(e.payload).type === 'payment_intent.succeeded',
    );
    expect(succeeded === undefined ? null : gateway.decodeEvent(succeeded.payload).object).toMatchObject({
      kind: 'payment_intent',
      intent: { stripePaymentIntentId: intent.stripePaymentIntentId, status: 'succeeded' },
    });
    expect(await gateway.listEvents({ createdAfter: EPOCH, deliverySuccess: true })).toEqual({
      data: [],
      hasMore: false,
    });
  });

  it('filters by type and by creation time, at or after the second given', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    await paidIntent(gateway, newPayment());
    h.sandbox.advance(60);
    const since = new Date(h.sandbox.clock.nowSeconds() * 1000);
    const { intent } = await paidIntent(gateway, newPayment());

    const page = await gateway.listEvents({ createdAfter: since, types: ['payment_intent.succeeded'] });
    expect(page.data.map((e) => gateway.decodeEvent(e.payload))).toEqual([
      expect.objectContaining({ type: 'payment_intent.succeeded', objectId: intent.stripePaymentIntentId }),
    ]);
    expect(page.data[0]?.created).toEqual(since);
    const all = await gateway.listEvents({ createdAfter: EPOCH, types: ['payment_intent.succeeded'] });
    expect(all.data).toHaveLength(2);
  });

  it('pages as Stripe does: 100 at a time, the next page after the last id', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    while ((await sdkEventIds(key)).length <= 100) {
      await paidIntent(gateway, newPayment());
    }
    const expected = await sdkEventIds(key);

    const listed: ListedGatewayEvent[] = [];
    let startingAfter: string | undefined;
    let pages = 0;
    do {
      const page = await gateway.listEvents({
        createdAfter: EPOCH,
        ...(startingAfter === undefined ? {} : { startingAfter }),
      });
      pages += 1;
      expect(page.data.length).toBeLessThanOrEqual(100);
      listed.push(...page.data);
      startingAfter = page.hasMore ? page.data.at(-1)?.stripeEventId : undefined;
    } while (startingAfter !== undefined);

    expect(pages).toBe(2);
    expect(listed.map((e) => e.stripeEventId)).toEqual(expected);
  });
});
