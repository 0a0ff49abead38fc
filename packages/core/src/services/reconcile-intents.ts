import type { Payment } from '../domain/entities.js';
import { InvalidStateError } from '../errors.js';
import type { GatewayIntent } from '../ports/gateway.js';
import { applyObservation, observeIntent } from './payment-outcome.js';
import type { ReconcileContext } from './reconcile-payment.js';
import type { DriftItem } from './reconcile-results.js';

const IN_FLIGHT: ReadonlySet<Payment['status']> = new Set(['pending', 'requires_action', 'processing']);

/** The Stripe key of reconciliation's cancel of an orphan intent: one per intent, so a rerun replays it. */
export function orphanCancelKey(stripePaymentIntentId: string): string {
  return `pay:reconcile:${stripePaymentIntentId}:cancel_intent`;
}

/**
 * An intent carrying pay's metadata that no payment records. Three cases:
 * - its payment is still in flight and has recorded no intent (a create whose answer was lost): the
 *   intent is recorded on it and its status applied, as recovery does past the key window — the flow's
 *   own retry gets the same intent from Stripe's idempotency, so recording it early changes nothing;
 * - pay has no such payment, or the payment records another intent (or gave up): an orphan. One that has
 *   not moved money is canceled at Stripe; a canceled one is no drift at all. A succeeded one is
 *   reported, never "fixed": money moved for a payment pay never recorded, which a person must resolve
 *   (refund it in Stripe). A processing one cannot be canceled until it settles.
 * Returns null when there is nothing to report.
 */
export async function reconcileUnrecordedIntent(
  ctx: ReconcileContext,
  intent: GatewayIntent,
): Promise<DriftItem | null> {
  const paymentId = intent.paymentId;
  if (paymentId === null) {
    return null;
  }
  const payment = await ctx.store.repos.payments.findByIdAcrossAccounts(paymentId);
  if (payment !== null && payment.stripePaymentIntentId === null && IN_FLIGHT.has(payment.status)) {
    return recordIntent(ctx, payment, intent);
  }
  if (intent.status === 'canceled') {
    return null;
  }
  const base = {
    kind: 'orphan_intent',
    objectId: payment?.id ?? null,
    stripeId: intent.stripePaymentIntentId,
    pay: payment === null ? null : (payment.stripePaymentIntentId ?? payment.status),
    stripe: intent.status,
  } as const;
  const whose =
    payment === null
      ? `pay has no payment ${paymentId}`
      : `payment ${paymentId} records ${payment.stripePaymentIntentId ?? 'no intent'} (${payment.status})`;
  if (intent.status === 'succeeded') {
    return {
      ...base,
      fixed: false,
      unfixable: true,
      note: `money moved for a payment pay never recorded (${whose}): refund it in Stripe or record it by hand`,
    };
  }
  if (intent.status === 'processing') {
    return {
      ...base,
      fixed: false,
      unfixable: true,
      note: `${whose}; the intent is processing and cannot be canceled until it settles`,
    };
  }
  if (!ctx.fix) {
    return { ...base, fixed: false, unfixable: false, note: whose };
  }
  try {
    const canceled = await ctx.gateway.cancelIntent({
      stripePaymentIntentId: intent.stripePaymentIntentId,
      idempotencyKey: orphanCancelKey(intent.stripePaymentIntentId),
    });
    return { ...base, fixed: canceled.status === 'canceled', unfixable: false, note: `${whose}; canceled` };
  } catch (error) {
    if (!(error instanceof InvalidStateError)) {
      throw error;
    }
    // It was confirmed meanwhile: report what it is now.
    const now = await ctx.gateway.retrieveIntent(intent.stripePaymentIntentId);
    return {
      ...base,
      stripe: now.status,
      fixed: false,
      unfixable: true,
      note: `${whose}; it became ${now.status} before it could be canceled`,
    };
  }
}

async function recordIntent(
  ctx: ReconcileContext,
  payment: Payment,
  intent: GatewayIntent,
): Promise<DriftItem> {
  const base = {
    kind: 'orphan_intent',
    objectId: payment.id,
    stripeId: intent.stripePaymentIntentId,
    pay: null,
    stripe: intent.status,
  } as const;
  const note = 'the payment had not recorded its intent';
  if (!ctx.fix) {
    return { ...base, fixed: false, unfixable: false, note };
  }
  const observation = observeIntent(intent);
  const recorded = await ctx.store.transaction(async (tx) => {
    // Under the row lock where the flow records an intent's id, so the two cannot both record one.
    const locked = await tx.payments.lockById(payment.id);
    if (locked === null || locked.stripePaymentIntentId !== null) {
      return locked;
    }
    const linked = await tx.payments.setStripeIntentId(payment.id, intent.stripePaymentIntentId);
    return linked === null ? null : applyObservation(tx, linked, observation, ctx.now, ctx.cause);
  });
  const fixed = recorded?.stripePaymentIntentId === intent.stripePaymentIntentId;
  return {
    ...base,
    fixed,
    unfixable: false,
    note: fixed ? `${note}; recorded` : `${note}; another was recorded`,
  };
}
