import fc from 'fast-check';
import { createMemoryStore, type MemoryStore } from '../../test/memory/memory-store.js';
import {
  ConfigurationError,
  DependencyUnavailableError,
  RateLimitedError,
  TransactionMisuseError,
} from '../errors.js';
import type { Logger } from '../ports/logger.js';
import { silentLogger } from '../ports/logger.js';
import type { RateLimitRepository } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import {
  RATE_LIMIT_STORE_RETRY_AFTER_SECONDS,
  RATE_LIMIT_WINDOW_MS,
  RateLimiter,
  rateLimitedError,
  type RateLimitDecision,
  type RateLimitRefused,
} from './rate-limiter.js';

const W = RATE_LIMIT_WINDOW_MS;
// A window boundary: 2026-01-01T00:00:00Z is a whole minute.
const T0 = Date.UTC(2026, 0, 1);

/** A clock the test moves by hand. */
function fakeClock(start = T0) {
  let now = start;
  return {
    clock: { now: () => new Date(now) },
    set: (ms: number) => {
      now = ms;
    },
  };
}

/** A logger that keeps its lines, to see what a sweep failure leaves behind. */
function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, ...(fields ? { fields } : {}) }),
    info: (message, fields) => lines.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
    child: () => logger,
  };
  return { logger, lines };
}

/** `store` with its rate-limit repository replaced. */
function withRateLimits(store: Store, rateLimits: RateLimitRepository): Store {
  return { ...store, repos: { ...store.repos, rateLimits } };
}

