import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf, newKey } from './harness.js';

/* SANDBOX.md §4.7, §8.8 and §8.12: events, their envelope and filters. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

/** A webhook receiver that answers every delivery with `status`. */
async function receiver(status: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('envelope', () => {
  it('has exactly the keys of the pinned SDK, the request that caused it, and a data snapshot', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'evt-key-1' });
    const events = (await stripe.events.list()).data;
    const succeeded = events.find((e) => e.type === 'payment_intent.succeeded');
    expect(Object.keys(succeeded ?? {}).sort()).toEqual(
      [
        'api_version',
        'created',
        'data',
        'id',
        'livemode',
        'object',
        'pending_webhooks',
        'request',
        'type',
      ].sort(),
    );
    expect(succeeded).toMatchObject({
      object: 'event',
      api_version: '2026-10-28.endive',
      livemode: false,
      pending_webhooks: 0,
      request: { id: pi.lastResponse.requestId, idempotency_key: 'evt-key-1' },
      data: { object: { id: pi.id, status: 'succeeded' } },
    });
    expect(succeeded?.id).toMatch(/^evt_[A-Za-z0-9]{24}$/);
    expect(succeeded?.data.previous_attributes).toBeUndefined();
    // The created event keeps the state of its moment.
    const created = events.find((e) => e.type === 'payment_intent.created');
    expect((created?.data.object as Stripe.PaymentIntent).status).toBe('requires_confirmation');
    expect(await stripe.events.retrieve(succeeded?.id ?? '')).toMatchObject({ id: succeeded?.id });
  });

  it('settles an automatic_async capture later: charge.updated sets the balance transaction', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa', { expand: ['latest_charge'] });
    expect((pi.latest_charge as Stripe.Charge).balance_transaction).toBeNull();
    const before = (await stripe.events.list()).data.map((e) => e.type);
    expect(before).not.toContain('charge.updated');
    const succeeded = (await stripe.events.list({ type: 'charge.succeeded' })).data[0];
    expect((succeeded?.data.object as Stripe.Charge).balance_transaction).toBeNull();

    h.sandbox.advance(1);
    const [updated] = (await stripe.events.list({ type: 'charge.updated' })).data;
    expect(updated?.data.previous_attributes).toEqual({ balance_transaction: null });
    expect((updated?.data.object as Stripe.Charge).balance_transaction).toMatch(/^txn_/);
    expect(updated?.request).toEqual({ id: null, idempotency_key: null });
    const charge = await stripe.charges.retrieve(idOf(pi.latest_charge), {
      expand: ['balance_transaction'],
    });
    expect((charge.balance_transaction as Stripe.BalanceTransaction).amount).toBe(2000);
  });

  it('puts previous_attributes only on *.updated events', async () => {
    const stripe = h.stripe(newKey());
    const customer = await stripe.customers.create({ email: 'a@example.com' });
    await stripe.customers.update(customer.id, { email: 'b@example.com', metadata: { x: '1' } });
    const pi = await confirmWith(stripe, 'pm_card_visa', { capture_method: 'automatic' });
    await stripe.charges.update(idOf(pi.latest_charge), { description: 'hello' });
    for (const event of (await stripe.events.list({ limit: 100 })).data) {
      expect(event.data.previous_attributes !== undefined).toBe(event.type.endsWith('.updated'));
    }
    const [chargeUpdated] = (await stripe.events.list({ type: 'charge.updated' })).data;
    expect(chargeUpdated?.data.previous_attributes).toEqual({ description: null });
    const [customerUpdated] = (await stripe.events.list({ type: 'customer.updated' })).data;
    expect(customerUpdated?.data.previous_attributes).toEqual({ email: 'a@example.com', metadata: {} });
  });
});

describe('filters', () => {
  it('filters by type (with a wildcard), types[] and created', async () => {
    const stripe = h.stripe(newKey());
    await confirmWith(stripe, 'pm_card_visa', { capture_method: 'automatic' });
    h.sandbox.advance(10);
    await stripe.customers.create();
    expect((await stripe.events.list({ type: 'charge.succeeded' })).data).toHaveLength(1);
    expect((await stripe.events.list({ type: 'payment_intent.*' })).data.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.created',
    ]);
    const types = await stripe.events.list({ types: ['customer.created', 'charge.succeeded'] });
    expect(types.data.map((e) => e.type)).toEqual(['customer.created', 'charge.succeeded']);
    const recent = await stripe.events.list({ created: { gte: h.sandbox.clock.nowSeconds() } });
    expect(recent.data.map((e) => e.type)).toEqual(['customer.created']);
  });

  it('keeps 30 days of events in the list', async () => {
    const stripe = h.stripe(newKey());
    await stripe.customers.create();
    h.sandbox.advance(31 * 86_400);
    expect((await stripe.events.list()).data).toHaveLength(0);
  });

  it('renders pending_webhooks from the hub and filters on delivery_success', async () => {
    const stripe = h.stripe(newKey());
    const down = await receiver(500);
    const up = await receiver(200);
    try {
      const failing = await stripe.webhookEndpoints.create({
        url: down.url,
        enabled_events: ['charge.succeeded'],
      });
      await stripe.webhookEndpoints.create({ url: up.url, enabled_events: ['payment_intent.succeeded'] });
      expect(failing.secret).toMatch(/^whsec_/);
      await confirmWith(stripe, 'pm_card_visa');
      await h.sandbox.flush();
      const [charge] = (await stripe.events.list({ type: 'charge.succeeded' })).data;
      const [intent] = (await stripe.events.list({ type: 'payment_intent.succeeded' })).data;
      expect(charge?.pending_webhooks).toBe(1);
      expect(intent?.pending_webhooks).toBe(0);
      expect((await stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toEqual([
        charge?.id,
      ]);
      expect((await stripe.events.list({ delivery_success: true })).data.map((e) => e.id)).toEqual([
        intent?.id,
      ]);
    } finally {
      await down.close();
      await up.close();
    }
  });
});

describe('webhook endpoints through the API', () => {
  it('creates, retrieves, updates, lists and deletes', async () => {
    const stripe = h.stripe(newKey());
    const created = await stripe.webhookEndpoints.create({
      url: 'https://pay.example/hooks',
      enabled_events: ['*'],
      metadata: { env: 'test' },
    });
    expect(created).toMatchObject({ object: 'webhook_endpoint', status: 'enabled', enabled_events: ['*'] });
    const fetched = await stripe.webhookEndpoints.retrieve(created.id);
    expect(fetched.secret).toBeUndefined();
    const updated = await stripe.webhookEndpoints.update(created.id, {
      disabled: true,
      metadata: { team: 'pay' },
    });
    expect(updated).toMatchObject({ status: 'disabled', metadata: { env: 'test', team: 'pay' } });
    const second = await stripe.webhookEndpoints.create({
      url: 'https://pay.example/two',
      enabled_events: ['charge.refunded'],
    });
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([second.id, created.id]);
    expect(await stripe.webhookEndpoints.del(created.id)).toMatchObject({ id: created.id, deleted: true });
    const missing = await stripe.webhookEndpoints
      .retrieve(created.id)
      .catch((e: Stripe.errors.StripeError) => e);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    const bad = await h.raw('POST', '/v1/webhook_endpoints', {
      body: 'url=ftp%3A%2F%2Fx&enabled_events[0]=*',
    });
    expect(bad.json.error).toMatchObject({ param: 'url' });
  });
});
