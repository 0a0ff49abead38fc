import type Stripe from 'stripe';
import { confirmVisa, parsed, sandboxHarness, signedAt, type SandboxHarness } from './webhooks-sandbox.js';

/*
 * Webhook faults (SANDBOX.md §6.4) injected through `POST /_sandbox/faults`, and manual resend through
 * `POST /_sandbox/events/:id/resend`, observed at a real receiver with the real SDK's verifier.
 */

interface AttemptView {
  endpointId: string;
  responseStatus: number | null;
  error: string | null;
  succeeded: boolean;
}

describe('webhooks through the sandbox: faults and resend', () => {
  let h: SandboxHarness;
  let secret: string;
  let endpointId: string;

  async function start(
    options: Parameters<typeof sandboxHarness>[0] = {},
    events: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['payment_intent.succeeded'],
  ): Promise<void> {
    h = await sandboxHarness(options);
    const endpoint = await h.stripe.webhookEndpoints.create({ url: h.receiver.url, enabled_events: events });
    secret = endpoint.secret ?? '';
    endpointId = endpoint.id;
  }
  const flush = () => h.control('POST', 'webhooks/flush');
  const advance = (seconds: number) => h.control('POST', 'clock', { advance_seconds: seconds });
  afterEach(async () => h.close());

  it('webhook_duplicate: the receiver gets each event count + 1 times, every copy validly signed', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_duplicate', count: 2, times: 1 });
    await confirmVisa(h.stripe);
    await flush();
    const got = await h.receiver.waitFor(3);
    const events = await Promise.all(got.map((r) => h.verify(r, secret)));
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    await confirmVisa(h.stripe);
    await flush();
    expect(h.receiver.received).toHaveLength(4);
  });

  it('webhook_shuffle: events due together arrive out of creation order, all of them', async () => {
    await start({ autoDeliverWebhooks: false }, ['*']);
    await h.control('POST', 'faults', { kind: 'webhook_shuffle', times: 1 });
    for (let i = 0; i < 3; i++) {
      await confirmVisa(h.stripe);
    }
    // Stripe lists newest first; ties in `created` keep creation order (SANDBOX.md §3.7).
    const created = (await h.stripe.events.list({ limit: 100 })).data.map((e) => e.id).reverse();
    await flush();
    const arrived = h.receiver.received.map((r) => parsed(r).id);
    expect(arrived).toHaveLength(created.length);
    expect([...arrived].sort()).toEqual([...created].sort());
    expect(arrived).not.toEqual(created);
  });

  it('webhook_delay: the first attempt waits `seconds` on the sandbox clock', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_delay', seconds: 120 });
    await confirmVisa(h.stripe);
    await flush();
    await advance(119);
    await flush();
    expect(h.receiver.received).toHaveLength(0);
    await advance(1);
    await flush();
    const [got] = await h.receiver.waitFor(1);
    await expect(h.verify(got, secret)).resolves.toMatchObject({ type: 'payment_intent.succeeded' });
  });

  it('webhook_stale_signature: t is age_seconds old, so constructEvent rejects it with its default tolerance', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_stale_signature', age_seconds: 900, times: 1 });
    await confirmVisa(h.stripe);
    await flush();
    const [got] = await h.receiver.waitFor(1);
    expect(signedAt(got?.signature)).toBe(Math.floor((await h.nowMs()) / 1000) - 900);
    await expect(h.verify(got, secret)).rejects.toThrow(/Timestamp outside the tolerance zone/);
    // Only the age is wrong: with the timestamp check off (tolerance 0) the signature verifies.
    expect(h.stripe.webhooks.constructEvent(got?.body ?? '', got?.signature ?? '', secret, 0).type).toBe(
      'payment_intent.succeeded',
    );
  });

  it('webhook_bad_signature: signed with another secret; a verifying receiver answers 400 and the retry is good', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_bad_signature', times: 1 });
    h.receiver.reply(400);
    await confirmVisa(h.stripe);
    await flush();
    await advance(1);
    await flush();
    const [bad, good] = await h.receiver.waitFor(2);
    await expect(h.verify(bad, secret)).rejects.toThrow(
      /No signatures found matching the expected signature/,
    );
    expect((await h.verify(good, secret)).id).toBe(parsed(bad).id);
  });

  it('webhook_endpoint_down: attempts fail with the status without reaching the receiver, then recover', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_endpoint_down', status: 503, times: 2 });
    const pi = await confirmVisa(h.stripe);
    await flush();
    const [event] = (await h.stripe.events.list({ type: 'payment_intent.succeeded' })).data;
    expect((event?.data.object as Stripe.PaymentIntent | undefined)?.id).toBe(pi.id);
    expect((await h.stripe.events.list({ delivery_success: false })).data.map((e) => e.id)).toContain(
      event?.id,
    );
    await advance(1);
    await flush();
    await advance(1);
    await flush();
    const { data } = await h.control<{ data: AttemptView[] }>(
      'GET',
      `webhooks/deliveries?event=${event?.id}&endpoint=${endpointId}`,
    );
    expect(data.map((a) => [a.responseStatus, a.succeeded])).toEqual([
      [503, false],
      [503, false],
      [200, true],
    ]);
    expect(h.receiver.received).toHaveLength(1);
    expect((await h.stripe.events.retrieve(event?.id ?? '')).pending_webhooks).toBe(0);
  });

  it('webhook_endpoint_down with timeout records a timeout; DELETE /_sandbox/faults ends every fault', async () => {
    await start();
    await h.control('POST', 'faults', { kind: 'webhook_endpoint_down', timeout: true });
    await confirmVisa(h.stripe);
    await flush();
    const { data } = await h.control<{ data: AttemptView[] }>('GET', 'webhooks/deliveries');
    expect(data).toEqual([
      expect.objectContaining({
        responseStatus: null,
        error: expect.stringMatching(/timeout/),
        succeeded: false,
      }),
    ]);
    await h.control('DELETE', 'faults');
    await advance(1);
    await flush();
    expect(h.receiver.received).toHaveLength(1);
  });

  it('rejects a webhook fault with nonsense parameters with a 400', async () => {
    await start();
    await expect(h.control('POST', 'faults', { kind: 'webhook_duplicate', count: 0 })).rejects.toThrow(
      /answered 400/,
    );
  });

  it('resends an event to an endpoint through /_sandbox/events/:id/resend, freshly signed', async () => {
    await start();
    await confirmVisa(h.stripe);
    await flush();
    const [first] = await h.receiver.waitFor(1);
    const eventId = parsed(first).id;
    await advance(600);
    const result = await h.control('POST', `events/${eventId}/resend`, { endpoint: endpointId });
    expect(result).toEqual({ attempted: 1, succeeded: 1, failed: 0 });
    const [, again] = await h.receiver.waitFor(2);
    expect(signedAt(again?.signature) - signedAt(first?.signature)).toBe(600);
    expect((await h.verify(again, secret)).id).toBe(eventId);
    await expect(h.control('POST', 'events/evt_missing/resend', {})).rejects.toThrow(/answered 404/);
  });
});
