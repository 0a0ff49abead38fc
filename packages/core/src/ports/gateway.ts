import type { PaymentStatus } from '../domain/statuses.js';
import type { AccountId, CustomerId, PaymentId } from '../ids.js';
import type { Currency } from '../money.js';

/*
 * What pay needs from a card processor, in core's words. `@pay/stripe-adapter` implements it with the
 * Stripe SDK; tests use an in-memory twin. Ids of Stripe's objects are plain strings named `stripe…Id`,
 * as on the entities, so no Stripe type crosses into core (STYLE.md R2).
 *
 * Every method that makes Stripe do something takes an `idempotencyKey`: pay's own deterministic key for
 * that step (derived from the payment, never random), sent as Stripe's `Idempotency-Key`, so a retry
 * after an ambiguous failure replays Stripe's first answer instead of acting twice (DESIGN.md §2.3).
 *
 * Failures that are not outcomes are thrown as PayErrors:
 * - `GatewayUnavailableError` (`dependency_unavailable`, retryable, ambiguous): no answer — network
 *   error, timeout, 5xx, 409 in flight, dropped connection. Stripe may have acted: keep the payment
 *   `pending`, retry with the same key or let recovery resolve it.
 * - `GatewayRateLimitedError` (`dependency_unavailable`, retryable, not ambiguous): Stripe's 429.
 * - `GatewayRejectedError` (`invalid_request`): Stripe refused a request the user caused, with
 *   Stripe's `param` and `gatewayCode`.
 * - `InvalidStateError` (`invalid_state`): the intent is in a state that forbids the call (cancel after
 *   success, confirm after cancel).
 * - `UnknownGatewayStateError` (`gateway_unknown_state`): a status or error shape pay does not know.
 * - `ConfigurationError`: Stripe rejected pay's secret key or its permissions.
 * - `InternalError`: pay reused one of its idempotency keys with other parameters — a bug.
 *
 * (The error classes live in `errors.ts`; they are named here so the contract reads in one place.)
 */

/**
 * A PaymentIntent's status in pay's vocabulary: the subset of {@link PaymentStatus} that the gateway can
 * report. `pending`: created, not yet confirmed. `failed`: Stripe's `requires_payment_method` after an
 * attempt (a decline, a failed 3-D Secure); the intent could be retried with another card, but pay
 * records the payment as failed and takes a new one.
 */
export type GatewayIntentStatus = Extract<
  PaymentStatus,
  'pending' | 'requires_action' | 'processing' | 'succeeded' | 'failed' | 'canceled'
>;

/** Every {@link GatewayIntentStatus}, as data. */
export const GATEWAY_INTENT_STATUSES: readonly GatewayIntentStatus[] = Object.freeze([
  'pending',
  'requires_action',
  'processing',
  'succeeded',
  'failed',
  'canceled',
]);

/** Why a card was refused, in Stripe's own codes (they are what the API hands on to clients). */
export interface GatewayDecline {
  /** Stripe's error code: `card_declined`, `expired_card`, `authentication_required`, … */
  readonly code: string;
  /** The issuer's reason, for issuer declines (`insufficient_funds`, `generic_decline`); null otherwise. */
  readonly declineCode: string | null;
  /** Stripe's message, written for the card holder. */
  readonly message: string;
}

/** A snapshot of a PaymentIntent as the gateway holds it now. */
export interface GatewayIntent {
  /** Stripe's id of the intent (`pi_…`), recorded on the payment once created. */
  readonly stripePaymentIntentId: string;
  /** Stripe's status, already translated into pay's words. */
  readonly status: GatewayIntentStatus;
  /** The amount asked, in minor units. */
  readonly amount: number;
  /** The amount captured so far, in minor units (equals `amount` once `succeeded`). */
  readonly amountReceived: number;
  /** The currency of `amount` and `amountReceived`. */
  readonly currency: Currency;
  /** The Stripe customer (`cus_…`) the intent charges; null for an intent made without one. */
  readonly stripeCustomerId: string | null;
  /** Null after a failed attempt: Stripe detaches the card from the intent. */
  readonly stripePaymentMethodId: string | null;
  /** pay's payment id from the intent's metadata; null for an intent pay did not create. */
  readonly paymentId: PaymentId | null;
  /** pay's account id from the intent's metadata; null for an intent pay did not create. */
  readonly accountId: AccountId | null;
  /** Where to send the card holder for 3-D Secure, when `requires_action` and a return URL was given. */
  readonly redirectUrl: string | null;
  /** The last attempt's failure, when `failed` (and kept by Stripe otherwise too). */
  readonly failure: GatewayDecline | null;
  /**
   * When Stripe created the intent (second precision): reconciliation windows and recovery searches use it.
   */
  readonly created: Date;
}

