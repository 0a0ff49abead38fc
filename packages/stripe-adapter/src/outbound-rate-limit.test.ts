import { GatewayRateLimitedError, isPayError } from '@pay/core';
import {
  createOutboundRateLimiter,
  StripeRequestShedError,
  type LimiterClock,
  type LimiterOutcome,
  type OutboundRateLimitOptions,
} from './outbound-rate-limit.js';

/*
 * Every test runs on a manual clock: time moves only when the test says, so each wait is an exact
 * number and nothing depends on how fast this machine is.
 */

class ManualClock implements LimiterClock {
  private t = 0;
  private sleepers: { at: number; resolve: () => void }[] = [];
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => this.sleepers.push({ at: this.t + ms, resolve }));
  }

  /** Moves time on and wakes every sleeper now due, earliest first, letting their callers run. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t).sort((a, b) => a.at - b.at);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const sleeper of due) {
      sleeper.resolve();
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Observation {
  readonly endpoint: string;
  readonly at: number;
  readonly waitedMs: number;
  readonly outcome: LimiterOutcome;
}

function setUp(options: Partial<OutboundRateLimitOptions> = {}) {
  const clock = new ManualClock();
  const observed: Observation[] = [];
  const limiter = createOutboundRateLimiter({
    perSecond: 100,
    perEndpointPerSecond: 25,
    maxWaitMs: 2000,
    clock,
    observe: (endpoint, waitedSeconds, outcome) =>
      observed.push({ endpoint, at: clock.now(), waitedMs: waitedSeconds * 1000, outcome }),
    ...options,
  });
  return { clock, limiter, observed };
}

/** The sandbox's (and Stripe's) bucket: `rate` per second, refilled continuously, holding one second's worth. */
class ReferenceBucket {
  private tokens: number;
  private at = 0;
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }
  refill(t: number): void {
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.at) / 1000) * this.rate);
    this.at = t;
  }
  /** A millionth of a token of slack: the limiter's times are sums of float intervals. */
  has(): boolean {
    return this.tokens >= 1 - 1e-6;
  }
  take(): void {
    this.tokens -= 1;
  }
}

