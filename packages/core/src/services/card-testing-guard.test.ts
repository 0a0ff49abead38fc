import { createMemoryStore, type MemoryStore } from '../../test/memory/memory-store.js';
import { RateLimitedError } from '../errors.js';
import type { AccountId } from '../ids.js';
import { silentLogger } from '../ports/logger.js';
import { CardTestingGuard, DECLINE_BUCKET_PREFIX, type DeclineSubject } from './card-testing-guard.js';
import { API_KEY_BUCKET_PREFIX, RateLimiter } from './rate-limiter.js';

const HOUR = 60 * 60_000;
// A whole hour, so the first window starts with the test.
const T0 = Date.UTC(2026, 0, 1);

const acme = 'acc_acme' as AccountId;
const globex = 'acc_globex' as AccountId;

describe('CardTestingGuard (RELIABILITY.md E7: card testing)', () => {
  let memory: MemoryStore;
  let now: number;
  const clock = { now: () => new Date(now) };

  beforeEach(() => {
    memory = createMemoryStore();
    now = T0;
  });

  const guard = (limit = 3) =>
    new CardTestingGuard({ store: memory.store, clock, logger: silentLogger, limit, windowMs: HOUR });

  async function decline(g: CardTestingGuard, subject: DeclineSubject, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      await g.check(subject);
      await g.recordDecline(subject);
    }
  }

  it('refuses an end user’s next payment once `limit` were declined in the window, saying when to retry', async () => {
    const g = guard(3);
    const mallory = { accountId: acme, userId: 'mallory' };
    await decline(g, mallory, 3);
    const refused = await g.check(mallory).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ code: 'rate_limited', context: { limit: 3 } });
    const retryAfter = (refused as RateLimitedError).context?.retryAfterSeconds;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual((2 * HOUR) / 1000);
    expect((refused as Error).message).toMatch(
      /Too many declined payments for this user: 3 are allowed in 60 minutes/,
    );
  });

  it('only checks: any number of checks without declines is never refused', async () => {
    const g = guard(1);
    for (let i = 0; i < 20; i++) {
      await g.check({ accountId: acme, userId: 'honest' });
    }
  });

  it('counts each end user of each account on its own', async () => {
    const g = guard(2);
    await decline(g, { accountId: acme, userId: 'mallory' }, 2);
    await expect(g.check({ accountId: acme, userId: 'mallory' })).rejects.toThrow(RateLimitedError);
    await expect(g.check({ accountId: acme, userId: 'alice' })).resolves.toBeUndefined();
    await expect(g.check({ accountId: globex, userId: 'mallory' })).resolves.toBeUndefined();
    // Ids are kept apart whatever they hold: "a:b" of one account is not "b" of account "…:a".
    await decline(g, { accountId: 'acc_x:a' as AccountId, userId: 'b' }, 2);
    await expect(g.check({ accountId: 'acc_x' as AccountId, userId: 'a:b' })).resolves.toBeUndefined();
  });

  it('lets the end user pay again once the declines have left the window', async () => {
    const g = guard(2);
    const mallory = { accountId: acme, userId: 'mallory' };
    await decline(g, mallory, 2);
    await expect(g.check(mallory)).rejects.toThrow(RateLimitedError);
    now = T0 + 2 * HOUR;
    await expect(g.check(mallory)).resolves.toBeUndefined();
  });

  it('is off with a limit of 0: nothing is counted, nothing refused', async () => {
    const g = guard(0);
    await decline(g, { accountId: acme, userId: 'mallory' }, 50);
    expect(memory.tables.rateLimitBuckets).toEqual([]);
  });

  it("survives the API-key limiter's sweep, which deletes only its own minute windows", async () => {
    const g = guard(2);
    const mallory = { accountId: acme, userId: 'mallory' };
    await decline(g, mallory, 2);
    now = T0 + 30 * 60_000;
    const perKey = new RateLimiter({
      store: memory.store,
      clock,
      logger: silentLogger,
      limit: 10,
      bucketPrefix: API_KEY_BUCKET_PREFIX,
    });
    await perKey.check(`${API_KEY_BUCKET_PREFIX}key_1`);
    await perKey.sweep();
    expect(memory.tables.rateLimitBuckets.some((w) => w.bucket.startsWith(DECLINE_BUCKET_PREFIX))).toBe(true);
    await expect(g.check(mallory)).rejects.toThrow(RateLimitedError);
  });
});
