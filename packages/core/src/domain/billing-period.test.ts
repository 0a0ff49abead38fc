import fc from 'fast-check';
import { addInterval } from './billing-period.js';
import { PLAN_INTERVALS } from './statuses.js';

const at = (iso: string) => new Date(iso);

describe('addInterval', () => {
  it.each([
    ['2024-01-15T10:30:00.000Z', 'month', '2024-02-15T10:30:00.000Z'],
    ['2024-01-31T00:00:00.000Z', 'month', '2024-02-29T00:00:00.000Z'],
    ['2023-01-31T23:59:59.999Z', 'month', '2023-02-28T23:59:59.999Z'],
    ['2024-03-31T12:00:00.000Z', 'month', '2024-04-30T12:00:00.000Z'],
    ['2024-12-31T08:00:00.000Z', 'month', '2025-01-31T08:00:00.000Z'],
    ['2024-02-29T09:00:00.000Z', 'year', '2025-02-28T09:00:00.000Z'],
    ['2023-06-30T09:00:00.000Z', 'year', '2024-06-30T09:00:00.000Z'],
  ] as const)('moves %s by one %s to %s, clamping to the month’s last day', (from, interval, to) => {
    expect(addInterval(at(from), interval).toISOString()).toBe(to);
  });

  it('counts from the anchor, so a period starting on the 31st does not drift', () => {
    const anchor = at('2024-01-31T00:00:00.000Z');
    expect(addInterval(anchor, 'month', 2).toISOString()).toBe('2024-03-31T00:00:00.000Z');
    expect(addInterval(addInterval(anchor, 'month'), 'month').toISOString()).toBe('2024-03-29T00:00:00.000Z');
    expect(addInterval(anchor, 'month', 0)).toEqual(anchor);
  });

  it('refuses a count that is not a whole number of intervals', () => {
    expect(() => addInterval(at('2024-01-01T00:00:00Z'), 'month', 1.5)).toThrow(RangeError);
    expect(() => addInterval(at('2024-01-01T00:00:00Z'), 'month', -1)).toThrow(RangeError);
  });

  const dates = fc.date({
    min: new Date('1970-01-01T00:00:00.000Z'),
    max: new Date('2200-01-01T00:00:00.000Z'),
    noInvalidDate: true,
  });
  const intervals = fc.constantFrom(...PLAN_INTERVALS);

  it('always moves forward, by 28–31 days a month or 365–366 days a year, keeping the time of day', () => {
    fc.assert(
      fc.property(dates, intervals, (date, interval) => {
        const next = addInterval(date, interval);
        const days = (next.getTime() - date.getTime()) / 86_400_000;
        const [min, max] = interval === 'month' ? [28, 31] : [365, 366];
        expect(days).toBeGreaterThanOrEqual(min);
        expect(days).toBeLessThanOrEqual(max);
        expect(next.getUTCHours() * 3_600_000 + next.getUTCMinutes() * 60_000).toBe(
          date.getUTCHours() * 3_600_000 + date.getUTCMinutes() * 60_000,
        );
        expect(next.getUTCSeconds()).toBe(date.getUTCSeconds());
        expect(next.getUTCMilliseconds()).toBe(date.getUTCMilliseconds());
      }),
    );
  });

  it('lands in the next month (or the same month next year), on the same day or the month’s last', () => {
    fc.assert(
      fc.property(dates, intervals, (date, interval) => {
        const next = addInterval(date, interval);
        const months =
          (next.getUTCFullYear() - date.getUTCFullYear()) * 12 + next.getUTCMonth() - date.getUTCMonth();
        expect(months).toBe(interval === 'month' ? 1 : 12);
        const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
        expect(next.getUTCDate()).toBe(Math.min(date.getUTCDate(), lastDay));
      }),
    );
  });

  it('makes n months from an anchor equal to n × 1 month when the anchor’s day exists in every month', () => {
    fc.assert(
      fc.property(dates, fc.integer({ min: 0, max: 48 }), (date, n) => {
        const anchor = new Date(
          Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), Math.min(date.getUTCDate(), 28)),
        );
        let stepped = anchor;
        for (let i = 0; i < n; i++) {
          stepped = addInterval(stepped, 'month');
        }
        expect(addInterval(anchor, 'month', n)).toEqual(stepped);
        expect(addInterval(anchor, 'year', 1)).toEqual(addInterval(anchor, 'month', 12));
      }),
    );
  });
});
