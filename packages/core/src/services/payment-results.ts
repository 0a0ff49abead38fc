import type { Payment } from '../domain/entities.js';
import type { PayErrorCode } from '../errors.js';
import type { AccountId, PaymentId } from '../ids.js';
import type { GatewayDecline } from '../ports/gateway.js';

/*
 * The contract between the payment flow and whoever calls it (the API's routes, the CLI, a service that
 * embeds @pay/core). Outcomes a caller branches on are values, not exceptions (STYLE.md R5).
 */

/** A payment as callers see it: the row, plus the caller's own id of the card holder. */
export interface PaymentView {
  /** The payment row as stored; its `status` agrees with the result `kind` it came in. */
  readonly payment: Payment;
  /** The caller's opaque id of its end user (the customer's `user_id`). */
  readonly userId: string;
  /** The card used, once attached: what identifies it to people, never its number. */
  readonly card: { readonly brand: string; readonly last4: string } | null;
}

/**
 * What a request to take a payment led to. `declined` is the card holder's bank (or a failed 3-D
 * Secure) saying no; `rejected` is Stripe refusing the request itself after pay had recorded the
 * payment (an unknown or unusable payment method): both leave the payment `failed`.
 */
export type PaymentResult =
  | { readonly kind: 'succeeded'; readonly view: PaymentView }
  | { readonly kind: 'processing'; readonly view: PaymentView }
  | { readonly kind: 'requires_action'; readonly view: PaymentView; readonly redirectUrl: string }
  | { readonly kind: 'declined'; readonly view: PaymentView; readonly decline: GatewayDecline }
  | {
      readonly kind: 'rejected';
      readonly view: PaymentView;
      readonly error: { readonly code: PayErrorCode; readonly message: string; readonly param?: string };
      /** The request that got this answer: a replay repeats its error body byte for byte. */
      readonly requestId: string;
    };

/** The kinds of {@link PaymentResult}, as data (metrics label them). */
export const PAYMENT_RESULT_KINDS = Object.freeze([
  'succeeded',
  'processing',
  'requires_action',
  'declined',
  'rejected',
] as const satisfies readonly PaymentResult['kind'][]);

/**
 * A request to take a payment, as it reached the service. Values come from outside: the service checks
 * each one (the API validated the shape already) and throws a ValidationError naming the field,
 * before anything is written.
 */
export interface CreatePaymentInput {
  /** The caller's account (from its API key): the plan and the customer are looked up in it only. */
  readonly accountId: AccountId;
  /** The caller's opaque id of its end user; pay creates the customer on first use. */
  readonly userId: string;
  /** A `pln_` id of the account's plans. */
  readonly planId: string;
  /** A Stripe PaymentMethod id (`pm_…`) or a test token (`pm_card_visa`). Never a card number. */
  readonly paymentMethodId: string;
  /** The caller's page for the card holder after 3-D Secure; its origin must be allowed by config. */
  readonly returnUrl?: string;
}

/** The idempotency of one API request (DESIGN.md §4): whose key, which request, for the params hash. */
export interface IdempotentRequest {
  /** Whose key it is: keys are scoped per account, so two accounts may use the same string. */
  readonly accountId: AccountId;
  /** The client's `Idempotency-Key`, already checked for shape by the caller. */
  readonly key: string;
  /** `POST`. */
  readonly method: string;
  /** The route's path, such as `/api/v1/payments`: the same key on another path is a reuse (422). */
  readonly path: string;
  /** The request's parameters as sent (the parsed body); hashed after normalising key order. */
  readonly params: unknown;
  /** The request id, recorded as the cause of every state change. */
  readonly requestId: string;
}

/** What {@link PaymentResult} a create led to, and whether it was answered from the stored result. */
export interface PaymentAttempt {
  /** What the request led to, or, for a replay, what the first request led to. */
  readonly result: PaymentResult;
  /** True when the result is the one stored for this idempotency key by an earlier request. */
  readonly replayed: boolean;
}

/** The 3-D Secure return: the payment after pay asked Stripe, and where to send the card holder. */
export interface ReturnOutcome {
  /** The payment after pay asked Stripe for the intent's outcome on the card holder's return. */
  readonly view: PaymentView;
  /** The caller's `return_url`, or null when it gave none. */
  readonly returnUrl: string | null;
}

/** What one pass of payment recovery did (`pay recover`). */
export interface RecoveryReport {
  /** Idempotency keys resumed from their recovery point and finished. */
  readonly keysResumed: number;
  /** Payments whose outcome was fetched from Stripe and recorded. */
  readonly paymentsResolved: number;
  /** Idempotency keys older than 24 h deleted. */
  readonly keysReaped: number;
  /** Objects recovery could not finish this time (Stripe unreachable, say): retried on the next pass. */
  readonly failures: readonly { readonly id: PaymentId | string; readonly error: string }[];
}