/** Creates the Stripe customer for one of pay's customers. */
export interface CreateGatewayCustomerInput {
  /** pay's account, written to the customer's metadata so Stripe's dashboard leads back to pay. */
  readonly accountId: AccountId;
  /** pay's customer (`cust_…`), written to the customer's metadata. */
  readonly customerId: CustomerId;
  /** The end user's email, set on the Stripe customer when pay knows one; omitted or null for none. */
  readonly email?: string | null;
  /** `pay:<customerId>:create_customer`: whichever payment asks first, one Stripe customer is made. */
  readonly idempotencyKey: string;
}

/** The customer at the gateway. */
export interface GatewayCustomer {
  /** Stripe's id of the customer (`cus_…`), recorded once on pay's customer. */
  readonly stripeCustomerId: string;
}

/** Attaches a card to a Stripe customer. */
export interface AttachPaymentMethodInput {
  /** The Stripe customer (`cus_…`) the card is attached to, so later intents may charge it. */
  readonly stripeCustomerId: string;
  /** A Stripe PaymentMethod id (`pm_…`) or a test token (`pm_card_visa`), never a card number. */
  readonly paymentMethod: string;
  /** pay's key for this payment's attach step (`pay:<paymentId>:attach_payment_method`). */
  readonly idempotencyKey: string;
}

/**
 * The card as pay keeps it: what identifies it to people, never its number or CVC (DESIGN.md §2.2).
 * `stripePaymentMethodId` is the attached PaymentMethod, which differs from the input for a test token.
 */
export interface GatewayCard {
  /** The attached PaymentMethod (`pm_…`): what intents charge and pay stores. */
  readonly stripePaymentMethodId: string;
  /** The card network in Stripe's words: `visa`, `mastercard`, `amex`, … */
  readonly brand: string;
  /** The last four digits, as a string (leading zeros kept): the only digits pay ever holds. */
  readonly last4: string;
  /** The expiry month, 1 to 12. */
  readonly expMonth: number;
  /** The expiry year, four digits. */
  readonly expYear: number;
}

/** What became of an attach: the card, or the issuer's refusal of it (an outcome, not an error). */
export type AttachOutcome =
  | { readonly kind: 'attached'; readonly card: GatewayCard }
  | { readonly kind: 'declined'; readonly decline: GatewayDecline };

/**
 * Creates an intent for one payment, not yet confirmed (pay confirms in a second call, so the intent's
 * id is recorded before money can move). The metadata carries pay's ids only.
 */
export interface CreateIntentInput {
  /** pay's payment, written to the intent's metadata: how webhooks, recovery and reconciliation find it. */
  readonly paymentId: PaymentId;
  /** pay's account, written to the intent's metadata beside the payment id. */
  readonly accountId: AccountId;
  /** Minor units; the caller has validated it with `money()`. */
  readonly amount: number;
  /** The currency of `amount`: the plan's. */
  readonly currency: Currency;
  /** The Stripe customer (`cus_…`) the card is attached to. */
  readonly stripeCustomerId: string;
  /** An attached PaymentMethod (`pm_…`), as {@link GatewayCard.stripePaymentMethodId}. */
  readonly stripePaymentMethodId: string;
  /**
   * pay's key for this payment's create step (`pay:<paymentId>:create_intent`): a retry returns the same
   * intent.
   */
  readonly idempotencyKey: string;
  /**
   * `off_session` for a subscription's first payment: the card is set up for the renewals pay will
   * charge while its holder is absent, so the bank authenticates now (3-D Secure, if it wants it)
   * instead of refusing every renewal with `authentication_required`.
   */
  readonly setupFutureUsage?: 'off_session';
}

