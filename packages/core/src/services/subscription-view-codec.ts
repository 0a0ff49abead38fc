import type { Payment } from '../domain/entities.js';
import { GatewayRejectedError, InternalError } from '../errors.js';
import type { SubscriptionView } from './subscription-results.js';

/*
 * A subscription request's answer as stored on its idempotency key (a JSON column) and read back for a
 * replay: the view it answered with (dates as ISO-8601 strings), or the final refusal of a card change
 * (Stripe declined or refused the card), so a retry with the same key gets the same answer either way.
 */

const VERSION = 1;

/** A card change Stripe refused for good: replayed as the same {@link GatewayRejectedError}. */
export interface StoredRefusal {
  readonly message: string;
  readonly param: string;
  readonly gatewayCode: string | null;
  readonly declineCode: string | null;
}

/** The JSON-safe form of a subscription request's answer. */
export type StoredSubscriptionAnswer =
  | { readonly version: typeof VERSION; readonly kind: 'view'; readonly view: unknown }
  | { readonly version: typeof VERSION; readonly kind: 'refused'; readonly refusal: StoredRefusal };

/** The stored form of `view`. */
export function encodeSubscriptionView(view: SubscriptionView): StoredSubscriptionAnswer {
  return { version: VERSION, kind: 'view', view: JSON.parse(JSON.stringify(view)) as unknown };
}

/** The stored form of a final refusal. */
export function encodeSubscriptionRefusal(refusal: StoredRefusal): StoredSubscriptionAnswer {
  return { version: VERSION, kind: 'refused', refusal };
}

/** The error a stored refusal stands for. */
export function refusalError(refusal: StoredRefusal): GatewayRejectedError {
  return new GatewayRejectedError(refusal.message, {
    param: refusal.param,
    gatewayCode: refusal.gatewayCode,
    context: refusal.declineCode === null ? {} : { declineCode: refusal.declineCode },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(why: string): InternalError {
  return new InternalError(`A stored subscription answer cannot be read back: ${why}.`);
}

function date(value: unknown, field: string): Date {
  const parsed = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) {
    throw corrupt(`${field} is not a date`);
  }
  return parsed;
}

function nullableDate(value: unknown, field: string): Date | null {
  return value === null ? null : date(value, field);
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) {
    throw corrupt(`${field} is missing`);
  }
  return value;
}

function revivePayment(value: unknown): Payment {
  const payment = record(value, 'a recent payment');
  return {
    ...payment,
    billingPeriodStart: nullableDate(payment.billingPeriodStart ?? null, 'payment.billingPeriodStart'),
    billingPeriodEnd: nullableDate(payment.billingPeriodEnd ?? null, 'payment.billingPeriodEnd'),
    createdAt: date(payment.createdAt, 'payment.createdAt'),
    updatedAt: date(payment.updatedAt, 'payment.updatedAt'),
  } as unknown as Payment;
}

/** Rebuilds the view {@link encodeSubscriptionView} stored. */
export function decodeSubscriptionView(stored: unknown): SubscriptionView {
  const view = record(stored, 'view');
  const subscription = record(view.subscription, 'view.subscription');
  const plan = record(view.plan, 'view.plan');
  if (
    typeof subscription.id !== 'string' ||
    typeof view.userId !== 'string' ||
    !Array.isArray(view.recentPayments)
  ) {
    throw corrupt('missing ids or payments');
  }
  // Validated as far as a replay depends on it; the rest is pay's own JSON, written by encode.
  return {
    ...view,
    subscription: {
      ...subscription,
      currentPeriodStart: date(subscription.currentPeriodStart, 'subscription.currentPeriodStart'),
      currentPeriodEnd: date(subscription.currentPeriodEnd, 'subscription.currentPeriodEnd'),
      nextBillingAt: nullableDate(subscription.nextBillingAt, 'subscription.nextBillingAt'),
      canceledAt: nullableDate(subscription.canceledAt, 'subscription.canceledAt'),
      endedAt: nullableDate(subscription.endedAt, 'subscription.endedAt'),
      createdAt: date(subscription.createdAt, 'subscription.createdAt'),
      updatedAt: date(subscription.updatedAt, 'subscription.updatedAt'),
    },
    plan: { ...plan, createdAt: date(plan.createdAt, 'plan.createdAt') },
    recentPayments: view.recentPayments.map(revivePayment),
  } as unknown as SubscriptionView;
}

/**
 * Reads a stored answer back: the view, or throws the refusal it records (a replay answers like the
 * first request did). Anything else is an InternalError.
 */
export function decodeSubscriptionAnswer(body: unknown): SubscriptionView {
  if (!isRecord(body) || body.version !== VERSION) {
    throw corrupt('unknown envelope');
  }
  if (body.kind === 'view') {
    return decodeSubscriptionView(body.view);
  }
  if (body.kind === 'refused') {
    const refusal = record(body.refusal, 'refusal');
    if (typeof refusal.message !== 'string' || typeof refusal.param !== 'string') {
      throw corrupt('refusal without a message');
    }
    throw refusalError({
      message: refusal.message,
      param: refusal.param,
      gatewayCode: typeof refusal.gatewayCode === 'string' ? refusal.gatewayCode : null,
      declineCode: typeof refusal.declineCode === 'string' ? refusal.declineCode : null,
    });
  }
  throw corrupt('unknown kind');
}
