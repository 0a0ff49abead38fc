import { isId, UnknownGatewayStateError, type GatewayRefund, type GatewayRefundStatus } from '@pay/core';
import type Stripe from 'stripe';
import { currencyOf, idOf } from './stripe-values.js';

/**
 * The metadata key of pay's refund id on the refunds it makes (beside `pay_payment_id` and
 * `pay_account_id`, as on intents): what tells pay's refunds from the dashboard's.
 */
export const METADATA_REFUND_ID = 'pay_refund_id';

/** The fields of a Refund pay reads; a full `Stripe.Refund` fits. */
export type RefundFields = Pick<
  Stripe.Refund,
  | 'id'
  | 'payment_intent'
  | 'charge'
  | 'amount'
  | 'currency'
  | 'status'
  | 'reason'
  | 'failure_reason'
  | 'metadata'
  | 'created'
>;

/**
 * Stripe's Refund statuses. The SDK types `status` as a plain string, so the list is the one its
 * documentation gives ("`pending`, `requires_action`, `succeeded`, `failed`, or `canceled`").
 */
export const STRIPE_REFUND_STATUSES = Object.freeze([
  'pending',
  'requires_action',
  'succeeded',
  'failed',
  'canceled',
] as const);
export type StripeRefundStatus = (typeof STRIPE_REFUND_STATUSES)[number];

const REFUND_STATUSES: Readonly<Record<StripeRefundStatus, GatewayRefundStatus>> = {
  pending: 'pending',
  // Waiting on the card holder (some non-card methods): to pay it is a refund not yet done.
  requires_action: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
};

function isStripeRefundStatus(status: string): status is StripeRefundStatus {
  return Object.prototype.hasOwnProperty.call(REFUND_STATUSES, status);
}

/** Stripe's Refund status in pay's words; an unknown or missing status is an error, never a guess. */
export function mapRefundStatus(refund: Pick<RefundFields, 'id' | 'status'>): GatewayRefundStatus {
  if (refund.status === null || !isStripeRefundStatus(refund.status)) {
    throw new UnknownGatewayStateError(
      `Stripe sent an unknown Refund status: ${JSON.stringify(refund.status)}`,
      {
        context: { stripeRefundId: refund.id, stripeStatus: refund.status },
      },
    );
  }
  return REFUND_STATUSES[refund.status];
}

/** A Refund as pay's snapshot, made through pay or in Stripe's dashboard. */
export function toGatewayRefund(refund: RefundFields): GatewayRefund {
  // Anyone with the dashboard can write metadata: only a well-formed id of pay's counts as pay's refund.
  const refundId = refund.metadata?.[METADATA_REFUND_ID];
  return {
    stripeRefundId: refund.id,
    stripePaymentIntentId: idOf(refund.payment_intent),
    stripeChargeId: idOf(refund.charge),
    amount: refund.amount,
    currency: currencyOf(refund.currency, `Refund ${refund.id}`, { stripeRefundId: refund.id }),
    status: mapRefundStatus(refund),
    reason: refund.reason,
    failureReason: refund.failure_reason ?? null,
    refundId: refundId !== undefined && isId('refund', refundId) ? refundId : null,
    created: new Date(refund.created * 1000),
  };
}