describe('outbound rate limiter', () => {
  it('sends a burst of one second’s worth at once, then one request per interval', async () => {
    const { clock, limiter, observed } = setUp({ perSecond: 10, perEndpointPerSecond: 10 });
    let done = 0;
    for (let i = 0; i < 12; i++) {
      void limiter.acquire('POST /v1/customers', 'customers.create').then(() => done++);
    }
    await clock.advance(0);
    expect(done).toBe(10);
    await clock.advance(99);
    expect(done).toBe(10);
    await clock.advance(1);
    expect(done).toBe(11);
    await clock.advance(100);
    expect(done).toBe(12);
    expect(observed.map((o) => o.waitedMs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200]);
  });

  it('holds one endpoint to its own rate while the global bucket has room', async () => {
    const { clock, limiter, observed } = setUp();
    for (let i = 0; i < 26; i++) {
      void limiter.acquire('POST /v1/payment_intents', 'paymentIntents.create');
    }
    await clock.advance(39);
    expect(observed).toHaveLength(25);
    // 25 per second for the endpoint: the 26th waits one interval of 40 ms.
    await clock.advance(1);
    expect(observed.at(-1)).toMatchObject({ waitedMs: 40, outcome: 'sent' });
  });

  it('keeps each endpoint first come, first served, and never holds one endpoint behind another’s queue', async () => {
    const { clock, limiter } = setUp();
    const order: string[] = [];
    for (let i = 0; i < 27; i++) {
      void limiter.acquire('POST /v1/customers', 'customers.create').then(() => order.push(`a${i}`));
    }
    // Another endpoint, with tokens of its own and global ones to spare, goes at once.
    void limiter.acquire('GET /v1/charges/:charge', 'charges.retrieve').then(() => order.push('b'));
    await clock.advance(0);
    expect(order).toEqual([...Array.from({ length: 25 }, (_, i) => `a${i}`), 'b']);
    for (let i = 0; i < 10; i++) {
      await clock.advance(10);
    }
    expect(order.slice(26)).toEqual(['a25', 'a26']);
  });

  it('lets the oldest waiting request go first when the global bucket is what holds them', async () => {
    const { clock, limiter } = setUp({ perSecond: 2, perEndpointPerSecond: 2 });
    const order: string[] = [];
    const endpoints = ['A', 'B', 'A', 'C', 'B'];
    endpoints.forEach((endpoint, i) => {
      void limiter.acquire(endpoint, 'call').then(() => order.push(`${endpoint}${i}`));
    });
    for (let i = 0; i < 4; i++) {
      await clock.advance(500);
    }
    expect(order).toEqual(['A0', 'B1', 'A2', 'C3', 'B4']);
  });

  it('refuses at once, with a retryable typed error and Retry-After, a call that would wait past the maximum', async () => {
    const { clock, limiter, observed } = setUp({ perSecond: 10, perEndpointPerSecond: 10, maxWaitMs: 250 });
    for (let i = 0; i < 12; i++) {
      void limiter.acquire('POST /v1/refunds', 'refunds.create');
    }
    // Ten in the burst, then 100 ms and 200 ms; the next would wait 300 ms.
    const refused = await limiter.acquire('POST /v1/refunds', 'refunds.create').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StripeRequestShedError);
    // Core's type for a request Stripe never acted on: the flow keeps its recovery point and the API
    // answers 503 + Retry-After, as for Stripe's own 429.
    expect(refused).toBeInstanceOf(GatewayRateLimitedError);
    expect(isPayError(refused) && refused).toMatchObject({
      code: 'dependency_unavailable',
      retryable: true,
      ambiguous: false,
      context: { call: 'refunds.create', endpoint: 'POST /v1/refunds', waitMs: 300, retryAfterSeconds: 1 },
    });
    expect(observed.at(-1)).toMatchObject({ outcome: 'shed', waitedMs: expect.closeTo(300, 3) });
    // The refused call took no place in the queue: the next one is judged the same way.
    await expect(limiter.acquire('POST /v1/refunds', 'refunds.create')).rejects.toMatchObject({
      context: { waitMs: 300 },
    });
    // Once the queue has moved on, calls are admitted again.
    await clock.advance(100);
    let sent = false;
    void limiter.acquire('POST /v1/refunds', 'refunds.create').then(() => (sent = true));
    await clock.advance(199);
    expect(sent).toBe(false);
    await clock.advance(1);
    expect(sent).toBe(true);
  });

  it('never sends faster than Stripe’s own buckets allow, and no call waits past the maximum, under four times the load they take', async () => {
    const { clock, limiter, observed } = setUp();
    const endpoints = [
      'POST /v1/customers',
      'POST /v1/payment_methods/:payment_method/attach',
      'POST /v1/payment_intents',
      'POST /v1/payment_intents/:intent/confirm',
      'GET /v1/charges/:charge',
    ];
    // 400 requests per second for 10 s over five endpoints, the mix drifting (mostly creates at
    // first, mostly confirms later), then time for the queues to drain.
    const random = lcg(7);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 4000; i++) {
      const skew = Math.min(endpoints.length - 1, Math.floor(random() * 3 + (i / 4000) * 3));
      calls.push(limiter.acquire(endpoints[skew] ?? '', 'call').catch(() => undefined));
      await clock.advance(2.5);
    }
    for (let i = 0; i < 400; i++) {
      await clock.advance(10);
    }
    await Promise.all(calls);
    const sent = observed.filter((o) => o.outcome === 'sent');
    const global = new ReferenceBucket(100);
    const local = new Map(endpoints.map((e) => [e, new ReferenceBucket(25)]));
    let refusals = 0;
    for (const send of sent) {
      const bucket = local.get(send.endpoint);
      if (bucket === undefined) {
        throw new Error(`unexpected endpoint ${send.endpoint}`);
      }
      global.refill(send.at);
      bucket.refill(send.at);
      if (global.has() && bucket.has()) {
        global.take();
        bucket.take();
      } else {
        refusals++;
      }
    }
    expect(refusals).toBe(0);
    expect(sent.length + observed.filter((o) => o.outcome === 'shed').length).toBe(4000);
    // The sends are time-ordered (the reference bucket above relies on it) and none waited past the maximum.
    expect(sent.every((o, i) => i === 0 || (sent[i - 1]?.at ?? 0) <= o.at)).toBe(true);
    // (At most one step of this clock late: a timer due between two steps fires at the second.)
    expect(Math.max(...sent.map((o) => o.waitedMs))).toBeLessThanOrEqual(2000 + 2.5);
    // Stripe's buckets took at most the first second's burst and 100/s after it, per endpoint 25/s:
    // the limiter must not leave much of that unused while calls wait.
    expect(sent.length).toBeGreaterThan(0.8 * (100 + 100 * 10));
  });

  it.each([
    [{ perSecond: 0 }, 'perSecond'],
    [{ perEndpointPerSecond: Number.NaN }, 'perEndpointPerSecond'],
    [{ maxWaitMs: -1 }, 'maxWaitMs'],
  ])('refuses a meaningless limit (%o) as a configuration error', (bad, param) => {
    let error: unknown;
    try {
      setUp(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'configuration_invalid', param });
  });
});

/** A seeded generator, so the drifting mix is the same on every run. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
