import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startSandbox } from '../src/index.js';
import { confirmWith, harness, type Harness, idOf, newKey } from './harness.js';

/* SANDBOX.md §6: the /_sandbox/* routes and the in-process handle. */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('HTTP routes', () => {
  it('reads, advances and sets the virtual clock', async () => {
    const before = (await h.control('GET', 'clock')).json;
    expect(before).toMatchObject({ kind: 'virtual' });
    const advanced = (await h.control('POST', 'clock', { advance_seconds: 3600 })).json;
    expect(advanced.now).toBe(before.now + 3600);
    const set = (await h.control('POST', 'clock', { set: advanced.now + 60 })).json;
    expect(set.now).toBe(advanced.now + 60);
    const iso = (await h.control('POST', 'clock', { set: new Date((set.now + 60) * 1000).toISOString() }))
      .json;
    expect(iso.now).toBe(set.now + 60);
    expect((await h.control('POST', 'clock', { set: 0 })).status).toBe(400);
    expect((await h.control('POST', 'clock', { advance_seconds: -1 })).status).toBe(400);
    expect((await h.control('POST', 'clock', {})).status).toBe(400);
    // `created` follows the clock.
    const customer = await h.stripe().customers.create();
    expect(customer.created).toBe(iso.now);
  });

  it('logs requests and the objects created, and counts them', async () => {
    const key = newKey();
    const account = h.sandbox.accountIdForKey(key);
    const stripe = h.stripe(key);
    await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ledger-1' });
    await confirmWith(stripe, 'pm_card_visa', {}, { idempotencyKey: 'ledger-1' });
    const requests = (await h.control('GET', `requests?account=${account}&idempotency_key=ledger-1`)).json
      .data;
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents',
      route: '/v1/payment_intents',
      status: 200,
      replayed: false,
      params: expect.objectContaining({ amount: '2000', payment_method: 'pm_card_visa' }),
    });
    expect(requests[1].replayed).toBe(true);
    const ledger = (await h.control('GET', `ledger?account=${account}`)).json;
    expect(ledger.counts).toEqual({ payment_method: 1, payment_intent: 1, charge: 1 });
    expect(h.sandbox.ledger.count('charge', account)).toBe(1);
    expect((await h.control('GET', 'ledger?kind=nope')).status).toBe(400);
    expect((await h.control('GET', 'accounts')).json.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: account })]),
    );
  });

  it('resets everything', async () => {
    const local = await harness();
    try {
      const stripe = local.stripe();
      const customer = await stripe.customers.create({}, { idempotencyKey: 'before-reset' });
      expect((await local.control('POST', 'reset')).json).toEqual({ reset: true });
      await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404 });
      const again = await stripe.customers.create({}, { idempotencyKey: 'before-reset' });
      expect(again.id).not.toBe(customer.id);
      expect(local.sandbox.ledger.count('customer')).toBe(1);
      expect((await stripe.events.list()).data).toHaveLength(1);
    } finally {
      await local.close();
    }
  });

  it('opens disputes, answers health, and 404s unknown routes without touching the API', async () => {
    const stripe = h.stripe(newKey());
    const pi = await confirmWith(stripe, 'pm_card_visa');
    const dispute = await h.control('POST', `charges/${idOf(pi.latest_charge)}/dispute`, {
      reason: 'product_not_received',
    });
    expect(dispute.json).toMatchObject({ object: 'dispute', reason: 'product_not_received', amount: 2000 });
    expect((await stripe.charges.retrieve(idOf(pi.latest_charge))).disputed).toBe(true);
    expect((await h.control('POST', `charges/${idOf(pi.latest_charge)}/dispute`)).status).toBe(409);
    expect((await h.control('GET', 'health')).json).toEqual({ ok: true });
    const unknown = await h.control('GET', 'nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.type).toBe('sandbox_error');
    expect((await h.control('POST', 'clock', 'not json')).status).toBe(400);
  });
});

describe('webhook routes, delegated to the hub', () => {
  it('flushes, lists deliveries and resends', async () => {
    const hits: string[] = [];
    const receiver = http.createServer((req, res) => {
      hits.push(String(req.headers['stripe-signature']));
      req.resume();
      req.on('end', () => {
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const stripe = h.stripe(newKey());
      const endpoint = await stripe.webhookEndpoints.create({
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
        enabled_events: ['customer.created'],
      });
      await stripe.customers.create();
      const flushed = await h.control('POST', 'webhooks/flush');
      expect(flushed.status).toBe(200);
      const [event] = (await stripe.events.list({ type: 'customer.created' })).data;
      const deliveries = await h.control('GET', `webhooks/deliveries?event=${event?.id ?? ''}`);
      expect(deliveries.json.data).toEqual([
        expect.objectContaining({ eventId: event?.id, endpointId: endpoint.id, succeeded: true }),
      ]);
      const resent = await h.control('POST', `events/${event?.id ?? ''}/resend`, { endpoint: endpoint.id });
      expect(resent.status).toBe(200);
      expect(hits).toHaveLength(2);
      expect((await h.control('POST', 'events/evt_nope/resend')).status).toBe(404);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe('in process, as the embedded default uses it', () => {
  it('starts on port 0 with a static endpoint whose deliveries constructEvent accepts', async () => {
    const received: { body: string; signature: string }[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: String(req.headers['stripe-signature']),
        });
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const secret = 'whsec_embedded_default';
    const sandbox = await startSandbox({
      port: 0,
      clock: 'real',
      webhookEndpoints: [
        {
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/v1/webhooks/stripe`,
          secret,
          enabledEvents: ['payment_intent.succeeded'],
        },
      ],
    });
    try {
      expect(sandbox.host).toBe('127.0.0.1');
      expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
      const stripe = new Stripe(newKey(), {
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
      const pi = await confirmWith(stripe, 'pm_card_visa');
      await sandbox.flush();
      expect(received).toHaveLength(1);
      const event = stripe.webhooks.constructEvent(
        received[0]?.body ?? '',
        received[0]?.signature ?? '',
        secret,
      );
      expect(event).toMatchObject({ type: 'payment_intent.succeeded', data: { object: { id: pi.id } } });
      expect((await stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
    } finally {
      await sandbox.stop();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('rejects bad options', async () => {
    await expect(startSandbox({ port: 70_000 })).rejects.toThrow(/port must be an integer/);
    await expect(startSandbox({ apiKeys: ['pk_test_1'] })).rejects.toThrow(/not a test-mode secret key/);
    await expect(startSandbox({ latency: { type: 'uniform', min_ms: 5, max_ms: 1 } })).rejects.toThrow(
      /latency/,
    );
  });

  it('stops promptly even with a request held by a long delay', async () => {
    const local = await harness();
    local.sandbox.faults.add({ kind: 'delay', ms: 60_000 });
    const pending = local
      .stripe()
      .customers.create()
      .catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });
});
