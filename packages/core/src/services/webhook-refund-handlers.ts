import type { Payment, Refund } from '../domain/entities.js';
import { canTransition } from '../domain/transitions.js';
import { InternalError, UnknownGatewayStateError } from '../errors.js';
import type { GatewayCharge, GatewayRefund } from '../ports/gateway-events.js';
import { applyObservation, observeIntent } from './payment-outcome.js';
import { setAmountRefunded } from './refund-ledger.js';
import {
  PROCESSED,
  WebhookEventTooEarlyError,
  fetchFirst,
  type HandlerContext,
  type HandlerResult,
} from './webhook-handler-context.js';
import { IN_FLIGHT } from './webhook-intent-handlers.js';
import { paymentOfIntentId } from './webhook-payment-lookup.js';

/*
 * `charge.refunded`, `refund.created | updated | failed` and `charge.refund.updated`. Effects are
 * idempotent by state (DESIGN.md §2.4): refunds are upserted by their Stripe id and moved forward only
 * by the refund state machine; the payment's `amount_refunded` is set from Stripe's running total on
 * the charge, never added up, and moves the payment `succeeded → partially_refunded → refunded` with
 * an event row carrying the change. Two events announcing one refund therefore apply it once, and two
 * refunds of one amount (both made in Stripe's dashboard) both count, because the total says so.
 *
 * The total rises with every report, and falls only with a refund's failure: when a refund Stripe had
 * counted fails or is canceled, Stripe gives its amount back and lowers the charge's total, and the
 * refund event that says so (with the charge fetched fresh) sets the payment's `amount_refunded` down
 * to it — `refunded → partially_refunded | succeeded` — so the amount is refundable again. Any other
 * report of a lower total is older than one already applied, and changes nothing.
 */

/** `charge.refunded`: the charge's snapshot carries Stripe's total at the time. */
export async function handleChargeRefunded(
  ctx: HandlerContext,
  charge: GatewayCharge,
): Promise<HandlerResult> {
  const lookup = await paymentOfIntentId(ctx, charge.stripePaymentIntentId);
  if (lookup.kind === 'answer') {
    return lookup.result;
  }
  const payment = await lockPayment(ctx, lookup.payment);
  // A total at or below pay's is a repeat, or older than a report already applied.
  if (charge.amountRefunded <= payment.amountRefunded) {
    return PROCESSED;
  }
  // Once pay has applied a refund's failure, a higher total may be a snapshot from before it (events
  // arrive out of order): raising to it would count the failed refund again, and no later event would
  // lower it. The charge is then read fresh, as refund events read it.
  const fresh = (await gaveBack(ctx, payment)) ? ctx.fetched.charges.get(charge.stripeChargeId) : charge;
  const intents = intentsNeeded(ctx, payment);
  if (fresh === undefined || intents.length > 0) {
    return fetchFirst({ intents, charges: fresh === undefined ? [charge.stripeChargeId] : [] });
  }
  return raiseAmountRefunded(ctx, payment, fresh.amountRefunded);
}

/** True when a refund of `payment` that Stripe had counted failed or was canceled, and pay applied it. */
async function gaveBack(ctx: HandlerContext, payment: Payment): Promise<boolean> {
  const refunds = await ctx.tx.refunds.listByPayment(payment.accountId, payment.id);
  return refunds.some((r) => r.stripeRefundId !== null && (r.status === 'failed' || r.status === 'canceled'));
}

/**
 * A refund event: the refund is upserted, and — because its object does not carry the charge's total —
 * the charge is fetched to set the payment's `amount_refunded`. A report that changes nothing (a repeat,
 * or older than the refund's status) fetches nothing.
 */
export async function handleRefundEvent(ctx: HandlerContext, refund: GatewayRefund): Promise<HandlerResult> {
  const lookup = await paymentOfIntentId(ctx, refund.stripePaymentIntentId);
  if (lookup.kind === 'answer') {
    return lookup.result;
  }
  const payment = await lockPayment(ctx, lookup.payment);
  const stored = await storedRefund(ctx, payment, refund);
  if (stored === 'conflict') {
    return { kind: 'ignored', reason: `refund ${refund.stripeRefundId} conflicts with pay's records` };
  }
  const change = refundChange(stored, refund);
  if (change === 'none') {
    return PROCESSED;
  }
  const chargeId = refund.stripeChargeId;
  const charges = chargeId !== null && !ctx.fetched.charges.has(chargeId) ? [chargeId] : [];
  const intents = intentsNeeded(ctx, payment);
  if (charges.length > 0 || intents.length > 0) {
    return fetchFirst({ intents, charges });
  }
  const written = await writeRefund(ctx, payment, stored, refund, change);
  const charge = chargeId === null ? undefined : ctx.fetched.charges.get(chargeId);
  if (charge === undefined || charge.amountRefunded === payment.amountRefunded) {
    return PROCESSED;
  }
  if (charge.amountRefunded > payment.amountRefunded) {
    return raiseAmountRefunded(ctx, payment, charge.amountRefunded);
  }
  if (written !== null && (refund.status === 'failed' || refund.status === 'canceled')) {
    return lowerAmountRefunded(ctx, payment, charge.amountRefunded, written);
  }
  logStaleTotal(ctx, payment, charge.amountRefunded);
  return PROCESSED;
}

