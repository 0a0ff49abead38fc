import { addInterval } from '../domain/billing-period.js';
import type { Subscription } from '../domain/entities.js';
import type { PlanInterval } from '../domain/statuses.js';
import type { SubscriptionId } from '../ids.js';
import type { DunningSchedule } from './subscription-results.js';

/** One try at paying one period of a subscription: what a renewal payment is for. */
export interface RenewalTry {
  /** The period's start: the end of the period the subscription last paid. */
  readonly periodStart: Date;
  readonly periodEnd: Date;
  /** 0 for the first try, n for the n-th dunning retry. */
  readonly attempt: number;
}

/**
 * The end of the period that follows `[start, end)`. Periods keep the day of the month the subscription
 * began on, as Stripe's billing anchor does: Jan 31 → Feb 28 (29) → Mar 31, never drifting to the 28th.
 * The anchor day is not stored, but it can be read off the current period: each end is the anchor day
 * clamped to its month, and of two consecutive months one always has 31 days, so the larger of the two
 * days is the anchor day (exact for monthly plans; a yearly plan begun on Feb 29 renews on Feb 28).
 */
export function nextPeriodEnd(start: Date, end: Date, interval: PlanInterval): Date {
  const anchorDay = Math.max(start.getUTCDate(), end.getUTCDate());
  const next = addInterval(end, interval);
  const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  const anchored = new Date(next.getTime());
  anchored.setUTCDate(Math.min(anchorDay, lastDay));
  return anchored;
}

/** The try a due subscription makes now: the period after its current one, try `dunningAttempts`. */
export function renewalTryOf(subscription: Subscription, interval: PlanInterval): RenewalTry {
  return {
    periodStart: subscription.currentPeriodEnd,
    periodEnd: nextPeriodEnd(subscription.currentPeriodStart, subscription.currentPeriodEnd, interval),
    attempt: subscription.dunningAttempts,
  };
}

/**
 * pay's Stripe idempotency key for one try of one period, derived from the try and nothing else: two
 * schedulers, a crashed one and its successor, and the card-change retry all send Stripe the same key.
 */
export function renewalStripeKey(subscriptionId: SubscriptionId, renewal: RenewalTry): string {
  return `pay:${subscriptionId}:${renewal.periodStart.toISOString()}:${renewal.attempt}`;
}

/**
 * When the retry after a failed try `attempt` is due, or null when the schedule is exhausted. Counted
 * from the period's start, when the first try was due, rather than from the moment that try failed: the
 * start is a calendar value every process and every clock agrees on (a database stamps rows with its
 * own time, a test moves a fake one), and the scheduler makes the first try within one pass of it.
 */
export function nextRetryAt(schedule: DunningSchedule, periodStart: Date, attempt: number): Date | null {
  const offset = schedule[attempt];
  return offset === undefined ? null : new Date(periodStart.getTime() + offset);
}

/**
 * Whether the subscription has a period to pay now. `scheduled`: its next billing time has come (the
 * scheduler). `now`: a `past_due` one is retried at once (after its card changed), an `active` one only
 * when due.
 */
export function isRenewalDue(subscription: Subscription, now: Date, when: 'scheduled' | 'now'): boolean {
  if (subscription.status !== 'active' && subscription.status !== 'past_due') {
    return false;
  }
  if (subscription.nextBillingAt === null) {
    return false;
  }
  if (when === 'now' && subscription.status === 'past_due') {
    return true;
  }
  return subscription.nextBillingAt.getTime() <= now.getTime();
}
