import type { Cause, Payment } from '../domain/entities.js';
import { canTransition } from '../domain/transitions.js';
import { InternalError } from '../errors.js';
import type { GatewayIntent, PaymentGateway } from '../ports/gateway.js';
import type { GatewayEvents, GatewayRefund } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { ReconcileGateway } from '../ports/reconcile-gateway.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import { applyObservation, observeIntent } from './payment-outcome.js';
import type { DriftItem } from './reconcile-results.js';
import { CAPTURED_PAYMENT_STATUSES, setAmountRefunded } from './refund-ledger.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';
import { refundChange, storedRefund, writeRefund } from './webhook-refund-handlers.js';

/** The Stripe calls reconciliation makes. */
export type ReconcileServiceGateway = Pick<PaymentGateway, 'retrieveIntent' | 'cancelIntent'> &
  Pick<GatewayEvents, 'retrieveCharge'> &
  ReconcileGateway;

/** What comparing one object needs. */
export interface ReconcileContext {
  readonly store: Store;
  readonly gateway: ReconcileServiceGateway;
  readonly logger: Logger;
  readonly refundSubscriptionPolicy: RefundSubscriptionPolicy;
  readonly now: Date;
  readonly fix: boolean;
  /** Every repair's event rows carry it: `{ job: 'reconcile' }`. */
  readonly cause: Cause;
}

const captured = (payment: Payment): boolean => CAPTURED_PAYMENT_STATUSES.includes(payment.status);

/** Stripe's side of one payment, read before any transaction opens (STYLE.md R7). */
interface StripeSide {
  readonly intent: GatewayIntent;
  /** The intent's refunds, listed only once it succeeded. */
  readonly refunds: readonly GatewayRefund[];
  /** The charge's running `amount_refunded`: 0 without refunds, else the charge's own total. */
  readonly amountRefunded: number;
}

async function readStripeSide(ctx: ReconcileContext, intent: GatewayIntent): Promise<StripeSide> {
  if (intent.status !== 'succeeded') {
    return { intent, refunds: [], amountRefunded: 0 };
  }
  const refunds = await ctx.gateway.listRefundsOfIntent(intent.stripePaymentIntentId);
  const chargeId = refunds.find((r) => r.stripeChargeId !== null)?.stripeChargeId ?? null;
  // A charge without refunds has refunded nothing: no call needed to know it.
  const amountRefunded = chargeId === null ? 0 : (await ctx.gateway.retrieveCharge(chargeId)).amountRefunded;
  return { intent, refunds, amountRefunded };
}

/**
 * Compares one payment and its refunds with its intent at Stripe (`intent`, already listed, or
 * retrieved here) and, with `fix`, repairs in this order, each in its own short transaction under the
 * payment's row lock: the payment's status (by `applyObservation`, as recovery does), its refunds
 * (upserted as the refund webhooks do), then its `amountRefunded` (by `setAmountRefunded`, to the
 * charge's total). Returns the drift found, fixed or not.
 */
export async function reconcilePayment(
  ctx: ReconcileContext,
  payment: Payment,
  listed: GatewayIntent | undefined,
): Promise<DriftItem[]> {
  const intentId = payment.stripePaymentIntentId;
  if (intentId === null) {
    return [];
  }
  const intent = listed ?? (await ctx.gateway.retrieveIntent(intentId));
  const stripe = await readStripeSide(ctx, intent);
  const items: DriftItem[] = [];
  let current = payment;

  const status = await reconcileStatus(ctx, current, intent);
  if (status !== null) {
    items.push(status.item);
    current = status.payment;
  }
  if (intent.status !== 'succeeded' || !captured(current)) {
    return items;
  }
  for (const refund of stripe.refunds) {
    const item = await reconcileRefund(ctx, current, refund);
    if (item !== null) {
      items.push(item);
    }
  }
  items.push(...(await reconcileOrphanRows(ctx, current, stripe.refunds)));
  const amount = await reconcileAmountRefunded(ctx, current, stripe.amountRefunded);
  if (amount !== null) {
    items.push(amount);
  }
  return items;
}

/** True when pay's status says what the intent's does (a captured payment for a succeeded intent). */
function statusAgrees(payment: Payment, intent: GatewayIntent): boolean {
  return captured(payment) ? intent.status === 'succeeded' : payment.status === intent.status;
}

async function reconcileStatus(
  ctx: ReconcileContext,
  payment: Payment,
  intent: GatewayIntent,
): Promise<{ item: DriftItem; payment: Payment } | null> {
  if (statusAgrees(payment, intent)) {
    return null;
  }
  const base = {
    kind: 'payment_status',
    objectId: payment.id,
    stripeId: intent.stripePaymentIntentId,
    pay: payment.status,
    stripe: intent.status,
  } as const;
  // A captured payment moves only with its refunds, and a final one never: a person must look.
  if (captured(payment) || !canTransition('payment', payment.status, intent.status)) {
    const note = `the payment state machine does not move a payment from ${payment.status} to ${intent.status}`;
    ctx.logger.warn('reconcile: a payment differs from Stripe in a way pay must not repair', {
      paymentId: payment.id,
      status: payment.status,
      stripePaymentIntentId: intent.stripePaymentIntentId,
      stripeStatus: intent.status,
    });
    return { item: { ...base, fixed: false, unfixable: true, note }, payment };
  }
  if (!ctx.fix) {
    return { item: { ...base, fixed: false, unfixable: false, note: null }, payment };
  }
  const observation = observeIntent(intent);
  const moved = await ctx.store.transaction(async (tx) => {
    const locked = (await tx.payments.lockById(payment.id)) ?? payment;
    return applyObservation(tx, locked, observation, ctx.now, ctx.cause);
  });
  const fixed = statusAgrees(moved, intent);
  return {
    item: { ...base, fixed, unfixable: false, note: fixed ? null : `the payment is ${moved.status} now` },
    payment: moved,
  };
}

