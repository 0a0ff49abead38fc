import type Stripe from 'stripe';
import type { ChargeFields } from './charge-mapping.js';
import type { DisputeFields } from './dispute-mapping.js';
import type { IntentFields } from './intent-mapping.js';
import type { JsonFields } from './json-fields.js';
import type { RefundFields } from './refund-mapping.js';

/*
 * The objects inside a webhook payload, read into the same fields an SDK call returns, so that one mapper
 * serves both. Each reader checks exactly the fields its mapper reads.
 */

/** A PaymentIntent from an event's `data.object`. */
export function readIntentFields(o: JsonFields): IntentFields {
  return {
    id: o.nonEmptyString('id'),
    status: o.nonEmptyString('status'),
    amount: o.amount('amount'),
    amount_received: o.amount('amount_received'),
    currency: o.nonEmptyString('currency'),
    customer: o.reference('customer'),
    payment_method: o.reference('payment_method'),
    metadata: o.metadata('metadata'),
    next_action: readNextAction(o.nullableObject('next_action')),
    last_payment_error: readLastPaymentError(o.nullableObject('last_payment_error')),
    created: o.integer('created'),
  };
}

function readNextAction(o: JsonFields | null): Stripe.PaymentIntent.NextAction | null {
  if (o === null) {
    return null;
  }
  const redirect = o.optionalObject('redirect_to_url');
  return {
    type: o.nonEmptyString('type'),
    ...(redirect === null
      ? {}
      : {
          redirect_to_url: {
            url: redirect.nullableString('url'),
            return_url: redirect.has('return_url') ? redirect.nullableString('return_url') : null,
          },
        }),
  };
}

function readLastPaymentError(o: JsonFields | null): Stripe.PaymentIntent.LastPaymentError | null {
  if (o === null) {
    return null;
  }
  const code = o.optionalString('code');
  const declineCode = o.optionalString('decline_code');
  const message = o.optionalString('message');
  return {
    type: o.nonEmptyString('type'),
    ...(code === undefined ? {} : { code }),
    ...(declineCode === undefined ? {} : { decline_code: declineCode }),
    ...(message === undefined ? {} : { message }),
  };
}

/** A Charge from an event's `data.object`. */
export function readChargeFields(o: JsonFields): ChargeFields {
  return {
    id: o.nonEmptyString('id'),
    payment_intent: o.reference('payment_intent'),
    amount: o.amount('amount'),
    amount_captured: o.amount('amount_captured'),
    amount_refunded: o.amount('amount_refunded'),
    currency: o.nonEmptyString('currency'),
    status: o.nonEmptyString('status'),
    created: o.integer('created'),
  };
}

/** A Refund from an event's `data.object`. */
export function readRefundFields(o: JsonFields): RefundFields {
  const failureReason = o.optionalString('failure_reason');
  return {
    id: o.nonEmptyString('id'),
    payment_intent: o.reference('payment_intent'),
    charge: o.reference('charge'),
    amount: o.amount('amount'),
    currency: o.nonEmptyString('currency'),
    status: o.nullableString('status'),
    reason: o.nullableString('reason'),
    ...(failureReason === undefined ? {} : { failure_reason: failureReason }),
    metadata: o.metadata('metadata'),
    created: o.integer('created'),
  };
}

/** A Dispute from an event's `data.object`. */
export function readDisputeFields(o: JsonFields): DisputeFields {
  return {
    id: o.nonEmptyString('id'),
    charge: o.requiredReference('charge'),
    payment_intent: o.reference('payment_intent'),
    amount: o.amount('amount'),
    currency: o.nonEmptyString('currency'),
    reason: o.nonEmptyString('reason'),
    status: o.nonEmptyString('status'),
    created: o.integer('created'),
  };
}
