import { UnknownGatewayStateError, type GatewayCharge } from '@pay/core';
import type Stripe from 'stripe';
import { currencyOf, idOf, type KnownLiterals } from './stripe-values.js';

/** The fields of a Charge pay reads; a full `Stripe.Charge` fits. */
export type ChargeFields = Pick<
  Stripe.Charge,
  | 'id'
  | 'payment_intent'
  | 'amount'
  | 'amount_captured'
  | 'amount_refunded'
  | 'currency'
  | 'status'
  | 'created'
>;

/** The Charge statuses this SDK version lists. */
export type KnownChargeStatus = KnownLiterals<Stripe.Charge.Status>;

// A Record over the SDK's list: an SDK upgrade that lists a new status fails to compile here.
const CHARGE_STATUSES: Readonly<Record<KnownChargeStatus, GatewayCharge['status']>> = {
  succeeded: 'succeeded',
  pending: 'pending',
  failed: 'failed',
};

function isKnownChargeStatus(status: string): status is KnownChargeStatus {
  return Object.prototype.hasOwnProperty.call(CHARGE_STATUSES, status);
}

/** Stripe's Charge status in pay's words; a status this SDK does not list is an error, never a guess. */
export function mapChargeStatus(charge: Pick<ChargeFields, 'id' | 'status'>): GatewayCharge['status'] {
  if (!isKnownChargeStatus(charge.status)) {
    throw new UnknownGatewayStateError(
      `Stripe sent an unknown Charge status: ${JSON.stringify(charge.status)}`,
      {
        context: { stripeChargeId: charge.id, stripeStatus: charge.status },
      },
    );
  }
  return CHARGE_STATUSES[charge.status];
}

/** A Charge as pay's snapshot; throws {@link UnknownGatewayStateError} for what pay cannot read. */
export function toGatewayCharge(charge: ChargeFields): GatewayCharge {
  return {
    stripeChargeId: charge.id,
    stripePaymentIntentId: idOf(charge.payment_intent),
    amount: charge.amount,
    amountCaptured: charge.amount_captured,
    amountRefunded: charge.amount_refunded,
    currency: currencyOf(charge.currency, `Charge ${charge.id}`, { stripeChargeId: charge.id }),
    status: mapChargeStatus(charge),
    created: new Date(charge.created * 1000),
  };
}
