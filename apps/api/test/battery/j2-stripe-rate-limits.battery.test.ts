import { readSandboxState } from '@pay/reliability';
import { workerRateLimitEnv } from '../../src/cluster.js';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer, type Answer } from './support/client.js';
import { CREATE_INTENT } from './support/fault-case.js';
import { NIGHTLY, figure, seedOf, seededRandom, since, tally } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';

/*
 * RELIABILITY.md J2, Stripe's rate limits: the sandbox enforces them (25 requests per second per
 * endpoint, 100 in all, 429 `rate_limit` beyond), the API runs with PAY_STRIPE_RATE_LIMIT set to the
 * same numbers, and clients start 100 payments a second for new subscribers (four Stripe calls each:
 * customer, attach, intent, confirm), i.e. four times what Stripe takes. pay must hold its Stripe
 * traffic under the limit with its token buckets, answer what it cannot send in time with 503 +
 * Retry-After (never another 5xx), and every payment must end succeeded once its client has retried
 * with the same Idempotency-Key, with exactly one charge each (K1–K5).
 */

const LIMITS = { perEndpoint: 25, global: 100 };
const PAYMENTS_PER_SECOND = 100;
const PUSH_SECONDS = NIGHTLY ? 120 : 20;
const MAX_WAIT_MS = 2_000;
/** Each client's retries are spread over this much on top of Retry-After, so they do not come back in waves. */
const RETRY_JITTER_MS = 500;
/** A hang guard only: a payment still unanswered this long after the push ended fails the test. */
const SETTLE_DEADLINE_MS = (NIGHTLY ? 900 : 240) * 1_000;
/** The window of the sandbox's request log the "never sustained above the limit" check slides. */
const WINDOW_S = 5;

const TUNING = {
  PAY_STRIPE_RATE_LIMIT: String(LIMITS.global),
  PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: String(LIMITS.perEndpoint),
  PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS: String(MAX_WAIT_MS),
};

interface ClientRun {
  readonly answers: Answer[];
  readonly final: Answer | null;
  readonly endedAt: number;
}

