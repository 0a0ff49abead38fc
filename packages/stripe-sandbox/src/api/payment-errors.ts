import type { Decline } from '../cards.js';
import { CardError, docUrl, InvalidRequestError, type JsonObject } from '../errors.js';
import type { PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentMethodRecord } from '../store/account.js';

/* The errors of the PaymentIntent flows, with Stripe's messages (SANDBOX.md §3.5, §4.3, §6.3). */

export const MISSING_PAYMENT_METHOD =
  "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.";
export const RETURN_URL_REQUIRED =
  "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.";
export const ERROR_ON_REQUIRES_ACTION =
  "This payment required an authentication action to complete, but `error_on_requires_action` was set. When you're ready, you can upgrade your integration to handle actions at https://stripe.com/docs/payments/payment-intents/upgrade-to-handle-actions.";
export const AUTHENTICATION_FAILED =
  'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.';

/** A 400 `payment_intent_unexpected_state` carrying the intent, as Stripe's does. */
export function unexpectedState(message: string, pi: PaymentIntentObject): InvalidRequestError {
  return new InvalidRequestError(message, {
    code: 'payment_intent_unexpected_state',
    paymentIntent: pi as unknown as JsonObject,
  });
}

/** `last_payment_error` of a failed payment. */
export function lastPaymentError(
  decline: Decline,
  charge: string | null,
  pm: PaymentMethodRecord,
): JsonObject {
  return {
    ...(charge === null ? {} : { charge }),
    code: decline.code,
    ...(decline.declineCode === undefined ? {} : { decline_code: decline.declineCode }),
    doc_url: docUrl(decline.code),
    message: decline.message,
    ...(decline.param === undefined ? {} : { param: decline.param }),
    payment_method: pm.object,
    type: 'card_error',
  };
}

/** The 402 of a failed payment: the intent and the payment method ride along, as at Stripe. */
export function cardError(
  decline: Decline,
  charge: string | null,
  pi: PaymentIntentObject,
  pm: PaymentMethodRecord,
): CardError {
  return new CardError(decline.message, {
    code: decline.code,
    ...(decline.declineCode === undefined ? {} : { declineCode: decline.declineCode }),
    ...(decline.param === undefined ? {} : { param: decline.param }),
    ...(charge === null ? {} : { charge }),
    paymentIntent: pi as unknown as JsonObject,
    paymentMethod: pm.object as unknown as JsonObject,
  });
}
