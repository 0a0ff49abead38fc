import { eq } from 'drizzle-orm';
import { drizzleOf } from '../../src/internal.js';
import { rateLimitBuckets } from '../../src/tables.js';
import { unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

const MINUTE = 60_000;

export function rateLimitTests(ctx: SuiteContext): void {
  describe('rate-limit counters', () => {
    // A whole minute, far from now, so no other test's windows or sweeps meet these.
    const window = new Date(Date.UTC(2031, 4, 6, 7, 8));
    const previousWindow = new Date(window.getTime() - MINUTE);

    const rowsOf = (bucket: string) =>
      drizzleOf(ctx.db())
        .select()
        .from(rateLimitBuckets)
        .where(eq(rateLimitBuckets.bucket, bucket))
        .orderBy(rateLimitBuckets.windowStart);

    it("counts hits per window and reads the previous window's count in the same call", async () => {
      const bucket = unique('api_key');
      const { rateLimits } = ctx.repos();
      expect(
        await rateLimits.hit(bucket, previousWindow, new Date(previousWindow.getTime() - MINUTE)),
      ).toEqual({
        current: 1,
        previous: 0,
      });
      await rateLimits.hit(bucket, previousWindow, new Date(previousWindow.getTime() - MINUTE));
      expect(await rateLimits.hit(bucket, window, previousWindow)).toEqual({ current: 1, previous: 2 });
      expect(await rateLimits.hit(bucket, window, previousWindow)).toEqual({ current: 2, previous: 2 });
      expect(await rowsOf(bucket)).toEqual([
        { bucket, windowStart: previousWindow, hits: 2 },
        { bucket, windowStart: window, hits: 2 },
      ]);
    });

    it('keeps buckets apart', async () => {
      const a = unique('api_key');
      const b = unique('api_key');
      const { rateLimits } = ctx.repos();
      await rateLimits.hit(a, previousWindow, new Date(0));
      await rateLimits.hit(a, window, previousWindow);
      expect(await rateLimits.hit(b, window, previousWindow)).toEqual({ current: 1, previous: 0 });
      expect(await rowsOf(b)).toEqual([{ bucket: b, windowStart: window, hits: 1 }]);
    });

    it('loses no count under concurrent hits: each caller sees its own number', async () => {
      const bucket = unique('api_key');
      const { rateLimits } = ctx.repos();
      const results = await Promise.all(
        Array.from({ length: 40 }, () => rateLimits.hit(bucket, window, previousWindow)),
      );
      expect(results.map((r) => r.current).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      expect(await rowsOf(bucket)).toEqual([{ bucket, windowStart: window, hits: 40 }]);
    });

    it('works inside a transaction too', async () => {
      const bucket = unique('api_key');
      const counts = await ctx.db().store.transaction(async (tx) => {
        await tx.rateLimits.hit(bucket, window, previousWindow);
        return tx.rateLimits.hit(bucket, window, previousWindow);
      });
      expect(counts).toEqual({ current: 2, previous: 0 });
    });

    it('reads the two counts without counting a hit', async () => {
      const bucket = unique('declines');
      const { rateLimits } = ctx.repos();
      expect(await rateLimits.read(bucket, window, previousWindow)).toEqual({ current: 0, previous: 0 });
      await rateLimits.hit(bucket, previousWindow, new Date(0));
      await rateLimits.hit(bucket, window, previousWindow);
      await rateLimits.hit(bucket, window, previousWindow);
      expect(await rateLimits.read(bucket, window, previousWindow)).toEqual({ current: 2, previous: 1 });
      expect(await rateLimits.read(bucket, window, previousWindow)).toEqual({ current: 2, previous: 1 });
    });

    it('deletes only the windows of its prefix that started before the cutoff, and says how many', async () => {
      // A prefix of its own (with LIKE's wildcards, taken literally), so the count is exactly these rows.
      const prefix = `${unique('sweep')}_%:`;
      const bucket = `${prefix}k`;
      const other = `${unique('other')}:k`;
      const { rateLimits } = ctx.repos();
      const base = Date.UTC(2001, 0, 1);
      for (const minute of [0, 1, 2, 3]) {
        await rateLimits.hit(bucket, new Date(base + minute * MINUTE), new Date(0));
      }
      await rateLimits.hit(other, new Date(base), new Date(0));
      await rateLimits.hit(`${prefix.slice(0, -3)}xx:k`, new Date(base), new Date(0));
      expect(await rateLimits.deleteWindowsBefore(new Date(base + 2 * MINUTE), prefix)).toBe(2);
      expect((await rowsOf(bucket)).map((r) => r.windowStart.getTime() - base)).toEqual([
        2 * MINUTE,
        3 * MINUTE,
      ]);
      expect(await rowsOf(other)).toHaveLength(1);
      expect(await rateLimits.deleteWindowsBefore(new Date(base + 2 * MINUTE), prefix)).toBe(0);
    });
  });
}
