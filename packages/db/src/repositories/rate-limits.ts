import { and, eq, like, lt, sql } from 'drizzle-orm';
import type { RateLimitRepository } from '@pay/core';
import type { Executor } from '../store.js';
import { rateLimitBuckets } from '../tables.js';
import { single } from './shared.js';

export function createRateLimitRepository(x: Executor): RateLimitRepository {
  return {
    async hit(bucket, windowStart, previousWindowStart) {
      // Spelled out in SQL: drizzle drops table qualifiers inside RETURNING, which would make the
      // subquery's columns mean the row being upserted.
      const previousHits = sql<number>`coalesce((
        select previous_window.hits from ${rateLimitBuckets} as previous_window
        where previous_window.bucket = ${bucket}
          and previous_window.window_start = ${previousWindowStart.toISOString()}::timestamptz
      ), 0)`.mapWith(Number);
      // One statement per request: the upsert counts the hit atomically (concurrent processes queue on
      // the row and each adds its own 1), and RETURNING reads the previous window with a subquery. That
      // subquery sees the statement's snapshot, which is all it needs: the previous window is another
      // row, and a hit racing into it now belongs to a request that counts against the current window.
      const rows = await x
        .db()
        .insert(rateLimitBuckets)
        .values({ bucket, windowStart, hits: 1 })
        .onConflictDoUpdate({
          target: [rateLimitBuckets.bucket, rateLimitBuckets.windowStart],
          set: { hits: sql`${rateLimitBuckets}.${sql.identifier('hits')} + 1` },
        })
        .returning({ current: rateLimitBuckets.hits, previous: previousHits });
      return single(rows, 'the rate-limit upsert');
    },

    async read(bucket, windowStart, previousWindowStart) {
      const rows = await x
        .db()
        .select({ windowStart: rateLimitBuckets.windowStart, hits: rateLimitBuckets.hits })
        .from(rateLimitBuckets)
        .where(
          and(
            eq(rateLimitBuckets.bucket, bucket),
            sql`${rateLimitBuckets.windowStart} in (${windowStart.toISOString()}::timestamptz, ${previousWindowStart.toISOString()}::timestamptz)`,
          ),
        );
      const hits = (start: Date) =>
        rows.find((row) => row.windowStart.getTime() === start.getTime())?.hits ?? 0;
      return { current: hits(windowStart), previous: hits(previousWindowStart) };
    },

    async deleteWindowsBefore(cutoff, bucketPrefix) {
      // A bucket name never holds LIKE's wildcards unescaped: pay's prefixes are plain words and a colon.
      const rows = await x
        .db()
        .delete(rateLimitBuckets)
        .where(
          and(
            lt(rateLimitBuckets.windowStart, cutoff),
            like(rateLimitBuckets.bucket, `${escapeLike(bucketPrefix)}%`),
          ),
        )
        .returning({ bucket: rateLimitBuckets.bucket });
      return rows.length;
    },
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