/** Lets the limiter's unawaited sweep settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RateLimiter', () => {
  let memory: MemoryStore;
  let time: ReturnType<typeof fakeClock>;

  beforeEach(() => {
    memory = createMemoryStore();
    time = fakeClock();
  });

  const limiter = (limit: number, logger: Logger = silentLogger, store: Store = memory.store) =>
    new RateLimiter({ store, clock: time.clock, limit, logger, bucketPrefix: '' });

  async function checkTimes(l: RateLimiter, bucket: string, count: number): Promise<RateLimitDecision[]> {
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < count; i++) {
      decisions.push(await l.check(bucket));
    }
    return decisions;
  }

  it('allows `limit` requests in a minute, counting down what remains, and refuses the next', async () => {
    const l = limiter(3);
    time.set(T0 + 10_000);
    const decisions = await checkTimes(l, 'api_key:a', 4);
    expect(decisions).toEqual([
      { allowed: true, limit: 3, remaining: 2, resetSeconds: 110 },
      { allowed: true, limit: 3, remaining: 1, resetSeconds: 110 },
      { allowed: true, limit: 3, remaining: 0, resetSeconds: 110 },
      // Counted (4 hits), so the next request fits once 4 × (1 − e/60) + 1 ≤ 3 in the next window: e ≥ 30 s.
      { allowed: false, limit: 3, remaining: 0, resetSeconds: 110, retryAfterSeconds: 80 },
    ]);
    expect(memory.tables.rateLimitBuckets).toEqual([
      { bucket: 'api_key:a', windowStart: new Date(T0), hits: 4 },
    ]);
  });

  it('keeps buckets apart: one caught by its limit leaves the others untouched', async () => {
    const l = limiter(2);
    await checkTimes(l, 'api_key:a', 3);
    expect(await l.check('api_key:b')).toMatchObject({ allowed: true, remaining: 1 });
    expect((await l.check('api_key:a')).allowed).toBe(false);
  });

  it('weighs the previous window by the share of it still inside the last 60 s', async () => {
    const l = limiter(10);
    time.set(T0 + W - 1_000);
    await checkTimes(l, 'k', 10);
    // Half-way through the next window, the previous 10 weigh 5: five more fit.
    time.set(T0 + W + W / 2);
    const decisions = await checkTimes(l, 'k', 6);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions[4]).toMatchObject({ remaining: 0, resetSeconds: 90 });
    // 10 × (30 − Δ)/60 + 6 + 1 ≤ 10 needs Δ ≥ 12 s, still inside this window.
    expect(decisions[5]).toMatchObject({ allowed: false, retryAfterSeconds: 12 });
    time.set(T0 + W + W / 2 + 11_999);
    expect((await l.check('k')).allowed).toBe(false);
  });

  it('forgets a bucket after two quiet windows', async () => {
    const l = limiter(1);
    await checkTimes(l, 'k', 2);
    time.set(T0 + 2 * W);
    expect(await l.check('k')).toEqual({ allowed: true, limit: 1, remaining: 0, resetSeconds: 120 });
  });

  it('turns a refusal into a rate_limited error carrying Retry-After', () => {
    const refusal: RateLimitRefused = {
      allowed: false,
      limit: 600,
      remaining: 0,
      resetSeconds: 100,
      retryAfterSeconds: 7,
    };
    const error = rateLimitedError(refusal);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.code).toBe('rate_limited');
    expect(error.retryable).toBe(false);
    expect(error.context).toEqual({ limit: 600, retryAfterSeconds: 7 });
    expect(error.message).toBe('Too many requests: the limit is 600 per minute. Retry after 7 seconds.');
    expect(rateLimitedError({ ...refusal, retryAfterSeconds: 1 }).message).toMatch(/after 1 second\.$/);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p per minute', (limit) => {
    expect(() => limiter(limit)).toThrow(ConfigurationError);
  });

  describe('when the store fails', () => {
    const failing = (error: Error): RateLimitRepository => ({
      hit: () => Promise.reject(error),
      read: () => Promise.reject(error),
      deleteWindowsBefore: () => Promise.resolve(0),
    });

    it('answers dependency_unavailable (retryable, with a pause), never a silent allow', async () => {
      const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      const l = limiter(5, silentLogger, withRateLimits(memory.store, failing(cause)));
      const error = await l.check('api_key:a').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({
        code: 'dependency_unavailable',
        retryable: true,
        cause,
        context: { bucket: 'api_key:a', retryAfterSeconds: RATE_LIMIT_STORE_RETRY_AFTER_SECONDS },
      });
    });

    it("lets pay's own errors through unchanged: they are bugs, not outages", async () => {
      const bug = new TransactionMisuseError('root repository inside a transaction');
      const l = limiter(5, silentLogger, withRateLimits(memory.store, failing(bug)));
      await expect(l.check('api_key:a')).rejects.toBe(bug);
    });
  });

  describe('sweeping', () => {
    it('deletes windows older than the previous one, at most once a minute, without delaying requests', async () => {
      const l = limiter(100);
      for (let minute = 0; minute < 5; minute++) {
        time.set(T0 + minute * W + 1_000);
        await l.check('k');
        await settle();
      }
      // Each sweep kept the current window and the two before it.
      expect(memory.tables.rateLimitBuckets.map((w) => w.windowStart.getTime() - T0)).toEqual([
        2 * W,
        3 * W,
        4 * W,
      ]);

      // Within the minute no sweep runs: an old row planted now survives until the next one.
      memory.tables.rateLimitBuckets.push({ bucket: 'old', windowStart: new Date(T0 - W), hits: 1 });
      time.set(T0 + 4 * W + 30_000);
      await l.check('k');
      await settle();
      expect(memory.tables.rateLimitBuckets.some((w) => w.bucket === 'old')).toBe(true);
      time.set(T0 + 5 * W + 1_000);
      await l.check('k');
      await settle();
      expect(memory.tables.rateLimitBuckets.some((w) => w.bucket === 'old')).toBe(false);
    });

    it('logs a failed sweep and still answers the request', async () => {
      const { logger, lines } = recordingLogger();
      const failure = new Error('deadlock detected');
      const store = withRateLimits(memory.store, {
        hit: (...args) => memory.store.repos.rateLimits.hit(...args),
        read: (...args) => memory.store.repos.rateLimits.read(...args),
        deleteWindowsBefore: () => Promise.reject(failure),
      });
      const l = limiter(5, logger, store);
      expect(await l.check('k')).toMatchObject({ allowed: true, remaining: 4 });
      await settle();
      expect(lines).toEqual([
        { level: 'warn', message: 'sweeping old rate-limit windows failed', fields: { error: failure } },
      ]);
    });

    it('returns how many windows a direct sweep deleted', async () => {
      const l = limiter(5);
      memory.tables.rateLimitBuckets.push(
        { bucket: 'a', windowStart: new Date(T0 - 3 * W), hits: 1 },
        { bucket: 'b', windowStart: new Date(T0 - 2 * W), hits: 1 },
        { bucket: 'c', windowStart: new Date(T0 - W), hits: 1 },
      );
      time.set(T0 + 5_000);
      // The window before the previous one stays too: another process's clock may lag a little.
      expect(await l.sweep()).toBe(1);
      expect(memory.tables.rateLimitBuckets.map((w) => w.bucket)).toEqual(['b', 'c']);
    });
  });

  describe('properties', () => {
    /** Runs `arrivals` (ms after T0, ascending) through a fresh limiter; returns the allowed ones. */
    async function simulate(limit: number, arrivals: readonly number[]) {
      memory = createMemoryStore();
      const l = limiter(limit);
      const allowed: number[] = [];
      const refusals: { at: number; decision: RateLimitRefused }[] = [];
      for (const at of arrivals) {
        time.set(T0 + at);
        const decision = await l.check('k');
        if (decision.allowed) {
          allowed.push(at);
        } else {
          refusals.push({ at, decision });
        }
      }
      return { allowed, refusals, limiter: l };
    }

    /** The most allowed requests inside any span of `span` ms. */
    function busiestSpan(allowed: readonly number[], span: number): number {
      let most = 0;
      for (let i = 0, j = 0; j < allowed.length; j++) {
        while ((allowed[j] ?? 0) - (allowed[i] ?? 0) >= span) {
          i++;
        }
        most = Math.max(most, j - i + 1);
      }
      return most;
    }

    const sorted = (times: number[]) => [...times].sort((a, b) => a - b);

    it('never allows more than the limit in a fixed minute, nor twice the limit in any 60 s', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20 }),
          fc.array(fc.integer({ min: 0, max: 5 * W }), { maxLength: 300 }).map(sorted),
          async (limit, arrivals) => {
            const { allowed } = await simulate(limit, arrivals);
            const perMinute = new Map<number, number>();
            for (const at of allowed) {
              const minute = Math.floor(at / W);
              perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
            }
            expect(Math.max(0, ...perMinute.values())).toBeLessThanOrEqual(limit);
            expect(busiestSpan(allowed, W)).toBeLessThan(2 * limit);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('allows at most the limit in any 60 s of steady traffic, at any rate, once it has run a whole window', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 0, max: W - 1 }),
          fc.integer({ min: 100, max: 20_000 }),
          async (limit, start, every) => {
            const arrivals = Array.from(
              { length: Math.floor((5 * W - start) / every) },
              (_, i) => start + i * every,
            );
            const { allowed } = await simulate(limit, arrivals);
            // The estimate assumes the previous window's hits were spread across it; traffic that began
            // part-way through a window breaks that until one whole window of it has been counted.
            expect(
              busiestSpan(
                allowed.filter((at) => at >= 2 * W),
                W,
              ),
            ).toBeLessThanOrEqual(limit);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('lets one request through after any refusal once Retry-After has passed', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20 }),
          fc.array(fc.integer({ min: 0, max: 3 * W }), { minLength: 1, maxLength: 200 }).map(sorted),
          async (limit, arrivals) => {
            const { refusals } = await simulate(limit, arrivals);
            const last = refusals.at(-1);
            fc.pre(last !== undefined);
            if (last === undefined) {
              return;
            }
            // Nothing arrives after the last refusal: waiting what it said must be enough, and a
            // second less must not (unless Retry-After was already the minimum of 1 s).
            const { retryAfterSeconds } = last.decision;
            const wait = retryAfterSeconds * 1000;
            const tail = arrivals.filter((at) => at <= last.at);
            if (retryAfterSeconds > 1) {
              const early = await simulate(limit, tail);
              time.set(T0 + last.at + wait - 1000);
              expect((await early.limiter.check('k')).allowed).toBe(false);
            }
            const patient = await simulate(limit, tail);
            time.set(T0 + last.at + wait);
            expect((await patient.limiter.check('k')).allowed).toBe(true);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
