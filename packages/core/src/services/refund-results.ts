import type { Payment, Refund } from '../domain/entities.js';
import type { AccountId } from '../ids.js';

/*
 * The contract between the refund flow and its callers (the API's refund routes, `pay process-refund`,
 * a service embedding @pay/core). Outcomes are values; refusals are typed errors:
 * - ValidationError (400): a bad amount (not a positive integer of minor units), a reason too long.
 * - NotFoundError (404): no such payment or refund in the caller's account.
 * - ForbiddenError (403): a `service` key (the route checks the role and calls `recordDenied`), or the
 *   approver of a refund is the admin who asked for it (four eyes; the service audits it as denied).
 * - InvalidStateError (409): the payment has captured nothing (not succeeded), the refund does not wait
 *   for approval.
 * - RefundExceedsCapturedError (422): more than remains refundable; nothing written, nothing sent.
 * - IdempotencyKeyInUseError (409) / IdempotencyKeyReusedError (422) as for payments.
 * - DependencyUnavailableError (503, retryable): Stripe did not answer; the refund stays `pending` and
 *   the same key (or recovery) finishes it.
 */

/** What the operator's full refund of a subscription's payment does to the subscription. */
export const REFUND_SUBSCRIPTION_POLICIES = Object.freeze([
  'cancel_now',
  'cancel_at_period_end',
  'keep',
] as const);
/** One of {@link REFUND_SUBSCRIPTION_POLICIES}: `cancel_now`, `cancel_at_period_end` or `keep`. */
export type RefundSubscriptionPolicy = (typeof REFUND_SUBSCRIPTION_POLICIES)[number];

/** A request to refund a payment, as it reached the service (values unchecked). */
export interface CreateRefundInput {
  /** The caller's account: a payment of another account is not found. */
  readonly accountId: AccountId;
  /** A `pay_` id of the account's payments. */
  readonly paymentId: string;
  /** Minor units; omitted → all that remains refundable. */
  readonly amount?: number | undefined;
  /** Free text for the audit log, ≤ 500 characters; sent to Stripe as its `reason` when it is one of Stripe's. */
  readonly reason?: string | null | undefined;
}

/** Approves a refund waiting as `requires_approval`. */
export interface ApproveRefundInput {
  /** The approver's account: a refund of another account is not found. */
  readonly accountId: AccountId;
  /** A `rfnd_` id. */
  readonly refundId: string;
}

/**
 * What a refund request led to: the refund as it now is. `status` says which: `succeeded`, `pending`
 * (Stripe accepted it and will settle it, see the refund webhooks), `requires_approval` (above the
 * four-eyes threshold, nothing sent to Stripe), `failed` (Stripe refused it; `failureReason` says why).
 */
export interface RefundAttempt {
  /** The refund as it now is; its `status` says what happened (see above). */
  readonly refund: Refund;
  /** The payment after the refund (its `amountRefunded` and status). */
  readonly payment: Payment;
  /** True when answered from the result stored for this idempotency key by an earlier request. */
  readonly replayed: boolean;
}

/** One pass of refund recovery. */
export interface RefundRecoveryReport {
  /** Refund idempotency keys left without a response and finished now. */
  readonly keysResumed: number;
  /** `pending` refunds brought in line with Stripe. */
  readonly refundsResolved: number;
  /** Objects recovery could not finish this time, with why; retried on the next pass. */
  readonly failures: readonly { readonly id: string; readonly error: string }[];
}
