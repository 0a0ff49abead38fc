import type { Currency, Payment, Refund, SubscriptionView } from '@pay/core';

/*
 * The outside shape (snake_case, ISO-8601 UTC times, minor units) of the objects both apps show: the
 * API's response bodies and the CLI's `--json`. One function per object, a function of the object only
 * with a fixed key order, so a replayed answer is the same byte for byte and the API and the CLI never
 * drift apart.
 */

/** A payment of a subscription, as its view lists it. */
export interface SubscriptionPaymentJson {
  id: string;
  status: Payment['status'];
  amount: number;
  currency: Currency;
  billing_reason: Payment['billingReason'];
  created: string;
  failure_code: string | null;
}

export interface SubscriptionJson {
  id: string;
  object: 'subscription';
  user_id: string;
  status: SubscriptionView['subscription']['status'];
  plan: {
    id: string;
    name: string;
    amount: number;
    currency: Currency;
    interval: SubscriptionView['plan']['interval'];
  };
  current_period_start: string;
  current_period_end: string;
  next_billing_at: string | null;
  cancel_at_period_end: boolean;
  canceled_at: string | null;
  ended_at: string | null;
  payment_method: { brand: string; last4: string } | null;
  recent_payments: SubscriptionPaymentJson[];
  created: string;
}

export interface RefundJson {
  id: string;
  object: 'refund';
  payment_id: string;
  amount: number;
  currency: Currency;
  status: Refund['status'];
  reason: string | null;
  failure_reason: string | null;
  created: string;
  requested_by: string | null;
  approved_by: string | null;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function subscriptionPaymentJson(p: Payment): SubscriptionPaymentJson {
  return {
    id: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    billing_reason: p.billingReason,
    created: p.createdAt.toISOString(),
    failure_code: p.failureCode,
  };
}

export function subscriptionJson(view: SubscriptionView): SubscriptionJson {
  const { subscription: s, plan, card } = view;
  return {
    id: s.id,
    object: 'subscription',
    user_id: view.userId,
    status: s.status,
    plan: {
      id: plan.id,
      name: plan.name,
      amount: plan.amount,
      currency: plan.currency,
      interval: plan.interval,
    },
    current_period_start: s.currentPeriodStart.toISOString(),
    current_period_end: s.currentPeriodEnd.toISOString(),
    next_billing_at: iso(s.nextBillingAt),
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: iso(s.canceledAt),
    ended_at: iso(s.endedAt),
    payment_method: card === null ? null : { brand: card.brand, last4: card.last4 },
    recent_payments: view.recentPayments.map(subscriptionPaymentJson),
    created: s.createdAt.toISOString(),
  };
}

export function refundJson(refund: Refund): RefundJson {
  return {
    id: refund.id,
    object: 'refund',
    payment_id: refund.paymentId,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason,
    failure_reason: refund.failureReason,
    created: refund.createdAt.toISOString(),
    requested_by: refund.requestedBy,
    approved_by: refund.approvedBy,
  };
}
