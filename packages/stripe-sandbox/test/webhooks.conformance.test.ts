import Stripe from 'stripe';
import { confirmVisa, parsed, sandboxHarness, signedAt, type SandboxHarness } from './webhooks-sandbox.js';

/*
 * SANDBOX.md §8 item 13, through the whole sandbox: the real stripe SDK registers endpoints and pays,
 * a real HTTP receiver gets the webhooks, and stripe.webhooks.constructEvent judges every signature.
 * Time moves only through the control plane (`POST /_sandbox/clock`), as a test in another process
 * would move it.
 */

const PAYMENT_EVENTS: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = [
  'payment_intent.succeeded',
  'charge.succeeded',
];

describe('webhooks through the sandbox: delivery and signatures', () => {
  let h: SandboxHarness;
  afterEach(async () => h.close());

  it('delivers payment_intent.succeeded and charge.succeeded to an endpoint made with webhookEndpoints.create, each accepted by constructEvent', async () => {
    h = await sandboxHarness();
    const endpoint = await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: PAYMENT_EVENTS,
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await h.stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();

    const pi = await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    const got = await h.receiver.waitFor(2);
    const events = await Promise.all(got.map((r) => h.verify(r, endpoint.secret ?? '')));

    expect(events.map((e) => e.type).sort()).toEqual([...PAYMENT_EVENTS].sort());
    const byType = new Map(events.map((e) => [e.type, e]));
    expect((byType.get('payment_intent.succeeded')?.data.object as Stripe.PaymentIntent).id).toBe(pi.id);
    expect((byType.get('charge.succeeded')?.data.object as Stripe.Charge).id).toBe(pi.latest_charge);
    expect(events.every((e) => e.request?.id === pi.lastResponse.requestId)).toBe(true);
    for (const r of got) {
      expect(r.headers).toMatchObject({
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'cache-control': 'no-cache',
      });
      // Stripe's pretty-printed body, signed byte for byte: re-serialising it breaks the signature.
      expect(r.body).toBe(JSON.stringify(JSON.parse(r.body), null, 2));
      expect(() =>
        h.stripe.webhooks.constructEvent(
          JSON.stringify(JSON.parse(r.body)),
          r.signature,
          endpoint.secret ?? '',
        ),
      ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    }
    // Every endpoint answered 2xx: the events owe no more webhooks.
    for (const event of events) {
      expect((await h.stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
    }
  });

  it('signs with the endpoint’s own secret: constructEvent rejects another endpoint’s secret', async () => {
    h = await sandboxHarness();
    const mine = await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: ['charge.succeeded'],
    });
    const other = await h.stripe.webhookEndpoints.create({
      url: `${h.receiver.url}/other`,
      enabled_events: ['customer.created'],
    });
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    const [got] = await h.receiver.waitFor(1);
    await expect(h.verify(got, mine.secret ?? '')).resolves.toMatchObject({ type: 'charge.succeeded' });
    await expect(h.verify(got, other.secret ?? '')).rejects.toThrow(
      /No signatures found matching the expected signature/,
    );
  });

  it('lists an event under delivery_success=false while its endpoint fails, and not once a retry succeeds', async () => {
    h = await sandboxHarness();
    const endpoint = await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: ['payment_intent.succeeded'],
    });
    h.receiver.reply(500);
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    const [failed] = await h.receiver.waitFor(1);
    const eventId = parsed(failed).id;

    const undelivered = await h.stripe.events.list({ delivery_success: false });
    expect(undelivered.data.map((e) => e.id)).toContain(eventId);
    expect((await h.stripe.events.retrieve(eventId)).pending_webhooks).toBe(1);

    // The fast schedule retries 1 s later on the sandbox clock.
    await h.control('POST', 'clock', { advance_seconds: 1 });
    await h.control('POST', 'webhooks/flush');
    const [, retried] = await h.receiver.waitFor(2);
    expect((await h.verify(retried, endpoint.secret ?? '')).id).toBe(eventId);
    expect((await h.stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).not.toContain(
      eventId,
    );
    expect((await h.stripe.events.list({ delivery_success: true })).data.map((e) => e.id)).toContain(eventId);
    expect((await h.stripe.events.retrieve(eventId)).pending_webhooks).toBe(0);
  });

  it('retries on the test schedule as the clock is advanced, re-signing each attempt with its own time', async () => {
    h = await sandboxHarness({ retrySchedule: 'test' });
    const endpoint = await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: ['payment_intent.succeeded'],
    });
    h.receiver.reply(503, 503);
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    const start = await h.nowMs();

    await h.control('POST', 'clock', { advance_seconds: 3599 });
    await h.control('POST', 'webhooks/flush');
    expect(h.receiver.received).toHaveLength(1);
    await h.control('POST', 'clock', { advance_seconds: 1 });
    await h.control('POST', 'webhooks/flush');
    await h.control('POST', 'clock', { advance_seconds: 3600 });
    await h.control('POST', 'webhooks/flush');
    const got = await h.receiver.waitFor(3);

    const eventId = parsed(got[0]).id;
    const { data: attempts } = await h.control<{
      data: Array<{ attempt: number; scheduledAt: number; succeeded: boolean; signatureHeader: string }>;
    }>('GET', `webhooks/deliveries?event=${eventId}`);
    expect(attempts.map((a) => [a.attempt, a.scheduledAt - start, a.succeeded])).toEqual([
      [1, 0, false],
      [2, 3_600_000, false],
      [3, 7_200_000, true],
    ]);
    const startSeconds = Math.floor(start / 1000);
    expect(got.map((r) => signedAt(r.signature) - startSeconds)).toEqual([0, 3600, 7200]);
    // The last attempt verifies now; the first one, signed two hours ago, is outside the tolerance.
    expect((await h.verify(got[2], endpoint.secret ?? '')).id).toBe(eventId);
    await expect(h.verify(got[0], endpoint.secret ?? '')).rejects.toThrow(
      /Timestamp outside the tolerance zone/,
    );
  });

  it('fails the delivery for good after the last attempt: pending_webhooks stays 1', async () => {
    h = await sandboxHarness();
    await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: ['payment_intent.succeeded'],
    });
    h.receiver.setFallback(500);
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    for (let i = 0; i < 3; i++) {
      await h.control('POST', 'clock', { advance_seconds: 60 });
      await h.control('POST', 'webhooks/flush');
    }
    const eventId = parsed(h.receiver.received[0]).id;
    expect(h.receiver.received).toHaveLength(4);
    expect((await h.stripe.events.retrieve(eventId)).pending_webhooks).toBe(1);
    expect((await h.stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toContain(
      eventId,
    );
  });

  it('stops delivering to an endpoint disabled with webhookEndpoints.update, and to one deleted', async () => {
    h = await sandboxHarness();
    const endpoint = await h.stripe.webhookEndpoints.create({
      url: h.receiver.url,
      enabled_events: ['payment_intent.succeeded'],
    });
    h.receiver.setFallback(500);
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    expect((await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: true })).status).toBe('disabled');
    await h.control('POST', 'clock', { advance_seconds: 60 });
    await h.control('POST', 'webhooks/flush');
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    expect(h.receiver.received).toHaveLength(1);

    await h.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    await h.stripe.webhookEndpoints.del(endpoint.id);
    await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    expect(h.receiver.received).toHaveLength(1);
  });

  it('delivers to a static endpoint given at start-up, signed with its configured secret', async () => {
    const secret = 'whsec_static_conformance_secret';
    h = await sandboxHarness((url) => ({
      webhookEndpoints: [{ url, secret, enabledEvents: ['charge.succeeded'] }],
    }));
    const pi = await confirmVisa(h.stripe);
    await h.control('POST', 'webhooks/flush');
    const [got] = await h.receiver.waitFor(1);
    const event = await h.verify(got, secret);
    expect(event.type).toBe('charge.succeeded');
    expect((event.data.object as Stripe.Charge).payment_intent).toBe(pi.id);
  });
});