/** One client: posts the payment, and retries with the same key after Retry-After while it is told to. */
async function payUntilFinal(
  battery: Battery,
  api: ApiProcess,
  random: () => number,
  deadline: number,
): Promise<ClientRun> {
  const key = newIdempotencyKey('j2');
  const body = battery.body();
  const answers: Answer[] = [];
  while (performance.now() < deadline) {
    const answer = await battery.post(api, key, body);
    answers.push(answer);
    if (answer.kind === 'http' && (answer.status === 201 || answer.status === 402)) {
      return { answers, final: answer, endedAt: performance.now() };
    }
    const retryAfter = answer.kind === 'http' ? Number(answer.retryAfter ?? 'NaN') : NaN;
    const waitMs =
      (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 100) + random() * RETRY_JITTER_MS;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  return { answers, final: null, endedAt: performance.now() };
}

/** The `le` buckets of a Prometheus histogram and their cumulative counts, from `/metrics`. */
function histogramOf(metricsText: string, name: string): { le: number; count: number }[] {
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+(?:\\.\\d+)?)$`, 'gm');
  return [...metricsText.matchAll(pattern)].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
}

/** The `q` quantile of a histogram, interpolated inside its bucket as Prometheus' histogram_quantile does. */
function quantileOf(buckets: readonly { le: number; count: number }[], q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) {
    return 0;
  }
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) {
        return lower;
      }
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket;
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

function counterOf(metricsText: string, name: string): number {
  const pattern = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'gm');
  return [...metricsText.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** The most requests in any `windowS`-second window of `times` (ms, any order). */
function busiestWindow(times: readonly number[], windowS: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowS * 1000) {
      start++;
    }
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('J2: Stripe rate limits (RELIABILITY.md J2)', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_j2', { rateLimits: LIMITS });
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
    await battery.recoverAndCheck(expect.getState().currentTestName ?? 'J2');
  });

  afterAll(async () => {
    await battery?.close();
  });

  it('a 429 rate_limit answered by Stripe reaches the client as a 503 with Retry-After, and the retry succeeds', async () => {
    api = await battery.startApi();
    battery.sandbox.faults.add({ kind: 'error_before', status: 429, match: CREATE_INTENT, times: 1 });
    const key = newIdempotencyKey('j2-stripe-429');
    const body = battery.body();
    const first = await battery.post(api, key, body);
    const retry = await battery.post(api, key, body);
    figure('J2 Stripe 429', `first ${describeAnswer(first)}, retry ${describeAnswer(retry)}`);
    expect({
      status: first.kind === 'http' ? first.status : first.error,
      code: first.kind === 'http' ? first.code : null,
      retryAfter: first.kind === 'http' ? first.retryAfter : null,
    }).toEqual({ status: 503, code: 'dependency_unavailable', retryAfter: '1' });
    expect(retry.kind === 'http' ? retry.status : retry.error).toBe(201);
  });

  it(`clients starting ${PAYMENTS_PER_SECOND} payments/s for ${PUSH_SECONDS} s against Stripe's limits: 503 + Retry-After for the excess, never another 5xx, every payment succeeds once, Stripe never pushed past its limit`, async () => {
    api = await battery.startApi(TUNING);
    const running = api;
    const seed = seedOf();
    const random = seededRandom(seed);
    const requestsBefore = battery.sandbox.requests().length;
    const started = performance.now();
    const pushEnds = started + PUSH_SECONDS * 1000;
    const deadline = pushEnds + SETTLE_DEADLINE_MS;

    const clients: Promise<ClientRun>[] = [];
    const total = PAYMENTS_PER_SECOND * PUSH_SECONDS;
    for (let i = 0; i < total; i++) {
      // Paced against the start, not the previous launch, so a slow tick does not lower the rate.
      const due = started + (i * 1000) / PAYMENTS_PER_SECOND;
      const lag = due - performance.now();
      if (lag > 0) {
        await new Promise((resolve) => setTimeout(resolve, lag));
      }
      clients.push(payUntilFinal(battery, running, random, deadline));
    }
    const launchMs = since(started);
    const runs = await Promise.all(clients);
    const elapsedMs = since(started);
    const stripeRequests = battery.sandbox.requests().slice(requestsBefore);
    const metricsText = await (await fetch(`${running.url}/metrics`)).text();

    const answers = runs.flatMap((r) => r.answers);
    const http = answers.flatMap((a) => (a.kind === 'http' ? [a] : []));
    const shed = http.filter((a) => a.status === 503);
    const unexpected5xx = http.filter((a) => a.status >= 500 && !(a.status === 503 && a.retryAfter !== null));
    const refusalsWithoutRetryAfter = http.filter(
      (a) => (a.status === 429 || a.status === 503) && a.retryAfter === null,
    );
    const succeeded = runs.filter((r) => r.final?.kind === 'http' && r.final.status === 201);
    const lastSuccess = Math.max(...succeeded.map((r) => r.endedAt));
    const sandbox429 = stripeRequests.filter((r) => r.status === 429);
    const busiestAll = busiestWindow(
      stripeRequests.map((r) => r.at),
      WINDOW_S,
    );
    const routes = [...new Set(stripeRequests.map((r) => `${r.method} ${r.route ?? r.path}`))];
    const busiestPerEndpoint = Math.max(
      ...routes.map((route) =>
        busiestWindow(
          stripeRequests.filter((r) => `${r.method} ${r.route ?? r.path}` === route).map((r) => r.at),
          WINDOW_S,
        ),
      ),
    );
    const waits = histogramOf(metricsText, 'pay_stripe_limiter_wait_seconds');
    const limiterShed = counterOf(metricsText, 'pay_stripe_limiter_shed_total');

    // Exactly one successful charge per payment: Stripe acted once whatever the retries.
    const state = await readSandboxState(battery.ctx.sandbox);
    const chargesPerIntent = new Map<string, number>();
    for (const charge of state.charges) {
      if (charge.status === 'succeeded' && typeof charge.payment_intent === 'string') {
        chargesPerIntent.set(charge.payment_intent, (chargesPerIntent.get(charge.payment_intent) ?? 0) + 1);
      }
    }
    const duplicateCharges = [...chargesPerIntent.values()].filter((n) => n > 1).length;

    const figures = {
      seed,
      payments: total,
      requests_sent: answers.length,
      shed_503: shed.length,
      shed_rate: Number((shed.length / answers.length).toFixed(4)),
      limiter_shed: limiterShed,
      limiter_wait_p50_ms: Math.round(quantileOf(waits, 0.5) * 1000),
      limiter_wait_p99_ms: Math.round(quantileOf(waits, 0.99) * 1000),
      stripe_requests: stripeRequests.length,
      sandbox_429: sandbox429.length,
      busiest_5s_all: busiestAll,
      busiest_5s_endpoint: busiestPerEndpoint,
      succeeded: succeeded.length,
      payments_per_s: Number(((succeeded.length * 1000) / (lastSuccess - started)).toFixed(1)),
      launch_ms: launchMs,
      elapsed_ms: elapsedMs,
    };
    console.log(JSON.stringify({ j2: figures }));
    figure(
      'J2',
      `${total} payments started at ${PAYMENTS_PER_SECOND}/s (launch took ${launchMs} ms), ${answers.length} requests, ` +
        `${shed.length} answered 503 (shed rate ${(figures.shed_rate * 100).toFixed(1)}%, ${limiterShed} Stripe calls shed by the limiter); ` +
        `limiter wait p50 ${figures.limiter_wait_p50_ms} ms, p99 ${figures.limiter_wait_p99_ms} ms; ` +
        `${stripeRequests.length} Stripe requests, ${sandbox429.length} answered 429, busiest ${WINDOW_S} s: ${busiestAll} in all, ${busiestPerEndpoint} on one endpoint; ` +
        `${succeeded.length} succeeded at ${figures.payments_per_s}/s, all done in ${elapsedMs} ms; ` +
        `answers ${tally(http.map((a) => String(a.status)))}`,
    );

    expect({
      unexpected5xx: unexpected5xx.map(describeAnswer),
      refusalsWithoutRetryAfter: refusalsWithoutRetryAfter.map(describeAnswer),
      unfinished: runs.filter((r) => r.final === null).length,
      notSucceeded: runs.flatMap((r) =>
        r.final !== null && !(r.final.kind === 'http' && r.final.status === 201)
          ? [describeAnswer(r.final)]
          : [],
      ),
      duplicateCharges,
    }).toEqual({
      unexpected5xx: [],
      refusalsWithoutRetryAfter: [],
      unfinished: 0,
      notSucceeded: [],
      duplicateCharges: 0,
    });
    // The overload was real: the limiter had to shed, or the test proved nothing.
    expect(limiterShed).toBeGreaterThan(0);
    // What Stripe's buckets take in any window: one second's burst plus the rate over the window.
    expect(busiestAll).toBeLessThanOrEqual(LIMITS.global * (WINDOW_S + 1));
    expect(busiestPerEndpoint).toBeLessThanOrEqual(LIMITS.perEndpoint * (WINDOW_S + 1));
    // A request leaves on its token but reaches Stripe one network transit later; two sent one interval
    // apart can land closer than that when the first was slower on the way, and meet an empty bucket.
    // That is the only way a 429 can come back, so a handful at most: under 1% of the requests.
    expect(sandbox429.length).toBeLessThanOrEqual(Math.ceil(stripeRequests.length / 100));
  });

  it('each of N API processes gets its share of the limit, so a cluster stays under it', () => {
    const config = { stripeRateLimit: 90, stripeRateLimitPerEndpoint: 25 };
    expect(workerRateLimitEnv(config, 1)).toEqual({});
    expect(workerRateLimitEnv(config, 4)).toEqual({
      PAY_STRIPE_RATE_LIMIT: '22',
      PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: '6',
    });
    expect(workerRateLimitEnv(config, 64)).toEqual({
      PAY_STRIPE_RATE_LIMIT: '1',
      PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: '1',
    });
    expect(workerRateLimitEnv({ ...config, stripeRateLimit: 0 }, 4)).toEqual({});
  });
});
