import type { Refund } from '../domain/entities.js';
import type { RefundId } from '../ids.js';
import type { FaultPoints } from '../ports/faults.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
import { STRIPE_WINDOW_MARGIN_MS } from './payment-gateway-calls.js';

/** The gateway calls the refund flow makes, as metrics label them. */
export type RefundGatewayCallName = 'create_refund' | 'retrieve_refund' | 'find_refund';

/**
 * The refund flow's named crash points (RELIABILITY.md C1), in the order a refund reaches them:
 * - `refund.after_key_insert`: the key, the refund (`pending` or `requires_approval`) and its audit row
 *   are committed; nothing was sent to Stripe.
 * - `refund.before_gateway_call`: about to ask Stripe for the refund.
 * - `refund.after_gateway_before_commit`: Stripe answered and the answer is written, inside the
 *   recording transaction (a crash rolls it back: Stripe has refunded and pay has not recorded it).
 * - `refund.after_commit_before_response`: the outcome and the response are stored; the client has not
 *   been answered.
 */
export const REFUND_CRASH_POINTS = Object.freeze([
  'refund.after_key_insert',
  'refund.before_gateway_call',
  'refund.after_gateway_before_commit',
  'refund.after_commit_before_response',
] as const);

/** One of {@link REFUND_CRASH_POINTS}. */
export type RefundCrashPoint = (typeof REFUND_CRASH_POINTS)[number];

/** Reaches a crash point (a typo in a point's name fails to compile). */
export function reachRefundPoint(faults: FaultPoints, point: RefundCrashPoint): void {
  faults.reach(point);
}

/** The recovery points of a refund's idempotency key, in order. */
export const REFUND_RECOVERY_POINTS = Object.freeze([
  'started',
  'refund_created',
  'refund_approved',
  'finished',
] as const);

/** pay's Stripe key for one refund, derived from its id: a re-run never makes a second refund. */
export function stripeRefundKeyFor(refundId: RefundId): string {
  return `pay:${refundId}`;
}

/** The key of the refund's create call at Stripe. */
export function createRefundCallKey(refund: Pick<Refund, 'id' | 'stripeIdempotencyKey'>): string {
  return `${refund.stripeIdempotencyKey ?? stripeRefundKeyFor(refund.id)}:create_refund`;
}

/**
 * True once re-sending the refund's create may no longer be answered from Stripe's 24 h key cache:
 * then pay looks the refund up instead (and never re-POSTs). Measured from the refund's last change,
 * which for a refund not yet sent is its creation or its approval — both before the first create.
 */
export function pastRefundKeyWindow(refund: Pick<Refund, 'updatedAt'>, now: Date): boolean {
  return now.getTime() - refund.updatedAt.getTime() >= IDEMPOTENCY_KEY_TTL_MS - STRIPE_WINDOW_MARGIN_MS;
}
