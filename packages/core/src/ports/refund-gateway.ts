import type { AccountId, PaymentId, RefundId } from '../ids.js';
import type { GatewayRefund } from './gateway-events.js';

/** Stripe's own refund reasons; pay sends one only when the operator's reason is one of them. */
export const GATEWAY_REFUND_REASONS = Object.freeze([
  'duplicate',
  'fraudulent',
  'requested_by_customer',
] as const);
export type GatewayRefundReason = (typeof GATEWAY_REFUND_REASONS)[number];

/** Gives money back from a payment's PaymentIntent. The metadata carries pay's ids only. */
export interface CreateGatewayRefundInput {
  readonly refundId: RefundId;
  readonly accountId: AccountId;
  readonly paymentId: PaymentId;
  readonly stripePaymentIntentId: string;
  /** Minor units, > 0, at most what remains refundable (pay checked it under the payment's lock). */
  readonly amount: number;
  readonly reason: GatewayRefundReason | null;
  /** pay's deterministic key for this refund's create (`pay:<refundId>:create_refund`). */
  readonly idempotencyKey: string;
}

/** Looks a refund up by pay's refund id, for recovery past Stripe's 24 h idempotency window. */
export interface FindGatewayRefundInput {
  readonly refundId: RefundId;
  readonly stripePaymentIntentId: string;
}

/**
 * What the refund flow needs from Stripe. Errors follow {@link PaymentGateway}'s contract: no answer →
 * `GatewayUnavailableError` (ambiguous: Stripe may have refunded; retry with the same key); Stripe
 * refusing the refund (more than the charge has left, already refunded, charged back) →
 * `GatewayRejectedError` with Stripe's `gatewayCode`. Never call inside a transaction.
 */
export interface RefundGateway {
  /** Creates the refund; the same key returns the same refund (Stripe's idempotency). */
  createRefund(input: CreateGatewayRefundInput): Promise<GatewayRefund>;
  /** The refund as Stripe holds it now. */
  retrieveRefund(stripeRefundId: string): Promise<GatewayRefund>;
  /** The refund of the intent whose metadata names `refundId`, or null when Stripe has none. */
  findRefundByRefundId(input: FindGatewayRefundInput): Promise<GatewayRefund | null>;
}
