import Stripe from 'stripe';
import { createClock } from '../clock.js';
import { hubHarness, sandboxEvent } from '../../test/webhooks-fixtures.js';
import { startWebhookReceiver } from '../../test/webhooks-receiver.js';
import { RETRY_SCHEDULES } from './retry-schedules.js';

const stripe = new Stripe('sk_test_hub');
type Harness = Awaited<ReturnType<typeof hubHarness>>;
const HOUR = 3600;

function signedAt(header: string): number {
  return Number(/^t=(\d+),/.exec(header)?.[1]);
}

describe('webhook hub: retries on the sandbox clock', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('fast schedule: fails twice then succeeds → 3 attempts at +0, +1 s, +2 s, each re-signed with its own t', async () => {
    h = await hubHarness({ retrySchedule: 'fast' });
    const { secret } = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.reply(500, 500);
    const t0 = h.clock.now();
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(1);
    // Nothing more happens until the clock reaches the next due time.
    expect(await h.hub.flush()).toEqual({ attempted: 0, succeeded: 0, failed: 0 });

    for (let step = 1; step <= 2; step++) {
      h.clock.advance(1);
      await h.receiver.waitFor(step + 1);
      await h.hub.flush();
      // Each attempt is verifiable at the moment it was sent.
      const got = h.receiver.received[step];
      expect(
        stripe.webhooks.constructEvent(
          got?.body ?? '',
          got?.signature ?? '',
          secret ?? '',
          300,
          undefined,
          h.clock.now(),
        ).id,
      ).toBe(event.id);
    }

    const attempts = h.hub.deliveries({ event: event.id });
    expect(
      attempts.map((a) => [a.attempt, a.scheduledAt - t0, a.sentAt - t0, a.responseStatus, a.succeeded]),
    ).toEqual([
      [1, 0, 0, 500, false],
      [2, 1000, 1000, 500, false],
      [3, 2000, 2000, 200, true],
    ]);
    const ts = attempts.map((a) => signedAt(a.signatureHeader));
    expect(ts).toEqual([0, 1, 2].map((s) => Math.floor(t0 / 1000) + s));
    expect(h.receiver.received.map((r) => r.signature)).toEqual(attempts.map((a) => a.signatureHeader));
    h.clock.advance(3600);
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(3);
  });

  it('tracks pending_webhooks and delivery success per endpoint as attempts fail and succeed', async () => {
    h = await hubHarness({ autoDeliver: false });
    const flaky = await startWebhookReceiver();
    try {
      const good = h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
      h.hub.createEndpoint('acct_a', { url: flaky.url, enabled_events: ['*'] });
      flaky.reply(500);
      const event = sandboxEvent();
      h.hub.publish('acct_a', event);
      const state = () => [
        h.hub.pendingWebhooks('acct_a', event.id),
        h.hub.deliverySucceeded('acct_a', event.id),
      ];
      expect(state()).toEqual([2, null]);

      await h.hub.flush();
      expect(state()).toEqual([1, false]);
      expect(h.hub.deliveries({ endpoint: good.id }).map((a) => a.succeeded)).toEqual([true]);

      h.clock.advance(1);
      await h.hub.flush();
      expect(state()).toEqual([0, true]);
      // The retry's body carries the pending count at its own send time.
      const retried = flaky.received[1];
      expect((JSON.parse(retried?.body ?? '{}') as { pending_webhooks: number }).pending_webhooks).toBe(1);
    } finally {
      await flaky.close();
    }
  });

  it('test schedule: retries at +1 h, +2 h, +4 h as the clock is advanced, then fails for good', async () => {
    h = await hubHarness({ retrySchedule: 'test' });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.setFallback(503);
    const t0 = h.clock.now();
    const event = sandboxEvent();
    h.hub.publish('acct_a', event);
    await h.hub.flush();

    h.clock.advance(HOUR - 1);
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(1);
    h.clock.advance(1);
    await h.hub.flush();
    h.clock.advance(HOUR);
    await h.hub.flush();
    expect(h.hub.pendingWebhooks('acct_a', event.id)).toBe(1);
    h.clock.advance(2 * HOUR);
    await h.hub.flush();
    h.clock.advance(72 * HOUR);
    await h.hub.flush();

    const attempts = h.hub.deliveries();
    expect(attempts.map((a) => (a.sentAt - t0) / 1000)).toEqual([0, HOUR, 2 * HOUR, 4 * HOUR]);
    expect(attempts.every((a) => !a.succeeded && a.responseStatus === 503)).toBe(true);
    expect(h.receiver.received).toHaveLength(4);
    // A failed delivery still owes its endpoint a 2xx (SANDBOX.md §5.4).
    expect([h.hub.pendingWebhooks('acct_a', event.id), h.hub.deliverySucceeded('acct_a', event.id)]).toEqual([
      1,
      false,
    ]);
  });

  it('runs every overdue retry in order when the clock jumps past several due times', async () => {
    h = await hubHarness({ retrySchedule: 'fast' });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.setFallback(500);
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    h.clock.advance(10);
    expect(await h.hub.flush()).toEqual({ attempted: 3, succeeded: 0, failed: 3 });
    expect(h.hub.deliveries().map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    // All three were sent at the same virtual time, and each still carries that time in its signature.
    expect(
      new Set(
        h.hub
          .deliveries()
          .slice(1)
          .map((a) => signedAt(a.signatureHeader)),
      ).size,
    ).toBe(1);
  });

  it('stops retrying an endpoint once it is disabled, and one that is deleted', async () => {
    h = await hubHarness({ retrySchedule: 'fast' });
    const disabled = h.hub.createEndpoint('acct_a', { url: `${h.receiver.url}/a`, enabled_events: ['*'] });
    const deleted = h.hub.createEndpoint('acct_a', { url: `${h.receiver.url}/b`, enabled_events: ['*'] });
    h.receiver.setFallback(500);
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(2);

    h.hub.updateEndpoint('acct_a', disabled.id, { disabled: true });
    h.hub.deleteEndpoint('acct_a', deleted.id);
    h.clock.advance(10);
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(2);
    // Re-enabling does not bring back the dropped retries; new events reach it again.
    h.hub.updateEndpoint('acct_a', disabled.id, { disabled: false });
    h.clock.advance(10);
    await h.hub.flush();
    expect(h.hub.deliveries()).toHaveLength(2);
    h.hub.publish('acct_a', sandboxEvent());
    await h.hub.flush();
    expect(h.hub.deliveries({ endpoint: disabled.id })).toHaveLength(2);
  });

  it('on a real clock, retries by timers after the scheduled wait', async () => {
    h = await hubHarness({ clock: createClock('real'), retrySchedule: 'fast' });
    h.hub.createEndpoint('acct_a', { url: h.receiver.url, enabled_events: ['*'] });
    h.receiver.reply(500);
    const started = Date.now();
    h.hub.publish('acct_a', sandboxEvent());
    await h.receiver.waitFor(2, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await h.hub.flush();
    expect(h.hub.deliveries().map((a) => a.succeeded)).toEqual([false, true]);
  });

  it('publishes the schedules of SANDBOX.md §5.4', () => {
    expect(RETRY_SCHEDULES.fast).toEqual([0, 1, 2, 4]);
    expect(RETRY_SCHEDULES.test).toEqual([0, HOUR, 2 * HOUR, 4 * HOUR]);
    const live = RETRY_SCHEDULES.live;
    expect(live.slice(0, 7)).toEqual([0, 300, 2100, 9300, 27300, 63300, 99300]);
    expect(live.slice(7).map((at, i) => at - (live[6 + i] ?? 0))).toEqual(live.slice(7).map(() => 12 * HOUR));
    expect(live[live.length - 1]).toBeLessThanOrEqual(72 * HOUR);
  });
});
