import { ConfigurationError, GatewayRateLimitedError } from '@pay/core';

/*
 * pay's side of Stripe's rate limits (docs.stripe.com/rate-limits: 100 requests per second in live mode,
 * 25 in test mode, and lower limits per endpoint). Stripe recommends a client-side token bucket rather
 * than learning the limit from 429s: a 429 costs a round trip, and a burst of them turns into a burst of
 * retries. So every request pay sends to Stripe first takes a token from two buckets, one for all
 * requests and one for its endpoint (method and route, the way Stripe and the sandbox count them), each
 * refilled continuously at its rate and holding at most one second's worth (the burst).
 *
 * Waiting requests queue per endpoint, first come first served. Whenever tokens are there, the oldest
 * waiting request whose endpoint has a token goes, so a busy endpoint holds back only its own requests,
 * never another endpoint's (one queue for all would stall every call behind the slowest endpoint).
 * Tokens are counted at the moment a request is let go, so what leaves never exceeds either bucket. The
 * limiter sleeps on one timer until the next token is due: no polling.
 *
 * A request whose wait, judged on arrival from the queues ahead of it, would exceed `maxWaitMs` is never
 * sent: it is refused at once with {@link StripeRequestShedError}. A request that has waited the
 * maximum anyway (later arrivals on other endpoints took the global tokens it was counting on) is
 * refused then, so no caller waits much past the maximum.
 */

/** The clock the limiter reads and sleeps on; tests inject a manual one. */
export interface LimiterClock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock. */
  sleep(ms: number): Promise<void>;
}

/** `performance.now()` and `setTimeout`: the process's monotonic clock. */
export const systemLimiterClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
};

/** What became of one request at the limiter: `sent` after `waitedSeconds`, or `shed` (never sent). */
export type LimiterOutcome = 'sent' | 'shed';

/**
 * Told of every request the limiter let through (`sent`, with the seconds it waited for its token, 0
 * when none) or refused (`shed`, with the wait it would have had). The API feeds
 * `pay_stripe_limiter_wait_seconds` and `pay_stripe_limiter_shed_total` with it.
 */
export type ObserveStripeLimiter = (endpoint: string, waitedSeconds: number, outcome: LimiterOutcome) => void;

/** The limits of {@link createOutboundRateLimiter}. */
export interface OutboundRateLimitOptions {
  /** Requests per second to Stripe, all endpoints together; also the burst. A positive number. */
  readonly perSecond: number;
  /** Requests per second to any one endpoint; also its burst. A positive number, at most `perSecond` to matter. */
  readonly perEndpointPerSecond: number;
  /**
   * The longest a request may wait for its token, in ms (0: never wait). A request that would wait
   * longer is refused at once with {@link StripeRequestShedError}.
   */
  readonly maxWaitMs: number;
  /** The process's monotonic clock unless given. */
  readonly clock?: LimiterClock;
  /** Told of every request sent or shed. */
  readonly observe?: ObserveStripeLimiter;
}

/** The limiter every Stripe request goes through: resolves when the request may be sent. */
export interface OutboundRateLimiter {
  /**
   * Waits for a token of the global bucket and of `endpoint`'s (`POST /v1/payment_intents`), then
   * resolves; throws {@link StripeRequestShedError} at once, without waiting, when the wait would exceed
   * the maximum. `call` names the SDK call for the error's message and log context.
   */
  acquire(endpoint: string, call: string): Promise<void>;
}

/**
 * pay's own limiter refused a Stripe request because the wait for a token would have exceeded
 * `PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS`. Nothing was sent, so nothing changed at Stripe: like Stripe's
 * own 429 (a {@link GatewayRateLimitedError}: code `dependency_unavailable`, retryable, not ambiguous),
 * the API answers 503 with `Retry-After` from `context.retryAfterSeconds`, and a retry with the same
 * Idempotency-Key resumes the payment from its recovery point (the flow released its key there, as
 * after any retryable gateway error: see `releaseKey` in `@pay/core`).
 */
export class StripeRequestShedError extends GatewayRateLimitedError {}

/** A token bucket: `tokens` as of `at` (ms), refilled at `rate` per second up to `capacity`. */
interface Bucket {
  tokens: number;
  at: number;
  readonly rate: number;
  readonly capacity: number;
}

function bucketOf(rate: number, now: number): Bucket {
  // One second's worth, at least one request (a rate below 1/s still sends one at a time).
  const capacity = Math.max(1, rate);
  return { tokens: capacity, at: now, rate, capacity };
}

function refill(bucket: Bucket, now: number): void {
  bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rate);
  bucket.at = now;
}

/** A token's worth, less the float error of adding up fractions of tokens. */
const ONE_TOKEN = 1 - 1e-9;

/** Ms from `now` (the bucket refilled to it) until it holds `count` tokens. */
function msUntil(bucket: Bucket, count: number): number {
  return Math.max(0, ((count - (1 - ONE_TOKEN) - bucket.tokens) / bucket.rate) * 1000);
}

