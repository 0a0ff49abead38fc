import { addInterval } from '../domain/billing-period.js';
import type { Cause, Payment, PaymentMethod } from '../domain/entities.js';
import type { PaymentStatus } from '../domain/statuses.js';
import { canTransition } from '../domain/transitions.js';
import { InternalError, UnknownGatewayStateError, assertNever } from '../errors.js';
import type { ConfirmOutcome, GatewayDecline, GatewayIntent } from '../ports/gateway.js';
import type { PaymentPatch, Repositories } from '../ports/repositories.js';
import type { PaymentResult, PaymentView } from './payment-results.js';

/*
 * Recording what Stripe said about a payment: one compare-and-set transition of the payment (with its
 * event row), the subscription it starts moved to match, and the result a caller branches on. The
 * request, its retries, the 3-D Secure return, webhooks and the recovery job may all learn the same
 * outcome; whichever records it first wins and the others read the row it left.
 */

/** What Stripe said about a payment, in pay's words. `pending`: created and not yet confirmed. */
export type Observation =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'processing' }
  | { readonly kind: 'requires_action'; readonly redirectUrl: string | null }
  | { readonly kind: 'declined'; readonly decline: GatewayDecline }
  | { readonly kind: 'canceled' }
  | {
      readonly kind: 'rejected';
      readonly gatewayCode: string | null;
      readonly message: string;
      readonly param?: string;
    }
  | { readonly kind: 'pending' };

/** Stripe's `canceled` (or pay's abandoning of a payment no charge can exist for) as failure fields. */
export const CANCELED_FAILURE = {
  failureCode: 'payment_canceled',
  failureMessage: 'The payment was canceled before it completed; no money was taken.',
} as const;

/** The observation a confirmation's answer makes. */
export function observeConfirmation(outcome: ConfirmOutcome): Observation {
  switch (outcome.kind) {
    case 'succeeded':
    case 'processing':
    case 'canceled':
      return { kind: outcome.kind };
    case 'requires_action':
      return { kind: 'requires_action', redirectUrl: outcome.redirectUrl };
    case 'declined':
      return { kind: 'declined', decline: outcome.decline };
    default:
      return assertNever(outcome, 'confirm outcome');
  }
}

/** The observation an intent's snapshot makes (a retrieve, a lookup, a cancel). */
export function observeIntent(intent: GatewayIntent): Observation {
  switch (intent.status) {
    case 'pending':
    case 'succeeded':
    case 'processing':
    case 'canceled':
      return { kind: intent.status };
    case 'requires_action':
      return { kind: 'requires_action', redirectUrl: intent.redirectUrl };
    case 'failed':
      if (intent.failure === null) {
        throw new UnknownGatewayStateError(
          `PaymentIntent ${intent.stripePaymentIntentId} failed without a reason.`,
          { context: { stripePaymentIntentId: intent.stripePaymentIntentId } },
        );
      }
      return { kind: 'declined', decline: intent.failure };
    default:
      return assertNever(intent.status, 'gateway intent status');
  }
}

const REFUND_SIDE: ReadonlySet<PaymentStatus> = new Set(['succeeded', 'partially_refunded', 'refunded']);

interface Move {
  readonly to: PaymentStatus;
  readonly amount: number;
  readonly patch: PaymentPatch;
}

function moveFor(payment: Payment, observation: Observation): Move | null {
  switch (observation.kind) {
    case 'pending':
      return null;
    case 'succeeded':
      return { to: 'succeeded', amount: payment.amount, patch: { nextActionUrl: null } };
    case 'processing':
      return { to: 'processing', amount: 0, patch: { nextActionUrl: null } };
    case 'requires_action':
      return {
        to: 'requires_action',
        amount: 0,
        patch: observation.redirectUrl === null ? {} : { nextActionUrl: observation.redirectUrl },
      };
    case 'declined':
      return {
        to: 'failed',
        amount: 0,
        patch: {
          failureCode: observation.decline.code,
          declineCode: observation.decline.declineCode,
          failureMessage: observation.decline.message,
          nextActionUrl: null,
        },
      };
    case 'canceled':
      return { to: 'canceled', amount: 0, patch: { ...CANCELED_FAILURE, nextActionUrl: null } };
    case 'rejected':
      return {
        to: 'failed',
        amount: 0,
        patch: {
          failureCode: observation.gatewayCode ?? 'invalid_request',
          declineCode: null,
          failureMessage: observation.message,
          nextActionUrl: null,
        },
      };
    default:
      return assertNever(observation, 'observation');
  }
}

/**
 * How current the caller's copy of a payment is: `read_in_this_transaction` (as current as reading it
 * again), `recent` (written or read by the caller before this transaction: tried as it is, read again
 * when it turns out to have moved). Without one, the copy is read again first.
 */
export type PaymentCopy = 'read_in_this_transaction' | 'recent';

/**
 * Applies what Stripe said to the payment, inside `tx`, and returns the payment as it now is. The move
 * is a compare-and-set from the status just read: when another writer moved the payment first (null),
 * or the move would go backward (a late `processing` after `succeeded`), the row is left as it is.
 * The payment's first-payment subscription is then brought in line with the payment's status.
 */