/**
 * A refund Stripe had counted failed or was canceled: Stripe gave its amount back, and the charge
 * (fetched now, not a snapshot) carries the lower total. The payment follows it down by the state
 * machine; the event row names the refund that gave the amount back.
 */
async function lowerAmountRefunded(
  ctx: HandlerContext,
  payment: Payment,
  target: number,
  refund: Refund,
): Promise<HandlerResult> {
  const moved = await setAmountRefunded(ctx.tx, payment, target, {
    cause: { ...ctx.cause, refundId: refund.id },
    policy: ctx.refundSubscriptionPolicy,
    now: ctx.now,
  });
  if (moved === null) {
    throw new WebhookEventTooEarlyError(
      `Payment ${payment.id} changed while its refund's failure was applied.`,
      {
        context: { paymentId: payment.id, refundId: refund.id, stripeEventId: ctx.event.stripeEventId },
      },
    );
  }
  ctx.logger.info('a refund failed: its amount is refundable again', {
    paymentId: payment.id,
    refundId: refund.id,
    amountRefundedBefore: payment.amountRefunded,
    amountRefunded: moved.amountRefunded,
    stripeEventId: ctx.event.stripeEventId,
  });
  return PROCESSED;
}

async function lockPayment(ctx: HandlerContext, payment: Payment): Promise<Payment> {
  // The row lock serialises the workers that set one payment's total, so each reads the last one set.
  return (await ctx.tx.payments.lockById(payment.id)) ?? payment;
}

/** A refund on a payment still in flight means Stripe's intent succeeded: its state is fetched first. */
function intentsNeeded(ctx: HandlerContext, payment: Payment): string[] {
  const intentId = payment.stripePaymentIntentId;
  return intentId !== null && IN_FLIGHT.has(payment.status) && !ctx.fetched.intents.has(intentId)
    ? [intentId]
    : [];
}

/**
 * Sets the payment's `amount_refunded` to Stripe's `target` when that is more than pay has, bringing a
 * payment still in flight up to Stripe's intent first (a `charge.refunded` that overtook
 * `payment_intent.succeeded`).
 */
async function raiseAmountRefunded(
  ctx: HandlerContext,
  payment: Payment,
  target: number,
): Promise<HandlerResult> {
  let current = payment;
  if (IN_FLIGHT.has(current.status) && current.stripePaymentIntentId !== null) {
    const intent = ctx.fetched.intents.get(current.stripePaymentIntentId);
    if (intent === undefined) {
      throw new InternalError(`The intent of payment ${current.id} was not fetched before its refund.`);
    }
    current = await applyObservation(ctx.tx, current, observeIntent(intent), ctx.now, ctx.cause);
  }
  const context = { paymentId: current.id, status: current.status, stripeEventId: ctx.event.stripeEventId };
  if (IN_FLIGHT.has(current.status)) {
    throw new WebhookEventTooEarlyError(
      `Stripe reports a refund on payment ${current.id}, whose intent has not succeeded yet.`,
      { context },
    );
  }
  if (current.status === 'failed' || current.status === 'canceled') {
    throw new UnknownGatewayStateError(
      `Stripe reports a refund on payment ${current.id}, which pay recorded as ${current.status}.`,
      { context },
    );
  }
  if (target <= current.amountRefunded) {
    if (target < current.amountRefunded) {
      logStaleTotal(ctx, current, target);
    }
    return PROCESSED;
  }
  // A payment refunded in full takes its subscription along, by the configured policy.
  const moved = await setAmountRefunded(ctx.tx, current, target, {
    cause: ctx.cause,
    policy: ctx.refundSubscriptionPolicy,
    now: ctx.now,
  });
  if (moved === null) {
    throw new WebhookEventTooEarlyError(`Payment ${current.id} changed while its refund was applied.`, {
      context,
    });
  }
  return PROCESSED;
}

