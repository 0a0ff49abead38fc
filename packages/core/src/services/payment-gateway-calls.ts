import type { Customer, Payment } from '../domain/entities.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
import type { FaultPoints } from '../ports/faults.js';

/** The gateway calls the payment flow makes, as metrics label them. */
export type GatewayCallName =
  | 'create_customer'
  | 'attach_payment_method'
  | 'create_intent'
  | 'confirm_intent'
  | 'retrieve_intent'
  | 'find_intent'
  | 'cancel_intent';

/**
 * The payment flow's named crash points (RELIABILITY.md C1), in the order a payment reaches them. Each
 * leaves a distinct state behind for recovery to finish:
 * - `payment.after_key_insert`: the first transaction committed the key, the `pending` payment and the
 *   `incomplete` subscription; nothing was sent to Stripe.
 * - `payment.before_create_customer` / `payment.after_create_customer_before_commit`: around the Stripe
 *   customer's creation; after it, Stripe holds a customer pay has not recorded.
 * - `payment.before_attach_payment_method` / `payment.after_attach_payment_method_before_commit`: around
 *   attaching the card; after it, the card is attached but not recorded.
 * - `payment.before_create_intent` / `payment.after_create_intent_before_commit`: around creating the
 *   PaymentIntent; after it, Stripe holds an intent whose id pay has not recorded.
 * - `payment.before_confirm` / `payment.after_confirm_before_commit`: around the confirmation, the call
 *   that moves money; after it, Stripe may have charged and pay has not recorded the outcome.
 * - `payment.before_retrieve_intent` / `payment.after_retrieve_intent_before_commit`: around reading
 *   the intent back (the 3-D Secure return, recovery).
 * - `payment.after_commit_before_response`: the outcome and the response are stored; the client has not
 *   been answered.
 * The `…_before_commit` points are reached inside the recording transaction, after its writes.
 */
export const PAYMENT_CRASH_POINTS = Object.freeze([
  'payment.after_key_insert',
  'payment.before_create_customer',
  'payment.after_create_customer_before_commit',
  'payment.before_attach_payment_method',
  'payment.after_attach_payment_method_before_commit',
  'payment.before_create_intent',
  'payment.after_create_intent_before_commit',
  'payment.before_confirm',
  'payment.after_confirm_before_commit',
  'payment.before_retrieve_intent',
  'payment.after_retrieve_intent_before_commit',
  'payment.after_commit_before_response',
] as const);

/** One of {@link PAYMENT_CRASH_POINTS}. */
export type PaymentCrashPoint = (typeof PAYMENT_CRASH_POINTS)[number];

/** Reaches a crash point (a typo in a point's name fails to compile). */
export function reach(faults: FaultPoints, point: PaymentCrashPoint): void {
  faults.reach(point);
}

/**
 * pay's Stripe idempotency key for one payment: derived from its id, never random, so a re-run of any
 * step sends Stripe the same key and gets its first answer instead of a second charge.
 */
export function stripeIdempotencyKeyFor(paymentId: Payment['id']): string {
  return `pay:${paymentId}`;
}

/** The key of one gateway call of a payment: `${payment.stripeIdempotencyKey}:${call}`. */
export function stripeCallKey(payment: Pick<Payment, 'stripeIdempotencyKey'>, call: GatewayCallName): string {
  return `${payment.stripeIdempotencyKey}:${call}`;
}

/** The key that creates the Stripe customer of one of pay's customers, whichever payment asks first. */
export function stripeCustomerKey(customer: Pick<Customer, 'id'>): string {
  return `pay:${customer.id}:create_customer`;
}

/** Times a gateway call for `observe` (metrics), answered or not. */
export async function observed<T, N extends string = GatewayCallName>(
  call: N,
  observe: ((call: N, seconds: number, outcome: 'ok' | 'error') => void) | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const started = globalThis.performance.now();
  try {
    const value = await run();
    observe?.(call, (globalThis.performance.now() - started) / 1000, 'ok');
    return value;
  } catch (error) {
    observe?.(call, (globalThis.performance.now() - started) / 1000, 'error');
    throw error;
  }
}

/**
 * Before this much of Stripe's 24 h key window is left, a step whose first attempt may have reached
 * Stripe asks Stripe what happened (a lookup, a retrieve) instead of re-sending it: after the window a
 * re-sent create would make a second intent. Measured from the payment's creation, which precedes
 * every Stripe call of the payment, less a margin for clock skew between pay and Stripe.
 */
export const STRIPE_WINDOW_MARGIN_MS = 10 * 60 * 1000;

/** True once re-sending a payment's Stripe calls with their keys may no longer be answered from Stripe's cache. */
export function pastStripeKeyWindow(payment: Pick<Payment, 'createdAt'>, now: Date): boolean {
  return now.getTime() - payment.createdAt.getTime() >= IDEMPOTENCY_KEY_TTL_MS - STRIPE_WINDOW_MARGIN_MS;
}