export async function applyObservation(
  tx: Repositories,
  payment: Payment,
  observation: Observation,
  now: Date,
  cause: Cause,
  options: { readonly copy?: PaymentCopy } = {},
): Promise<Payment> {
  const reread = async (fallback: Payment): Promise<Payment> =>
    (await tx.payments.findById(payment.accountId, payment.id)) ?? fallback;
  let current = options.copy === undefined ? await reread(payment) : payment;
  // A `recent` copy is tried as it is; if it needs no move or its compare-and-set misses, the row is
  // read and the move decided again, exactly as if it had been read first.
  let fresh = options.copy !== 'recent';
  for (;;) {
    const move = moveFor(current, observation);
    // A captured payment moves only with its refunds (the state machine lets refunded go back to
    // succeeded when a refund fails): a late `payment_intent.succeeded` must not take it there.
    const captured = REFUND_SIDE.has(current.status);
    const applies =
      move !== null &&
      !captured &&
      move.to !== current.status &&
      canTransition('payment', current.status, move.to);
    if (applies) {
      const moved = await tx.payments.transition(
        current.id,
        { from: current.status, to: move.to, amount: move.amount, patch: move.patch },
        cause,
      );
      if (moved !== null) {
        current = moved;
        break;
      }
    }
    if (fresh && !applies) {
      break;
    }
    current = await reread(current);
    if (fresh) {
      break;
    }
    fresh = true;
  }
  await settleSubscription(tx, current, now, cause);
  return current;
}

/**
 * Moves the subscription a first payment starts to match the payment: `incomplete → active` (its
 * period starting now) once the payment succeeded, `incomplete → expired` once it failed or was
 * canceled. Idempotent by state: a subscription no longer `incomplete` is left alone.
 */
export async function settleSubscription(
  tx: Repositories,
  payment: Payment,
  now: Date,
  cause: Cause,
): Promise<void> {
  if (payment.subscriptionId === null || payment.billingReason !== 'subscription_create') {
    return;
  }
  const found = await tx.subscriptions.findWithPlan(payment.accountId, payment.subscriptionId);
  if (found === null || found.subscription.status !== 'incomplete') {
    return;
  }
  const { subscription, plan } = found;
  if (
    payment.status === 'succeeded' ||
    payment.status === 'partially_refunded' ||
    payment.status === 'refunded'
  ) {
    const end = addInterval(now, plan.interval);
    await tx.subscriptions.transition(
      subscription.id,
      {
        from: 'incomplete',
        to: 'active',
        patch: {
          currentPeriodStart: now,
          currentPeriodEnd: end,
          nextBillingAt: end,
          paymentMethodId: payment.paymentMethodId,
        },
      },
      cause,
    );
  } else if (payment.status === 'failed' || payment.status === 'canceled') {
    await tx.subscriptions.transition(
      subscription.id,
      { from: 'incomplete', to: 'expired', patch: { endedAt: now } },
      cause,
    );
  }
}

/** The view of a payment: the row, its user's id and what identifies its card. */
export function viewOf(payment: Payment, userId: string, card: PaymentMethod | null): PaymentView {
  return { payment, userId, card: card === null ? null : { brand: card.brand, last4: card.last4 } };
}

/**
 * The result a caller branches on for a payment in `view`. `rejection` (Stripe refused the request
 * itself) makes a `failed` payment a `rejected` result; otherwise a failed or canceled payment is
 * `declined`, with Stripe's codes from the row. A payment still `pending` has no result yet.
 */
export function resultOf(
  view: PaymentView,
  extra: {
    readonly rejection?:
      | { readonly observation: Extract<Observation, { kind: 'rejected' }>; readonly requestId: string }
      | undefined;
    /** Stripe's 3-D Secure page when the row has none (a challenge a webhook recorded first). */
    readonly redirectUrl?: string | null;
  } = {},
): PaymentResult {
  const payment = view.payment;
  const rejection = extra.rejection;
  switch (payment.status) {
    case 'succeeded':
    case 'partially_refunded':
    case 'refunded':
      return { kind: 'succeeded', view };
    case 'processing':
      return { kind: 'processing', view };
    case 'requires_action': {
      const redirectUrl = payment.nextActionUrl ?? extra.redirectUrl ?? null;
      if (redirectUrl === null) {
        throw new UnknownGatewayStateError(
          `Stripe asked for 3-D Secure on payment ${payment.id} without a page to send the card holder to.`,
          { context: { paymentId: payment.id, stripePaymentIntentId: payment.stripePaymentIntentId } },
        );
      }
      return { kind: 'requires_action', view, redirectUrl };
    }
    case 'failed':
      if (rejection !== undefined) {
        const { observation, requestId } = rejection;
        return {
          kind: 'rejected',
          view,
          error: {
            code: 'invalid_request',
            message: observation.message,
            ...(observation.param === undefined ? {} : { param: observation.param }),
          },
          requestId,
        };
      }
      return { kind: 'declined', view, decline: declineOf(payment) };
    case 'canceled':
      return { kind: 'declined', view, decline: declineOf(payment) };
    case 'pending':
      throw new InternalError(`Payment ${payment.id} is still pending: it has no result yet.`);
    default:
      return assertNever(payment.status, 'payment status');
  }
}

function declineOf(payment: Payment): GatewayDecline {
  return {
    code:
      payment.failureCode ?? (payment.status === 'canceled' ? CANCELED_FAILURE.failureCode : 'card_declined'),
    declineCode: payment.declineCode,
    message:
      payment.failureMessage ??
      (payment.status === 'canceled' ? CANCELED_FAILURE.failureMessage : 'The payment failed.'),
  };
}

/** The HTTP status the API answers a result with, also stored on the key: 201 succeeded/processing/requires_action, 402 declined, 400 rejected. */
export function paymentResultStatus(result: PaymentResult): 201 | 402 | 400 {
  switch (result.kind) {
    case 'succeeded':
    case 'processing':
    case 'requires_action':
      return 201;
    case 'declined':
      return 402;
    case 'rejected':
      return 400;
    default:
      return assertNever(result, 'payment result');
  }
}