interface Waiter {
  readonly endpoint: string;
  readonly call: string;
  readonly arrivedAt: number;
  /** Its position among all waiters ever queued: the oldest waiting request goes first. */
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface EndpointState {
  readonly bucket: Bucket;
  readonly queue: Waiter[];
}

function checkRate(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`${name} must be a positive number of requests per second, got ${value}.`, {
      param: name,
    });
  }
}

/** A limiter with its own buckets; one per process (pay's Stripe gateway makes one). */
export function createOutboundRateLimiter(options: OutboundRateLimitOptions): OutboundRateLimiter {
  checkRate('perSecond', options.perSecond);
  checkRate('perEndpointPerSecond', options.perEndpointPerSecond);
  if (!Number.isFinite(options.maxWaitMs) || options.maxWaitMs < 0) {
    throw new ConfigurationError(`maxWaitMs must be 0 or more ms, got ${options.maxWaitMs}.`, {
      param: 'maxWaitMs',
    });
  }
  const { maxWaitMs } = options;
  const clock = options.clock ?? systemLimiterClock;
  const global = bucketOf(options.perSecond, clock.now());
  const endpoints = new Map<string, EndpointState>();
  let waiting = 0;
  let seq = 0;
  // When the pending timer fires; a later wake-up need not be scheduled while one is due sooner.
  let wakeAt = Number.POSITIVE_INFINITY;

  const shed = (endpoint: string, call: string, waitMs: number): StripeRequestShedError => {
    options.observe?.(endpoint, waitMs / 1000, 'shed');
    return new StripeRequestShedError(
      `pay's Stripe rate limit would hold ${call} for ${Math.ceil(waitMs)} ms, past the ${maxWaitMs} ms ` +
        'allowed (PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS): not sent; retry with the same idempotency key.',
      {
        context: {
          call,
          endpoint,
          waitMs: Math.ceil(waitMs),
          // By then the queue ahead of it has gone, if nothing else joined.
          retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        },
      },
    );
  };

  /** Lets go every waiter that has its tokens, oldest first; refuses those past the maximum; re-arms the timer. */
  const pump = (): void => {
    const now = clock.now();
    refill(global, now);
    for (const state of endpoints.values()) {
      refill(state.bucket, now);
    }
    while (global.tokens >= ONE_TOKEN) {
      let next: EndpointState | undefined;
      for (const state of endpoints.values()) {
        const head = state.queue[0];
        if (
          head !== undefined &&
          state.bucket.tokens >= ONE_TOKEN &&
          (next?.queue[0]?.seq ?? Infinity) > head.seq
        ) {
          next = state;
        }
      }
      const head = next?.queue.shift();
      if (next === undefined || head === undefined) {
        break;
      }
      waiting--;
      global.tokens -= 1;
      next.bucket.tokens -= 1;
      options.observe?.(head.endpoint, (now - head.arrivedAt) / 1000, 'sent');
      head.resolve();
    }
    // Still waiting past the maximum, with no token for them now: refused. The queue is FIFO with one
    // maximum, so only heads can be overdue.
    for (const state of endpoints.values()) {
      for (
        let head = state.queue[0];
        head !== undefined && now - head.arrivedAt > maxWaitMs;
        head = state.queue[0]
      ) {
        state.queue.shift();
        waiting--;
        head.reject(shed(head.endpoint, head.call, now - head.arrivedAt));
      }
    }
    let due = Number.POSITIVE_INFINITY;
    for (const state of endpoints.values()) {
      const head = state.queue[0];
      if (head !== undefined) {
        const tokenAt = now + Math.max(msUntil(global, 1), msUntil(state.bucket, 1));
        due = Math.min(due, tokenAt, head.arrivedAt + maxWaitMs + 1);
      }
    }
    if (due < wakeAt) {
      wakeAt = due;
      void clock.sleep(due - now).then(() => {
        if (wakeAt === due) {
          wakeAt = Number.POSITIVE_INFINITY;
        }
        pump();
      });
    }
  };

  return {
    acquire(endpoint: string, call: string): Promise<void> {
      const now = clock.now();
      let state = endpoints.get(endpoint);
      if (state === undefined) {
        state = { bucket: bucketOf(options.perEndpointPerSecond, now), queue: [] };
        endpoints.set(endpoint, state);
      }
      refill(global, now);
      refill(state.bucket, now);
      // The wait on arrival: for this endpoint's queue and, ahead of it in the global bucket, every
      // request already waiting (a lower bound when other endpoints' later arrivals slip in first).
      const estimateMs = Math.max(
        msUntil(state.bucket, state.queue.length + 1),
        msUntil(global, waiting + 1),
      );
      if (estimateMs > maxWaitMs) {
        return Promise.reject(shed(endpoint, call, estimateMs));
      }
      const queue = state.queue;
      const admitted = new Promise<void>((resolve, reject) => {
        queue.push({ endpoint, call, arrivedAt: now, seq: seq++, resolve, reject });
      });
      waiting++;
      pump();
      return admitted;
    },
  };
}
