import Stripe from 'stripe';
import { hubHarness, sandboxEvent } from '../../test/webhooks-fixtures.js';
import type { WebhookFault } from './hub.js';
import { WebhookFaultError } from './faults.js';

const stripe = new Stripe('sk_test_hub');
type Harness = Awaited<ReturnType<typeof hubHarness>>;

const idOf = (r: { body: string }): string => (JSON.parse(r.body) as { id: string }).id;

describe('webhook hub: faults', () => {
  let h: Harness;
  let secret: string;
  beforeEach(async () => {
    h = await hubHarness({ retrySchedule: 'fast' });
    secret = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] }).secret ?? '';
  });
  afterEach(async () => h.close());

  it('webhook_duplicate delivers the event `count` extra times, for `times` events', async () => {
    h.hub.addFault({ kind: 'webhook_duplicate', count: 2, times: 1 });
    const dup = sandboxEvent();
    const single = sandboxEvent();
    h.hub.publish('acct_a', dup);
    h.hub.publish('acct_a', single);
    await h.hub.flush();
    expect(h.receiver.received.map(idOf)).toEqual([dup.id, dup.id, dup.id, single.id]);
    // Each copy is signed on its own and verifies; the endpoint answered, so nothing is pending.
    for (const r of h.receiver.received) {
      expect(
        stripe.webhooks.constructEvent(r.body, r.signature, secret, 300, undefined, h.clock.now()).id,
      ).toBe(idOf(r));
    }
    expect(h.hub.pendingWebhooks('acct_a', dup.id)).toBe(0);
  });

  it('webhook_shuffle delivers a batch of due events out of creation order, all of them', async () => {
    h.hub.addFault({ kind: 'webhook_shuffle', times: 1 });
    const events = Array.from({ length: 6 }, () => sandboxEvent());
    for (const event of events) {
      h.hub.publish('acct_a', event);
    }
    await h.hub.flush();
    const got = h.receiver.received.map(idOf);
    expect(got).not.toEqual(events.map((e) => e.id));
    expect([...got].sort()).toEqual(events.map((e) => e.id).sort());

    // `times: 1` is used up: the next batch keeps creation order.
    const next = [sandboxEvent(), sandboxEvent()];
    next.forEach((event) => h.hub.publish('acct_a', event));
    await h.hub.flush();
    expect(h.receiver.received.slice(6).map(idOf)).toEqual(next.map((e) => e.id));
  });

  it('webhook_delay holds the first attempt for `seconds` of sandbox time', async () => {
    h.hub.addFault({ kind: 'webhook_delay', seconds: 30 });
    const t0 = h.clock.now();
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    h.clock.advance(29);
    await h.hub.flush();
    expect(h.receiver.received).toHaveLength(0);
    h.clock.advance(1);
    await h.hub.flush();
    expect(h.hub.deliveries().map((a) => a.sentAt - t0)).toEqual([30_000]);
  });

  it('webhook_stale_signature signs with t = now − age_seconds, which constructEvent rejects', async () => {
    h.hub.addFault({ kind: 'webhook_stale_signature', age_seconds: 600, times: 1 });
    h.hub.publish('acct_a', sandboxEvent());
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    const [stale, fresh] = h.receiver.received;
    expect(stale?.signature).toMatch(new RegExp(`^t=${h.clock.nowSeconds() - 600},`));
    const now = h.clock.now();
    expect(() =>
      stripe.webhooks.constructEvent(stale?.body ?? '', stale?.signature ?? '', secret, 300, undefined, now),
    ).toThrow(/Timestamp outside the tolerance zone/);
    // The signature itself is right: only its age is wrong.
    expect(() =>
      stripe.webhooks.constructEvent(stale?.body ?? '', stale?.signature ?? '', secret, 0),
    ).not.toThrow();
    expect(() =>
      stripe.webhooks.constructEvent(fresh?.body ?? '', fresh?.signature ?? '', secret, 300, undefined, now),
    ).not.toThrow();
  });

  it('webhook_bad_signature signs with another secret, so constructEvent finds no matching signature', async () => {
    h.hub.addFault({ kind: 'webhook_bad_signature', times: 1 });
    // A receiver that verifies answers 400 to it; the retry is signed correctly again.
    h.receiver.reply(400);
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    h.clock.advance(1);
    await h.hub.flush();
    const [bad, good] = h.receiver.received;
    const now = h.clock.now();
    expect(() =>
      stripe.webhooks.constructEvent(bad?.body ?? '', bad?.signature ?? '', secret, 300, undefined, now),
    ).toThrow(/No signatures found matching the expected signature/);
    expect(() =>
      stripe.webhooks.constructEvent(good?.body ?? '', good?.signature ?? '', secret, 300, undefined, now),
    ).not.toThrow();
  });

  it('webhook_endpoint_down fails `times` attempts with the status, without reaching the receiver', async () => {
    h.hub.addFault({ kind: 'webhook_endpoint_down', status: 503, times: 2 });
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    for (let i = 0; i < 3; i++) {
      await h.hub.flush();
      h.clock.advance(1);
    }
    expect(h.hub.deliveries().map((a) => [a.responseStatus, a.succeeded])).toEqual([
      [503, false],
      [503, false],
      [200, true],
    ]);
    expect(h.receiver.received.map(idOf)).toEqual([event.id]);
    expect(h.hub.deliverySucceeded('acct_a', event.id)).toBe(true);
  });

  it('webhook_endpoint_down with timeout records a timeout with no status', async () => {
    h.hub.addFault({ kind: 'webhook_endpoint_down', timeout: true, times: 1 });
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    expect(h.hub.deliveries()).toEqual([
      expect.objectContaining({
        responseStatus: null,
        error: expect.stringMatching(/timeout/),
        succeeded: false,
      }),
    ]);
    expect(h.receiver.received).toHaveLength(0);
  });

  it('lasts until cleared when `times` is omitted; clearFaults ends every fault', async () => {
    h.hub.addFault({ kind: 'webhook_endpoint_down', status: 500 });
    h.hub.publish('acct_a', sandboxEvent());
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    expect(h.hub.deliveries().map((a) => a.responseStatus)).toEqual([500, 500]);
    h.hub.clearFaults();
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    expect(h.hub.deliveries().map((a) => a.responseStatus)).toEqual([500, 500, 200]);
  });

  it('rejects faults whose parameters make no sense', () => {
    const bad: unknown[] = [
      { kind: 'webhook_duplicate', count: 0 },
      { kind: 'webhook_delay', seconds: -1 },
      { kind: 'webhook_stale_signature', age_seconds: 1.5 },
      { kind: 'webhook_endpoint_down', status: 204 },
      { kind: 'webhook_shuffle', times: 0 },
      { kind: 'webhook_nope' },
    ];
    for (const fault of bad) {
      expect(() => h.hub.addFault(fault as WebhookFault)).toThrow(WebhookFaultError);
    }
  });
});