/**
 * Confirms an intent: the call that may move money. `returnUrl` and `offSession` belong here, not to
 * creation, because Stripe accepts them only with a confirmation.
 */
export interface ConfirmIntentInput {
  /** The intent to confirm (`pi_…`), as recorded on the payment. */
  readonly stripePaymentIntentId: string;
  /**
   * pay's key for this payment's confirm step (`pay:<paymentId>:confirm_intent`): a retry never charges
   * twice.
   */
  readonly idempotencyKey: string;
  /** Where 3-D Secure sends the card holder back to. Without it, `requires_action` has no redirect URL. */
  readonly returnUrl?: string;
  /** The card holder is absent (a renewal): a card that needs 3-D Secure is then declined instead. */
  readonly offSession?: boolean;
}

/**
 * What a confirmation led to; the caller branches on `kind` (STYLE.md R5). `declined` carries the intent
 * when Stripe sent it with the error.
 */
export type ConfirmOutcome =
  | { readonly kind: 'succeeded'; readonly intent: GatewayIntent }
  | { readonly kind: 'requires_action'; readonly intent: GatewayIntent; readonly redirectUrl: string | null }
  | { readonly kind: 'processing'; readonly intent: GatewayIntent }
  | { readonly kind: 'declined'; readonly intent: GatewayIntent | null; readonly decline: GatewayDecline }
  | { readonly kind: 'canceled'; readonly intent: GatewayIntent };

/** Looks an intent up by pay's payment id, for recovery past Stripe's 24 h idempotency window. */
export interface FindIntentInput {
  /** pay's payment, matched against the intents' metadata. */
  readonly paymentId: PaymentId;
  /** The payment's Stripe customer: the search runs over that customer's intents. */
  readonly stripeCustomerId: string;
  /** Skip intents created before this (the payment's creation, less a margin for clock skew). */
  readonly createdAfter?: Date;
}

/** Cancels an intent that has not succeeded. */
export interface CancelIntentInput {
  /** The intent to cancel (`pi_…`). */
  readonly stripePaymentIntentId: string;
  /** pay's deterministic key for the cancel (per payment, or per orphan intent in reconciliation). */
  readonly idempotencyKey: string;
}

/**
 * The payment gateway port: what the payment flow (issue 4) and the recovery job need from Stripe.
 * Every call is a network call: never make one inside a transaction (STYLE.md R7).
 */
export interface PaymentGateway {
  /** Creates the Stripe customer of pay's customer; the same key returns the same customer. */
  createCustomer(input: CreateGatewayCustomerInput): Promise<GatewayCustomer>;

  /** Attaches a card to the customer and returns what pay may keep of it, or the issuer's refusal. */
  attachPaymentMethod(input: AttachPaymentMethodInput): Promise<AttachOutcome>;

  /** Creates an unconfirmed intent (`pending`); the same key returns the same intent. */
  createIntent(input: CreateIntentInput): Promise<GatewayIntent>;

  /** Confirms an intent. A decline or a 3-D Secure challenge is an outcome, not an error. */
  confirmIntent(input: ConfirmIntentInput): Promise<ConfirmOutcome>;

  /** The intent as Stripe holds it now (after 3-D Secure, during recovery). */
  retrieveIntent(stripePaymentIntentId: string): Promise<GatewayIntent>;

  /**
   * The intent whose metadata names `paymentId`, or null when Stripe has none: recovery's way to learn
   * whether a create it never heard back from happened, once re-sending it is no longer safe. Two
   * intents for one payment break invariant K1 and throw an `InternalError`.
   */
  findIntentByPaymentId(input: FindIntentInput): Promise<GatewayIntent | null>;

  /** Cancels the intent; one that already succeeded throws `InvalidStateError`. */
  cancelIntent(input: CancelIntentInput): Promise<GatewayIntent>;
}