function logStaleTotal(ctx: HandlerContext, payment: Payment, stripeTotal: number): void {
  ctx.logger.info("a report of a lower refunded total with no refund failing: older than pay's, ignored", {
    paymentId: payment.id,
    amountRefunded: payment.amountRefunded,
    stripeAmountRefunded: stripeTotal,
    stripeEventId: ctx.event.stripeEventId,
  });
}

/**
 * The refund pay holds for Stripe's `refund`: by its Stripe id, else by pay's refund id from its
 * metadata. A refund pay made whose row is not there yet is too early; one recorded for another
 * payment or another Stripe refund is a conflict, logged and left alone. Reconciliation uses it too.
 */
export async function storedRefund(
  ctx: Pick<HandlerContext, 'tx' | 'logger'>,
  payment: Payment,
  refund: GatewayRefund,
): Promise<Refund | null | 'conflict'> {
  const context = { stripeRefundId: refund.stripeRefundId, refundId: refund.refundId, paymentId: payment.id };
  const byStripeId = await ctx.tx.refunds.findByStripeId(refund.stripeRefundId);
  let found = byStripeId;
  if (found === null && refund.refundId !== null) {
    found = await ctx.tx.refunds.findById(payment.accountId, refund.refundId);
    if (found === null) {
      throw new WebhookEventTooEarlyError(`Refund ${refund.refundId} is not recorded yet.`, { context });
    }
  }
  if (
    found !== null &&
    (found.paymentId !== payment.id ||
      (found.stripeRefundId !== null && found.stripeRefundId !== refund.stripeRefundId))
  ) {
    ctx.logger.warn('webhook refund conflicts with the refund pay recorded', {
      ...context,
      recordedPaymentId: found.paymentId,
      recordedStripeRefundId: found.stripeRefundId,
    });
    return 'conflict';
  }
  return found;
}

/** What upserting Stripe's refund does to pay's row: create it, move it forward, record its Stripe id, nothing. */
export type RefundChange = 'create' | 'move' | 'link' | 'none';

export function refundChange(stored: Refund | null, refund: GatewayRefund): RefundChange {
  if (stored === null) {
    return 'create';
  }
  if (stored.status !== refund.status && canTransition('refund', stored.status, refund.status)) {
    return 'move';
  }
  return stored.stripeRefundId === null ? 'link' : 'none';
}

/**
 * Upserts Stripe's `refund` into pay's row as `change` says, through the refund state machine with `ctx.cause`
 * (a webhook's event, or reconciliation's job). Returns the row moved, or null when only its Stripe id was
 * recorded.
 */
export async function writeRefund(
  ctx: Pick<HandlerContext, 'tx' | 'cause'>,
  payment: Payment,
  stored: Refund | null,
  refund: GatewayRefund,
  change: Exclude<RefundChange, 'none'>,
): Promise<Refund | null> {
  const { tx, cause } = ctx;
  if (change === 'link' && stored !== null) {
    if ((await tx.refunds.setStripeRefundId(stored.id, refund.stripeRefundId)) === null) {
      throw new WebhookEventTooEarlyError(`Refund ${stored.id} changed while its Stripe id was recorded.`);
    }
    return null;
  }
  let current = stored;
  if (current === null) {
    // Only a refund made in Stripe's dashboard gets here: pay's own refunds exist before Stripe's.
    current = await tx.refunds.create(
      {
        accountId: payment.accountId,
        paymentId: payment.id,
        amount: refund.amount,
        currency: refund.currency,
        status: refund.status === 'succeeded' ? 'succeeded' : 'pending',
        origin: 'stripe',
        reason: refund.reason,
        stripeRefundId: refund.stripeRefundId,
      },
      cause,
    );
    if (current.status === refund.status) {
      return current;
    }
  }
  const moved = await tx.refunds.transition(
    current.id,
    {
      from: current.status,
      to: refund.status,
      amount: refund.status === 'succeeded' ? refund.amount : 0,
      patch: {
        ...(current.stripeRefundId === null ? { stripeRefundId: refund.stripeRefundId } : {}),
        ...(refund.status === 'failed' ? { failureReason: refund.failureReason } : {}),
      },
    },
    cause,
  );
  if (moved === null) {
    throw new WebhookEventTooEarlyError(`Refund ${current.id} changed while this event was applied.`);
  }
  return moved;
}
