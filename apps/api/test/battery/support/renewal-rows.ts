import { int, intOrNull, text, textOrNull, time, timeOrNull, withSql } from './pay-sql.js';

/*
 * Subscriptions and their payments as the renewal battery checks them, read with plain SQL: the
 * period each renewal paid for, which try it was, and the Stripe customer it charged.
 */

export interface SubscriptionRow {
  readonly id: string;
  readonly status: string;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly nextBillingAt: Date | null;
  readonly dunningAttempts: number;
  readonly cancelAtPeriodEnd: boolean;
  readonly endedAt: Date | null;
  readonly stripeCustomerId: string | null;
}

export interface SubscriptionPaymentRow {
  readonly id: string;
  readonly subscriptionId: string;
  readonly billingReason: string;
  readonly status: string;
  readonly amount: number;
  readonly billingPeriodStart: Date | null;
  readonly billingPeriodEnd: Date | null;
  readonly renewalAttempt: number | null;
  readonly failureCode: string | null;
  readonly declineCode: string | null;
  readonly nextActionUrl: string | null;
  readonly stripePaymentIntentId: string | null;
  readonly createdAt: Date;
}

/** Every subscription with its customer's Stripe id, by id. */
export function readSubscriptions(databaseUrl: string): Promise<SubscriptionRow[]> {
  return withSql(databaseUrl, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT s.id, s.status, s.current_period_start, s.current_period_end, s.next_billing_at,
              s.dunning_attempts, s.cancel_at_period_end, s.ended_at, c.stripe_customer_id
       FROM pay.subscriptions s JOIN pay.customers c ON c.account_id = s.account_id AND c.id = s.customer_id
       ORDER BY s.id`,
    );
    return rows.map((r) => ({
      id: text(r.id, 'id'),
      status: text(r.status, 'status'),
      currentPeriodStart: time(r.current_period_start, 'current_period_start'),
      currentPeriodEnd: time(r.current_period_end, 'current_period_end'),
      nextBillingAt: timeOrNull(r.next_billing_at, 'next_billing_at'),
      dunningAttempts: int(r.dunning_attempts, 'dunning_attempts'),
      cancelAtPeriodEnd: r.cancel_at_period_end === true,
      endedAt: timeOrNull(r.ended_at, 'ended_at'),
      stripeCustomerId: textOrNull(r.stripe_customer_id, 'stripe_customer_id'),
    }));
  });
}

/** Every payment of a subscription (first payments, renewals, dunning tries), oldest period and try first. */
export function readSubscriptionPayments(databaseUrl: string): Promise<SubscriptionPaymentRow[]> {
  return withSql(databaseUrl, async (sql) => {
    const rows = await sql.unsafe(
      `SELECT id, subscription_id, billing_reason, status, amount, billing_period_start, billing_period_end,
              renewal_attempt, failure_code, decline_code, next_action_url, stripe_payment_intent_id, created_at
       FROM pay.payments WHERE subscription_id IS NOT NULL
       ORDER BY subscription_id, billing_period_start NULLS FIRST, renewal_attempt NULLS FIRST, id`,
    );
    return rows.map((r) => ({
      id: text(r.id, 'id'),
      subscriptionId: text(r.subscription_id, 'subscription_id'),
      billingReason: text(r.billing_reason, 'billing_reason'),
      status: text(r.status, 'status'),
      amount: int(r.amount, 'amount'),
      billingPeriodStart: timeOrNull(r.billing_period_start, 'billing_period_start'),
      billingPeriodEnd: timeOrNull(r.billing_period_end, 'billing_period_end'),
      renewalAttempt: intOrNull(r.renewal_attempt, 'renewal_attempt'),
      failureCode: textOrNull(r.failure_code, 'failure_code'),
      declineCode: textOrNull(r.decline_code, 'decline_code'),
      nextActionUrl: textOrNull(r.next_action_url, 'next_action_url'),
      stripePaymentIntentId: textOrNull(r.stripe_payment_intent_id, 'stripe_payment_intent_id'),
      createdAt: time(r.created_at, 'created_at'),
    }));
  });
}

/** The rows of one subscription. */
export function paymentsOf(
  rows: readonly SubscriptionPaymentRow[],
  subscriptionId: string,
): SubscriptionPaymentRow[] {
  return rows.filter((p) => p.subscriptionId === subscriptionId);
}

/** Its renewals (`subscription_cycle`): one per try of each period. */
export function renewalsOf(
  rows: readonly SubscriptionPaymentRow[],
  subscriptionId: string,
): SubscriptionPaymentRow[] {
  return paymentsOf(rows, subscriptionId).filter((p) => p.billingReason === 'subscription_cycle');
}

/**
 * The end of the `k`-th monthly period of a subscription begun at `anchor`, computed here from the
 * calendar and nothing of pay's: the anchor's day of the month, clamped to the month's last day (Jan 31
 * → Feb 28 or 29 → Mar 31), at the anchor's time of day.
 */
export function monthlyPeriodEnd(anchor: Date, k: number): Date {
  const month = anchor.getUTCMonth() + k;
  const year = anchor.getUTCFullYear() + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      m,
      Math.min(anchor.getUTCDate(), lastDay),
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}
