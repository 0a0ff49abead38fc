import type { PlanInterval } from './statuses.js';

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * `date` moved forward by `count` plan intervals, in UTC, keeping the time of day. A day the target
 * month lacks is clamped to its last day, as Stripe bills: Jan 31 + 1 month is Feb 28 (29 in a leap
 * year), and Feb 29 + 1 year is Feb 28. Counting from a fixed anchor (`count` \> 1) instead of chaining
 * single steps keeps a period from drifting: Jan 31 + 2 months is Mar 31, not Mar 28.
 */
export function addInterval(date: Date, interval: PlanInterval, count = 1): Date {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`addInterval takes a whole number of intervals, got ${count}.`);
  }
  const months = interval === 'month' ? count : count * 12;
  const total = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(total / 12);
  const monthIndex = total % 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, monthIndex));
  return new Date(
    Date.UTC(
      year,
      monthIndex,
      day,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  );
}