/** One Stripe refund of the payment against pay's rows: missing, of another status, or not linked. */
async function reconcileRefund(
  ctx: ReconcileContext,
  payment: Payment,
  refund: GatewayRefund,
): Promise<DriftItem | null> {
  const compare = async (tx: Repositories) => {
    const stored = await storedRefund({ tx, logger: ctx.logger }, payment, refund);
    return { stored, change: stored === 'conflict' ? ('none' as const) : refundChange(stored, refund) };
  };
  const { stored, change } = await compare(ctx.store.repos);
  if (stored === 'conflict') {
    return {
      kind: 'refund_status',
      objectId: null,
      stripeId: refund.stripeRefundId,
      pay: null,
      stripe: refund.status,
      fixed: false,
      unfixable: true,
      note: 'pay recorded this Stripe refund for another payment, or another Stripe refund for its row',
    };
  }
  if (stored !== null && stored.status !== refund.status && change === 'none') {
    return {
      kind: 'refund_status',
      objectId: stored.id,
      stripeId: refund.stripeRefundId,
      pay: stored.status,
      stripe: refund.status,
      fixed: false,
      unfixable: true,
      note: `the refund state machine does not move a refund from ${stored.status} to ${refund.status}`,
    };
  }
  if (change === 'none') {
    return null;
  }
  const base: Omit<DriftItem, 'fixed' | 'unfixable' | 'note'> =
    stored === null
      ? {
          kind: 'missing_refund',
          objectId: null,
          stripeId: refund.stripeRefundId,
          pay: null,
          stripe: refund.amount,
        }
      : {
          kind: 'refund_status',
          objectId: stored.id,
          stripeId: refund.stripeRefundId,
          pay: stored.status,
          stripe: refund.status,
        };
  const linkNote = change === 'link' ? "pay had not recorded the Stripe refund's id" : null;
  if (!ctx.fix) {
    return { ...base, fixed: false, unfixable: false, note: linkNote };
  }
  const written = await ctx.store.transaction(async (tx) => {
    // The payment's row lock serialises this with the refund webhooks and the refund flow.
    await tx.payments.lockById(payment.id);
    const again = await compare(tx);
    if (again.stored === 'conflict' || again.change === 'none') {
      return again.stored === 'conflict' ? null : again.stored;
    }
    return (
      (await writeRefund({ tx, cause: ctx.cause }, payment, again.stored, refund, again.change)) ??
      again.stored
    );
  });
  return {
    ...base,
    ...(base.objectId === null && written !== null ? { objectId: written.id } : {}),
    fixed: written !== null,
    unfixable: false,
    note: linkNote,
  };
}

/** pay's refund rows naming a Stripe refund that Stripe does not list for the intent: for a person. */
async function reconcileOrphanRows(
  ctx: ReconcileContext,
  payment: Payment,
  refunds: readonly GatewayRefund[],
): Promise<DriftItem[]> {
  const known = new Set(refunds.map((r) => r.stripeRefundId));
  const rows = await ctx.store.repos.refunds.listByPayment(payment.accountId, payment.id);
  return rows
    .filter((row) => row.stripeRefundId !== null && !known.has(row.stripeRefundId))
    .map((row) => ({
      kind: 'refund_status' as const,
      objectId: row.id,
      stripeId: row.stripeRefundId ?? '',
      pay: row.status,
      stripe: null,
      fixed: false,
      unfixable: true,
      note: "Stripe lists no such refund of the payment's intent",
    }));
}

async function reconcileAmountRefunded(
  ctx: ReconcileContext,
  payment: Payment,
  stripeTotal: number,
): Promise<DriftItem | null> {
  const current = (await ctx.store.repos.payments.findById(payment.accountId, payment.id)) ?? payment;
  if (current.amountRefunded === stripeTotal) {
    return null;
  }
  const base = {
    kind: 'amount_refunded',
    objectId: current.id,
    stripeId: current.stripePaymentIntentId ?? '',
    pay: current.amountRefunded,
    stripe: stripeTotal,
  } as const;
  if (stripeTotal > current.amount || stripeTotal < 0) {
    return { ...base, fixed: false, unfixable: true, note: "Stripe's total is outside the payment's amount" };
  }
  if (!ctx.fix) {
    return { ...base, fixed: false, unfixable: false, note: null };
  }
  const moved = await ctx.store.transaction(async (tx) => {
    const locked = await tx.payments.lockById(current.id);
    if (locked === null) {
      throw new InternalError(`Payment ${current.id} disappeared while it was reconciled.`);
    }
    // A full refund takes the payment's subscription along by the configured policy, as a webhook would.
    return setAmountRefunded(tx, locked, stripeTotal, {
      cause: ctx.cause,
      policy: ctx.refundSubscriptionPolicy,
      now: ctx.now,
    });
  });
  const fixed = moved !== null && moved.amountRefunded === stripeTotal;
  return { ...base, fixed, unfixable: false, note: fixed ? null : 'the payment moved meanwhile; rerun' };
}
