import type { Payment, Plan, Subscription } from '../domain/entities.js';
import type { AccountId, SubscriptionId } from '../ids.js';

/*
 * The contract between the subscription services and their callers (the API's subscription routes,
 * `pay subscription-info`, the worker's renewal scheduler). Refusals are typed errors:
 * - ValidationError (400), NotFoundError (404: not in the caller's account),
 * - InvalidStateError (409, code `invalid_state`): an illegal change — cancelling an expired or
 *   canceled subscription, resuming one that has no pending cancellation, changing the card of an
 *   ended one. Nothing is written.
 * - IdempotencyKeyInUseError (409) / IdempotencyKeyReusedError (422) as for payments.
 * - DependencyUnavailableError (503): Stripe did not answer (changing the card attaches it at Stripe).
 */

/** A subscription as callers see it. */
export interface SubscriptionView {
  /** The subscription row as stored. */
  readonly subscription: Subscription;
  /** The caller's opaque id of its end user. */
  readonly userId: string;
  /** The plan it bills for: the amount, currency and interval of every renewal. */
  readonly plan: Plan;
  /** The card renewals are charged to: what identifies it to people, never its number. */
  readonly card: { readonly brand: string; readonly last4: string } | null;
  /** The subscription's latest payments (first payment, renewals, dunning retries), newest first, at most 5. */
  readonly recentPayments: readonly Payment[];
}

/** What a subscription request led to. */
export interface SubscriptionChange {
  /** The subscription after the change (or, for a replay, as the first request left it). */
  readonly view: SubscriptionView;
  /** True when answered from the result stored for this idempotency key by an earlier request. */
  readonly replayed: boolean;
}

/** A request to cancel a subscription, as it reached {@link SubscriptionService}. */
export interface CancelSubscriptionInput {
  /** The caller's account: a subscription of another account is not found. */
  readonly accountId: AccountId;
  /** A `subs_` id, unchecked: a malformed one is not found. */
  readonly subscriptionId: string;
  /** true: no further renewal, `canceled` when the period ends (undo with resume); false: `canceled` now. */
  readonly atPeriodEnd: boolean;
}

/** A request to undo a pending cancellation at period end, as it reached {@link SubscriptionService}. */
export interface ResumeSubscriptionInput {
  /** The caller's account: a subscription of another account is not found. */
  readonly accountId: AccountId;
  /** A `subs_` id, unchecked: a malformed one is not found. */
  readonly subscriptionId: string;
}

/** A request to charge a subscription's renewals to another card; a `past_due` one is retried at once. */
export interface ChangePaymentMethodInput {
  /** The caller's account: a subscription of another account is not found. */
  readonly accountId: AccountId;
  /** A `subs_` id, unchecked: a malformed one is not found. */
  readonly subscriptionId: string;
  /** A Stripe PaymentMethod id (`pm_…`) or a test token (`pm_card_visa`). Never a card number. */
  readonly paymentMethodId: string;
}

/**
 * The dunning schedule: after the first failed renewal of a period, retry at each of these offsets
 * (milliseconds after that first failure); when the last retry fails too, the subscription is `expired`.
 */
export type DunningSchedule = readonly number[];

const DAY_MS = 24 * 60 * 60 * 1000;

/** Four retries over two weeks (days 1, 3, 7 and 14 after the first failure), after Stripe's advice. */
export const DEFAULT_DUNNING_SCHEDULE: DunningSchedule = Object.freeze([1, 3, 7, 14].map((d) => d * DAY_MS));

/** An `incomplete` subscription whose first payment is still unfinished this long after it began expires (Stripe: 23 h). */
export const INCOMPLETE_EXPIRY_MS = 23 * 60 * 60 * 1000;

/** What one renewal of one subscription did. */
export type RenewalOutcome =
  /** The period was paid: the subscription moved to the next period (and back to `active`). */
  | { readonly kind: 'renewed'; readonly subscriptionId: SubscriptionId; readonly paymentId: Payment['id'] }
  /** The charge failed (declined, or the card needs authentication off-session): `past_due` until the next retry. */
  | {
      readonly kind: 'past_due';
      readonly subscriptionId: SubscriptionId;
      readonly paymentId: Payment['id'];
      readonly nextRetryAt: Date;
    }
  /** The last retry failed, or an `incomplete` subscription passed its deadline. */
  | {
      readonly kind: 'expired';
      readonly subscriptionId: SubscriptionId;
      readonly paymentId: Payment['id'] | null;
    }
  /** A cancellation at period end took effect. */
  | { readonly kind: 'canceled'; readonly subscriptionId: SubscriptionId }
  /** The charge's outcome is not known yet (processing, Stripe did not answer, another scheduler has it). */
  | {
      readonly kind: 'waiting';
      readonly subscriptionId: SubscriptionId;
      readonly paymentId: Payment['id'] | null;
    }
  /** Nothing was due after all (another scheduler got there first). */
  | { readonly kind: 'not_due'; readonly subscriptionId: SubscriptionId };

/** One pass of the renewal scheduler. */
export interface RenewalReport {
  /** Renewal charges sent to Stripe this pass (first tries and dunning retries). */
  readonly attempted: number;
  /** Subscriptions moved to their next period this pass. */
  readonly renewed: number;
  /** Charges that failed this pass (each moved its subscription to, or kept it in, `past_due`, or expired it). */
  readonly failed: number;
  /**
   * Subscriptions expired this pass: out of dunning retries, or `incomplete` past
   * {@link INCOMPLETE_EXPIRY_MS}.
   */
  readonly expired: number;
  /** Cancellations at period end that took effect this pass. */
  readonly canceled: number;
  /** Renewals whose charge has no outcome yet; a later pass settles them without charging again. */
  readonly waiting: number;
  /**
   * Subscriptions whose renewal could not run this pass (Stripe unreachable, a bug), with why; retried on the
   * next.
   */
  readonly failures: readonly { readonly id: string; readonly error: string }[];
}
