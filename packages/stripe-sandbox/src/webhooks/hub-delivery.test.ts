import Stripe from 'stripe';
import { hubHarness, sandboxEvent } from '../../test/webhooks-fixtures.js';
import { startWebhookReceiver } from '../../test/webhooks-receiver.js';

const stripe = new Stripe('sk_test_hub');
type Harness = Awaited<ReturnType<typeof hubHarness>>;

describe('webhook hub: delivery', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it("POSTs Stripe's headers and the pretty-printed event, signed at the clock's time for constructEvent", async () => {
    h = await hubHarness();
    const { secret } = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    const event = sandboxEvent('payment_intent.succeeded');
    h.hub.publish('acct_a', event);
    const [got] = await h.receiver.waitFor(1);

    expect(got?.method).toBe('POST');
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'cache-control': 'no-cache',
    });
    expect(got?.body).toBe(JSON.stringify({ ...event, pending_webhooks: 1 }, null, 2));
    expect(got?.signature).toMatch(new RegExp(`^t=${h.clock.nowSeconds()},v1=[0-9a-f]{64},v0=[0-9a-f]{64}$`));
    // The receiver must read time from the sandbox clock: the virtual clock is months from the wall clock.
    const verified = stripe.webhooks.constructEvent(
      got?.body ?? '',
      got?.signature ?? '',
      secret ?? '',
      300,
      undefined,
      h.clock.now(),
    );
    expect(verified.id).toBe(event.id);
    expect(() => stripe.webhooks.constructEvent(got?.body ?? '', got?.signature ?? '', secret ?? '')).toThrow(
      /Timestamp outside the tolerance zone/,
    );
  });

  it('renders the event with the api_version the endpoint names, else the event’s own', async () => {
    h = await hubHarness();
    h.hub.createEndpoint('acct_a', {
      url: h.receiver.url,
      enabled_events: ['*'],
      api_version: '2025-03-31.basil',
    });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.hub.publish('acct_a', sandboxEvent());
    const got = await h.receiver.waitFor(2);
    expect(got.map((r) => (JSON.parse(r.body) as { api_version: string }).api_version)).toEqual([
      '2025-03-31.basil',
      '2026-10-28.endive',
    ]);
  });

  it('delivers only to enabled endpoints of the same account whose enabled_events match, * included', async () => {
    h = await hubHarness();
    const all = h.hub.createEndpoint('acct_a', { url: `${h.receiver.url}/all`, enabled_events: ['*'] });
    const charges = h.hub.createEndpoint('acct_a', {
      url: `${h.receiver.url}/charges`,
      enabled_events: ['charge.succeeded'],
    });
    const other = h.hub.createEndpoint('acct_b', { url: `${h.receiver.url}/other`, enabled_events: ['*'] });
    const off = h.hub.createEndpoint('acct_a', { url: `${h.receiver.url}/off`, enabled_events: ['*'] });
    h.hub.updateEndpoint('acct_a', off.id, { disabled: true });

    const pi = sandboxEvent('payment_intent.succeeded');
    const ch = sandboxEvent('charge.succeeded');
    h.hub.publish('acct_a', pi);
    h.hub.publish('acct_a', ch);
    await h.hub.flush();

    const sent = h.hub.deliveries().map((a) => `${a.eventType}→${a.endpointId}`);
    expect(sent.sort()).toEqual(
      [
        `payment_intent.succeeded→${all.id}`,
        `charge.succeeded→${all.id}`,
        `charge.succeeded→${charges.id}`,
      ].sort(),
    );
    expect(h.hub.deliveries({ endpoint: other.id })).toEqual([]);
    expect(h.hub.pendingWebhooks('acct_a', pi.id)).toBe(0);
    expect(h.hub.deliverySucceeded('acct_a', ch.id)).toBe(true);
  });

  it('delivers to static endpoints: without an account every account’s events, with one only its own', async () => {
    const shared = await startWebhookReceiver();
    const onlyB = await startWebhookReceiver();
    try {
      h = await hubHarness({
        staticEndpoints: [
          { url: shared.url, secret: 'whsec_static_shared' },
          {
            url: onlyB.url,
            secret: 'whsec_static_b',
            account: 'acct_b',
            enabledEvents: ['charge.succeeded'],
          },
        ],
      });
      const a = sandboxEvent('charge.succeeded');
      const b = sandboxEvent('charge.succeeded');
      const bOther = sandboxEvent('customer.created');
      h.hub.publish('acct_a', a);
      h.hub.publish('acct_b', b);
      h.hub.publish('acct_b', bOther);
      await h.hub.flush();

      const ids = (r: { body: string }[]) => r.map((x) => (JSON.parse(x.body) as { id: string }).id);
      expect(ids(shared.received)).toEqual([a.id, b.id, bOther.id]);
      expect(ids(onlyB.received)).toEqual([b.id]);
      const [first] = onlyB.received;
      const receivedAt = h.clock.now();
      expect(
        stripe.webhooks.constructEvent(
          first?.body ?? '',
          first?.signature ?? '',
          'whsec_static_b',
          300,
          undefined,
          receivedAt,
        ).id,
      ).toBe(b.id);
      // Static endpoints are configuration, not API objects.
      expect(h.hub.listEndpoints('acct_b')).toEqual([]);
      expect(h.hub.pendingWebhooks('acct_b', b.id)).toBe(0);
    } finally {
      await shared.close();
      await onlyB.close();
    }
  });

  it('manages endpoints like Stripe: secret only at creation, newest first, update, delete', async () => {
    h = await hubHarness();
    const first = h.hub.createEndpoint('acct_a', {
      url: 'http://127.0.0.1:1/a',
      enabled_events: ['charge.succeeded'],
      description: 'first',
      metadata: { team: 'pay', keep: 'yes' },
    });
    const second = h.hub.createEndpoint('acct_a', { url: 'http://127.0.0.1:1/b', enabled_events: ['*'] });
    expect(first).toMatchObject({
      id: expect.stringMatching(/^we_[0-9A-Za-z]{24}$/),
      object: 'webhook_endpoint',
      api_version: null,
      application: null,
      created: h.clock.nowSeconds(),
      description: 'first',
      enabled_events: ['charge.succeeded'],
      livemode: false,
      metadata: { team: 'pay', keep: 'yes' },
      secret: expect.stringMatching(/^whsec_[0-9A-Za-z]{32}$/),
      status: 'enabled',
      url: 'http://127.0.0.1:1/a',
    });
    expect(h.hub.retrieveEndpoint('acct_a', first.id)).not.toHaveProperty('secret');
    expect(h.hub.retrieveEndpoint('acct_b', first.id)).toBeNull();
    expect(h.hub.listEndpoints('acct_a').map((e) => e.id)).toEqual([second.id, first.id]);

    const updated = h.hub.updateEndpoint('acct_a', first.id, {
      url: 'http://127.0.0.1:1/c',
      enabled_events: ['*'],
      disabled: true,
      description: '',
      metadata: { team: 'core', keep: '' },
    });
    expect(updated).toMatchObject({
      url: 'http://127.0.0.1:1/c',
      enabled_events: ['*'],
      status: 'disabled',
      description: null,
      metadata: { team: 'core' },
    });
    expect(h.hub.updateEndpoint('acct_b', first.id, { disabled: false })).toBeNull();

    expect(h.hub.deleteEndpoint('acct_a', first.id)).toEqual({
      id: first.id,
      object: 'webhook_endpoint',
      deleted: true,
    });
    expect(h.hub.deleteEndpoint('acct_a', first.id)).toBeNull();
    expect(h.hub.listEndpoints('acct_a').map((e) => e.id)).toEqual([second.id]);
  });

  it('with autoDeliver false sends nothing until flush, and reports state as not attempted yet', async () => {
    h = await hubHarness({ autoDeliver: false });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    h.clock.advance(60);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.receiver.received).toHaveLength(0);
    expect(h.hub.pendingWebhooks('acct_a', event.id)).toBe(1);
    expect(h.hub.deliverySucceeded('acct_a', event.id)).toBeNull();

    expect(await h.hub.flush()).toEqual({ attempted: 1, succeeded: 1, failed: 0 });
    expect(h.hub.pendingWebhooks('acct_a', event.id)).toBe(0);
    expect(h.hub.deliverySucceeded('acct_a', event.id)).toBe(true);
  });

  it('reports no pending webhooks and no delivery state for an event without endpoints', async () => {
    h = await hubHarness();
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    await h.hub.flush();
    expect(h.hub.pendingWebhooks('acct_a', event.id)).toBe(0);
    expect(h.hub.deliverySucceeded('acct_a', event.id)).toBeNull();
    expect(h.hub.pendingWebhooks('acct_a', 'evt_unknown')).toBe(0);
  });

  it('sends one event at a time per endpoint by default, in creation order, on a kept-alive connection', async () => {
    h = await hubHarness();
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    const events = Array.from({ length: 5 }, () => sandboxEvent());
    for (const event of events) {
      h.hub.publish('acct_a', event);
    }
    await h.hub.flush();
    expect(h.receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(
      events.map((e) => e.id),
    );
    expect(new Set(h.receiver.received.map((r) => r.remotePort)).size).toBe(1);
  });

  it('runs up to `concurrency` attempts at once per endpoint', async () => {
    h = await hubHarness({ concurrency: 3 });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.setFallback('hang');
    for (let i = 0; i < 5; i++) {
      h.hub.publish('acct_a', sandboxEvent());
    }
    await h.receiver.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.receiver.received).toHaveLength(3);
  });
});
