import fc from 'fast-check';
import { webhookRetryDelayMs } from './webhook-retry.js';

/* RELIABILITY.md B6: the backoff between a failed event's attempts. */

describe('webhookRetryDelayMs', () => {
  it('stays within 50–100 % of min(base·2^(n−1), cap), never below base, never above cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseMs, extraCap, attempt, r) => {
          const capMs = baseMs + extraCap;
          const delay = webhookRetryDelayMs(attempt, { baseMs, capMs }, () => r);
          const exponential = Math.min(baseMs * 2 ** (attempt - 1), capMs);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.max(baseMs, Math.floor(exponential * 0.5)));
          expect(delay).toBeLessThanOrEqual(Math.max(baseMs, exponential));
          expect(delay).toBeLessThanOrEqual(capMs);
        },
      ),
    );
  });

  it('doubles the ceiling each attempt until the cap', () => {
    const backoff = { baseMs: 1_000, capMs: 3_600_000 };
    const ceilings = [1, 2, 3, 4, 12, 13, 50].map((n) => webhookRetryDelayMs(n, backoff, () => 0.999_999_9));
    expect(ceilings).toEqual([1_000, 2_000, 4_000, 8_000, 2_048_000, 3_600_000, 3_600_000]);
    expect(webhookRetryDelayMs(4, backoff, () => 0)).toBe(4_000);
  });
});
