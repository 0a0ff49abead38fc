import {
  assertNever,
  isId,
  UnknownGatewayStateError,
  type ConfirmOutcome,
  type GatewayDecline,
  type GatewayIntent,
  type GatewayIntentStatus,
} from '@pay/core';
import type Stripe from 'stripe';
import { currencyOf, idOf, type KnownLiterals } from './stripe-values.js';

/** The metadata keys pay writes on every intent: pay's own ids, nothing about the card holder. */
export const METADATA_PAYMENT_ID = 'pay_payment_id';
export const METADATA_ACCOUNT_ID = 'pay_account_id';
export const METADATA_CUSTOMER_ID = 'pay_customer_id';

/** The fields of a PaymentIntent pay reads; a full `Stripe.PaymentIntent` fits. */
export type IntentFields = Pick<
  Stripe.PaymentIntent,
  | 'id'
  | 'status'
  | 'amount'
  | 'amount_received'
  | 'currency'
  | 'customer'
  | 'payment_method'
  | 'metadata'
  | 'next_action'
  | 'last_payment_error'
  | 'created'
>;

/** The fields of a Stripe error, or of an intent's `last_payment_error`, that describe a decline. */
export interface DeclineFields {
  readonly code?: string | undefined;
  readonly decline_code?: string | undefined;
  readonly message?: string | undefined;
}

/**
 * The exhaustiveness guard for values that come from Stripe: the compiler proves every known value is
 * handled, and a value this SDK version does not know (a status Stripe added later) becomes an
 * {@link UnknownGatewayStateError} for the log, never a guess (STYLE.md anti-pattern 5).
 */
export function unknownFromStripe(value: never, what: string, context: Record<string, unknown> = {}): never {
  throw new UnknownGatewayStateError(`Stripe sent an unknown ${what}: ${JSON.stringify(value)}`, {
    context: { ...context, value },
  });
}

/** The PaymentIntent statuses this SDK version lists. */
export type KnownIntentStatus = KnownLiterals<Stripe.PaymentIntent.Status>;

// A Record over the SDK's list: an SDK upgrade that lists a new status fails to compile here.
const KNOWN_INTENT_STATUSES: Readonly<Record<KnownIntentStatus, true>> = {
  requires_payment_method: true,
  requires_confirmation: true,
  requires_action: true,
  processing: true,
  requires_capture: true,
  succeeded: true,
  canceled: true,
};

function isKnownIntentStatus(status: string): status is KnownIntentStatus {
  return Object.prototype.hasOwnProperty.call(KNOWN_INTENT_STATUSES, status);
}

/** Stripe's PaymentIntent status in pay's words. */
export function mapIntentStatus(
  intent: Pick<IntentFields, 'id' | 'status' | 'last_payment_error'>,
): GatewayIntentStatus {
  const status = intent.status;
  if (!isKnownIntentStatus(status)) {
    throw new UnknownGatewayStateError(
      `Stripe sent an unknown PaymentIntent status: ${JSON.stringify(status)}`,
      {
        context: { stripePaymentIntentId: intent.id, stripeStatus: status },
      },
    );
  }
  switch (status) {
    case 'requires_payment_method':
      // Stripe puts an intent back here after a decline or a failed 3-D Secure, with the reason; an
      // intent that was never attempted has none.
      return intent.last_payment_error === null ? 'pending' : 'failed';
    case 'requires_confirmation':
      return 'pending';
    case 'requires_action':
      return 'requires_action';
    case 'processing':
      return 'processing';
    case 'succeeded':
      return 'succeeded';
    case 'canceled':
      return 'canceled';
    case 'requires_capture':
      // Authorised, not captured: pay only makes automatic-capture intents, so this one is not pay's
      // kind of intent, and calling it either succeeded or pending would be a guess.
      throw new UnknownGatewayStateError(
        `PaymentIntent ${intent.id} is requires_capture, a state pay never puts an intent in.`,
        { context: { stripePaymentIntentId: intent.id, stripeStatus: status } },
      );
    default:
      return unknownFromStripe(status, 'PaymentIntent status', { stripePaymentIntentId: intent.id });
  }
}

/** A decline from Stripe's fields; Stripe always sends a code and a message, so missing ones are an error. */
export function declineFrom(fields: DeclineFields, where: string): GatewayDecline {
  if (fields.code === undefined || fields.code === '' || fields.message === undefined) {
    throw new UnknownGatewayStateError(`Stripe sent a decline without a code or message (${where}).`, {
      context: { where, code: fields.code ?? null },
    });
  }
  return {
    code: fields.code,
    // The SDK fills a missing decline_code with '' on card errors: the issuer gave no reason.
    declineCode: fields.decline_code === undefined || fields.decline_code === '' ? null : fields.decline_code,
    message: fields.message,
  };
}

/** A PaymentIntent as pay's snapshot; throws {@link UnknownGatewayStateError} for what pay cannot read. */
export function toGatewayIntent(intent: IntentFields): GatewayIntent {
  const status = mapIntentStatus(intent);
  const currency = currencyOf(intent.currency, `PaymentIntent ${intent.id}`, {
    stripePaymentIntentId: intent.id,
  });
  const paymentId = intent.metadata[METADATA_PAYMENT_ID];
  const accountId = intent.metadata[METADATA_ACCOUNT_ID];
  const next = intent.next_action;
  return {
    stripePaymentIntentId: intent.id,
    status,
    amount: intent.amount,
    amountReceived: intent.amount_received,
    currency,
    stripeCustomerId: idOf(intent.customer),
    stripePaymentMethodId: idOf(intent.payment_method),
    paymentId: paymentId !== undefined && isId('payment', paymentId) ? paymentId : null,
    accountId: accountId !== undefined && isId('account', accountId) ? accountId : null,
    // Without a return URL Stripe answers `use_stripe_sdk`, whose contents are for Stripe.js only.
    redirectUrl:
      status === 'requires_action' && next?.type === 'redirect_to_url'
        ? (next.redirect_to_url?.url ?? null)
        : null,
    failure:
      intent.last_payment_error === null
        ? null
        : declineFrom(intent.last_payment_error, `last_payment_error of ${intent.id}`),
    created: new Date(intent.created * 1000),
  };
}

/** What a confirmation that Stripe answered with 200 led to. */
export function confirmOutcomeOf(intent: GatewayIntent): ConfirmOutcome {
  switch (intent.status) {
    case 'succeeded':
      return { kind: 'succeeded', intent };
    case 'requires_action':
      return { kind: 'requires_action', intent, redirectUrl: intent.redirectUrl };
    case 'processing':
      return { kind: 'processing', intent };
    case 'canceled':
      // Stripe cancels an intent confirmed too many times.
      return { kind: 'canceled', intent };
    case 'failed':
      if (intent.failure === null) {
        throw new UnknownGatewayStateError(
          `PaymentIntent ${intent.stripePaymentIntentId} failed without a reason.`,
        );
      }
      return { kind: 'declined', intent, decline: intent.failure };
    case 'pending':
      throw new UnknownGatewayStateError(
        `Stripe confirmed PaymentIntent ${intent.stripePaymentIntentId} but left it unconfirmed.`,
        { context: { stripePaymentIntentId: intent.stripePaymentIntentId } },
      );
    default:
      return assertNever(intent.status, 'gateway intent status');
  }
}
