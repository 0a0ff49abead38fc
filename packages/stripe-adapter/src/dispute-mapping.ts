import { UnknownGatewayStateError, type GatewayDispute, type GatewayDisputeStatus } from '@pay/core';
import type Stripe from 'stripe';
import { currencyOf, idOf, type KnownLiterals } from './stripe-values.js';

/** The fields of a Dispute pay reads; a full `Stripe.Dispute` fits. */
export type DisputeFields = Pick<
  Stripe.Dispute,
  'id' | 'charge' | 'payment_intent' | 'amount' | 'currency' | 'reason' | 'status' | 'created'
>;

/** The Dispute statuses this SDK version lists. */
export type KnownDisputeStatus = KnownLiterals<Stripe.Dispute.Status>;

/*
 * A Record over the SDK's list, so an SDK upgrade that lists a new status fails to compile here until
 * core names it too. `null` would mark a status the SDK knows and pay's vocabulary does not yet: an
 * unknown state, never a guess.
 */
const DISPUTE_STATUSES: Readonly<Record<KnownDisputeStatus, GatewayDisputeStatus | null>> = {
  warning_needs_response: 'warning_needs_response',
  warning_under_review: 'warning_under_review',
  warning_closed: 'warning_closed',
  needs_response: 'needs_response',
  under_review: 'under_review',
  won: 'won',
  lost: 'lost',
  appeal_needs_response: 'appeal_needs_response',
  appeal_under_review: 'appeal_under_review',
  prevented: 'prevented',
};

function isKnownDisputeStatus(status: string): status is KnownDisputeStatus {
  return Object.prototype.hasOwnProperty.call(DISPUTE_STATUSES, status);
}

/** Stripe's Dispute status in pay's words; a status pay has no word for is an error, never a guess. */
export function mapDisputeStatus(dispute: Pick<DisputeFields, 'id' | 'status'>): GatewayDisputeStatus {
  const mapped = isKnownDisputeStatus(dispute.status) ? DISPUTE_STATUSES[dispute.status] : null;
  if (mapped === null) {
    throw new UnknownGatewayStateError(
      `Stripe sent a Dispute status pay does not handle: ${JSON.stringify(dispute.status)}`,
      { context: { stripeDisputeId: dispute.id, stripeStatus: dispute.status } },
    );
  }
  return mapped;
}

/** A Dispute (chargeback) as pay's snapshot. */
export function toGatewayDispute(dispute: DisputeFields): GatewayDispute {
  return {
    stripeDisputeId: dispute.id,
    stripeChargeId: typeof dispute.charge === 'string' ? dispute.charge : dispute.charge.id,
    stripePaymentIntentId: idOf(dispute.payment_intent),
    amount: dispute.amount,
    currency: currencyOf(dispute.currency, `Dispute ${dispute.id}`, { stripeDisputeId: dispute.id }),
    reason: dispute.reason,
    status: mapDisputeStatus(dispute),
    created: new Date(dispute.created * 1000),
  };
}
