import type { AccountId, PaymentId, RefundId } from '../ids.js';
import type { GatewayRefund } from './gateway-events.js';

/** Stripe's own refund reasons; pay sends one only when the operator's reason is one of them. */
export const GATEWAY_REFUND_REASONS = Object.freeze([
  'duplicate',
  'fraudulent',
  'requested_by_customer',
] as const);
/** One of {@link GATEWAY_REFUND_REASONS}. */
export type GatewayRefundReason = (typeof GATEWAY_REFUND_REASONS)[number];

/** Gives money back from a payment's PaymentIntent. The metadata carries pay's ids only. */
export interface CreateGatewayRefundInput {
  /** pay's refund (`rfnd_…`), written to the Stripe refund's metadata: how webhooks and recovery find it. */
  readonly refundId: RefundId;
  /** pay's account, written to the metadata beside the refund id. */
  readonly accountId: AccountId;
  /** pay's payment refunded, written to the metadata. */
  readonly paymentId: PaymentId;
  /** The payment's intent (`pi_…`): what Stripe refunds. */
  readonly stripePaymentIntentId: string;
  /** Minor units, \> 0, at most what remains refundable (pay checked it under the payment's lock). */
  readonly amount: number;
  /** Stripe's reason, sent only when the operator's free text is one of Stripe's; null sends none. */
  readonly reason: GatewayRefundReason | null;
  /** pay's deterministic key for this refund's create (`pay:<refundId>:create_refund`). */
  readonly idempotencyKey: string;
}

/** Looks a refund up by pay's refund id, for recovery past Stripe's 24 h idempotency window. */
export interface FindGatewayRefundInput {
  /** pay's refund, matched against the refunds' metadata. */
  readonly refundId: RefundId;
  /** The intent whose refunds are searched (`pi_…`). */
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
