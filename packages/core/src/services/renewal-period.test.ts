import fc from 'fast-check';
import { addInterval } from '../domain/billing-period.js';
import type { SubscriptionId } from '../ids.js';
import { nextPeriodEnd, nextRetryAt, renewalStripeKey } from './renewal-period.js';
import { DEFAULT_DUNNING_SCHEDULE } from './subscription-results.js';

const at = (iso: string) => new Date(iso);

/** The period ends a subscription starting at `start` goes through, renewing `n` times. */
function periodEnds(start: Date, interval: 'month' | 'year', n: number): string[] {
  let from = start;
  let to = addInterval(start, interval);
  const ends = [to.toISOString()];
  for (let i = 0; i < n; i += 1) {
    const next = nextPeriodEnd(from, to, interval);
    from = to;
    to = next;
    ends.push(to.toISOString());
  }
  return ends;
}

describe('billing periods of renewals', () => {
  it('keeps the 31st: Jan 31 → Feb 28 → Mar 31 → Apr 30 …, never drifting to the 28th', () => {
    expect(periodEnds(at('2026-01-31T12:00:00.000Z'), 'month', 12).map((d) => d.slice(0, 10))).toEqual([
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
      '2026-06-30',
      '2026-07-31',
      '2026-08-31',
      '2026-09-30',
      '2026-10-31',
      '2026-11-30',
      '2026-12-31',
      '2027-01-31',
      '2027-02-28',
    ]);
  });

  it('uses Feb 29 in a leap year and keeps the time of day', () => {
    expect(periodEnds(at('2028-01-31T23:59:59.999Z'), 'month', 2)).toEqual([
      '2028-02-29T23:59:59.999Z',
      '2028-03-31T23:59:59.999Z',
      '2028-04-30T23:59:59.999Z',
    ]);
  });

  it('keeps the 30th and the 29th as well', () => {
    expect(periodEnds(at('2026-01-30T00:00:00.000Z'), 'month', 2).map((d) => d.slice(0, 10))).toEqual([
      '2026-02-28',
      '2026-03-30',
      '2026-04-30',
    ]);
    expect(periodEnds(at('2026-01-29T00:00:00.000Z'), 'month', 1).map((d) => d.slice(0, 10))).toEqual([
      '2026-02-28',
      '2026-03-29',
    ]);
  });

  it('renews a yearly plan on the same day each year', () => {
    expect(periodEnds(at('2026-03-15T08:00:00.000Z'), 'year', 2)).toEqual([
      '2027-03-15T08:00:00.000Z',
      '2028-03-15T08:00:00.000Z',
      '2029-03-15T08:00:00.000Z',
    ]);
  });

  it('matches counting whole months from the first start, for any monthly start (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2090-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 40 }),
        (start, renewals) => {
          const ends = periodEnds(start, 'month', renewals);
          ends.forEach((end, i) => {
            expect(end).toBe(addInterval(start, 'month', i + 1).toISOString());
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the renewal key and the dunning schedule', () => {
  it('derives the Stripe key from the subscription, the period and the try, and nothing else', () => {
    const id = 'subs_01TEST' as SubscriptionId;
    const periodStart = at('2026-02-28T12:00:00.000Z');
    const periodEnd = at('2026-03-31T12:00:00.000Z');
    expect(renewalStripeKey(id, { periodStart, periodEnd, attempt: 0 })).toBe(
      'pay:subs_01TEST:2026-02-28T12:00:00.000Z:0',
    );
    expect(renewalStripeKey(id, { periodStart: new Date(periodStart), periodEnd, attempt: 2 })).toBe(
      'pay:subs_01TEST:2026-02-28T12:00:00.000Z:2',
    );
  });

  it('retries 1, 3, 7 and 14 days after the period began, then gives up', () => {
    const start = at('2026-02-28T12:00:00.000Z');
    const retries = [0, 1, 2, 3, 4].map((n) =>
      nextRetryAt(DEFAULT_DUNNING_SCHEDULE, start, n)?.toISOString(),
    );
    expect(retries).toEqual([
      '2026-03-01T12:00:00.000Z',
      '2026-03-03T12:00:00.000Z',
      '2026-03-07T12:00:00.000Z',
      '2026-03-14T12:00:00.000Z',
      undefined,
    ]);
  });
});
