import { InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { previousAttributes } from '../objects/event.js';
import { newBalanceTransaction } from '../objects/ledger-objects.js';
import { newRefund, type RefundObject } from '../objects/refund.js';
import type { ChargeRecord } from '../store/account.js';
import { listObject, PAGE_PARAMS, parsePage, parseRange } from '../store/list.js';
import { formatMoney } from '../wire/money.js';
import { applyMetadata, EMPTY_METADATA } from '../wire/params.js';
import { findCharge } from './charges.js';
import type { ExecContext } from './context.js';
import { saveIntent } from './payment-intent-charge.js';
import { findIntent } from './payment-intents.js';
import { asyncRefundOf, scheduleRefundSettlement } from './refund-settlement.js';
import type { RouteSpec } from './router.js';

/** The charge a refund targets: the one named, or the intent's `latest_charge` (SANDBOX.md §4.5). */
function refundTarget(
  ctx: ExecContext,
  chargeId: string | undefined,
  intentId: string | undefined,
): ChargeRecord {
  if (intentId !== undefined) {
    const intent = findIntent(ctx, intentId).object;
    if (!['succeeded', 'requires_capture'].includes(intent.status) || intent.latest_charge === null) {
      throw new InvalidRequestError(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund (status: ${intent.status}).`,
        { param: 'payment_intent' },
      );
    }
    if (chargeId !== undefined && chargeId !== intent.latest_charge) {
      throw new InvalidRequestError(
        `The charge ${chargeId} does not belong to the PaymentIntent ${intent.id}.`,
        {
          param: 'charge',
        },
      );
    }
    return findCharge(ctx, intent.latest_charge, 'payment_intent');
  }
  return findCharge(ctx, chargeId ?? '');
}

/**
 * Refunds part or all of what remains on a charge. Handlers run one at a time, so concurrent refunds on
 * one charge are serialised and their sum never exceeds what was captured (pay's invariant 6).
 */
function refundCharge(
  ctx: ExecContext,
  target: ChargeRecord,
  requested: number | undefined,
  reason: RefundObject['reason'],
  metadata: Record<string, string>,
): RefundObject {
  const charge = target.object;
  if (charge.status !== 'succeeded') {
    throw new InvalidRequestError(
      `Charge ${charge.id} has a status of ${charge.status}; only a succeeded charge can be refunded.`,
      {
        param: 'charge',
      },
    );
  }
  const dispute = target.dispute === null ? undefined : ctx.account.disputes.get(target.dispute);
  if (dispute !== undefined && !dispute.is_charge_refundable) {
    throw new InvalidRequestError(`Charge ${charge.id} has been charged back; cannot issue a refund.`, {
      code: 'charge_disputed',
    });
  }
  // An uncaptured charge can only be released whole.
  const refundable = charge.captured ? charge.amount_captured : charge.amount;
  if (!charge.captured && requested !== undefined && requested !== charge.amount) {
    throw new InvalidRequestError(
      'You cannot partially refund an uncaptured charge. Instead, capture the charge for an amount less than the original amount',
      { param: 'amount' },
    );
  }
  const remaining = refundable - charge.amount_refunded;
  if (remaining <= 0) {
    throw new InvalidRequestError(`Charge ${charge.id} has already been refunded.`, {
      code: 'charge_already_refunded',
    });
  }
  const amount = requested ?? remaining;
  if (amount > remaining) {
    throw new InvalidRequestError(
      `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(remaining, charge.currency)})`,
      { param: 'amount' },
    );
  }
  let txn: string | null = null;
  if (charge.captured) {
    const bt = newBalanceTransaction({
      created: ctx.now,
      amount: -amount,
      currency: charge.currency,
      source: charge.id,
      type: 'refund',
    });
    ctx.account.balanceTransactions.set(bt.id, bt);
    txn = bt.id;
  }
  const later = asyncRefundOf(ctx, charge);
  const refund = newRefund({
    created: ctx.now,
    charge,
    amount,
    balanceTransaction: txn,
    reason,
    metadata,
    status: later?.starts ?? 'succeeded',
  });
  ctx.account.refunds.insert(refund.id, refund);
  ctx.created('refund', refund.id);
  // A pending refund counts at once, as at Stripe: the remainder is what no other refund may take.
  const amountRefunded = charge.amount_refunded + amount;
  const updated = { ...charge, amount_refunded: amountRefunded, refunded: amountRefunded === refundable };
  ctx.account.charges.replace(charge.id, { ...target, object: updated });
  ctx.emit('refund.created', refund);
  ctx.emit('charge.refunded', updated);
  if (later !== undefined) {
    scheduleRefundSettlement(ctx, refund.id);
  }
  if (!charge.captured) {
    // Releasing the whole authorisation ends the intent, as cancelling it would.
    const intent = ctx.account.paymentIntents.get(charge.payment_intent);
    if (intent !== undefined && intent.object.status === 'requires_capture') {
      const canceled = {
        ...intent.object,
        status: 'canceled' as const,
        canceled_at: ctx.now,
        amount_capturable: 0,
      };
      saveIntent(ctx, { ...intent, object: canceled });
      ctx.emit('payment_intent.canceled', canceled);
    }
  }
  // With a delay of 0 the refund has already taken its final status.
  return ctx.account.refunds.get(refund.id) ?? refund;
}

function findRefund(ctx: ExecContext, id: string): RefundObject {
  const refund = ctx.account.refunds.get(id);
  if (refund === undefined) {
    throw resourceMissing('refund', id, 'refund');
  }
  return refund;
}

const create: RouteSpec = {
  method: 'POST',
  pattern: '/v1/refunds',
  params: [
    'amount',
    'charge',
    'currency',
    'customer',
    'instructions_email',
    'metadata',
    'origin',
    'payment_intent',
    'reason',
    'refund_application_fee',
    'reverse_transfer',
  ],
  result: 'refund',
  handle(p) {
    const amount = p.integer('amount', { min: 1 });
    const charge = p.string('charge') ?? undefined;
    const paymentIntent = p.string('payment_intent') ?? undefined;
    if (charge === undefined && paymentIntent === undefined) {
      throw new InvalidRequestError(
        'One of the following params should be provided for this request: payment_intent or charge.',
        { code: 'parameter_missing' },
      );
    }
    const reason = p.enumeration('reason', ['duplicate', 'fraudulent', 'requested_by_customer']) ?? null;
    const metadata = applyMetadata(EMPTY_METADATA, p.metadata());
    return (ctx) => ({
      body: refundCharge(
        ctx,
        refundTarget(ctx, charge, paymentIntent),
        amount,
        reason,
        metadata,
      ) as unknown as JsonObject,
    });
  },
};

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/refunds/:refund',
  params: [],
  result: 'refund',
  handle(_p, path) {
    return (ctx) => ({ body: findRefund(ctx, path.refund ?? '') as unknown as JsonObject });
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/refunds/:refund',
  params: ['metadata'],
  result: 'refund',
  lock: 'refund',
  handle(p, path) {
    const metadata = p.metadata();
    return (ctx) => {
      const before = findRefund(ctx, path.refund ?? '');
      const after: RefundObject = { ...before, metadata: applyMetadata(before.metadata, metadata) };
      const changed = previousAttributes(before, after);
      if (changed !== undefined) {
        ctx.account.refunds.replace(after.id, after);
        ctx.emit('refund.updated', after, changed);
      }
      return { body: (changed === undefined ? before : after) as unknown as JsonObject };
    };
  },
};

const cancel: RouteSpec = {
  method: 'POST',
  pattern: '/v1/refunds/:refund/cancel',
  params: [],
  result: 'refund',
  lock: 'refund',
  handle(_p, path) {
    return (ctx) => {
      const refund = findRefund(ctx, path.refund ?? '');
      // Card refunds never wait for an action, so they can never be canceled.
      throw new InvalidRequestError(
        `You cannot cancel this refund because it has a status of ${refund.status}. Only refunds with a status of requires_action can be canceled.`,
        { param: 'refund' },
      );
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/refunds',
  params: [...PAGE_PARAMS, 'charge', 'created', 'payment_intent'],
  result: 'list:refund',
  handle(p) {
    const page = parsePage(p);
    const charge = p.string('charge') ?? undefined;
    const paymentIntent = p.string('payment_intent') ?? undefined;
    const created = parseRange(p, 'created');
    return (ctx) => {
      const result = ctx.account.refunds.page(
        page,
        (r) =>
          (charge === undefined || r.charge === charge) &&
          (paymentIntent === undefined || r.payment_intent === paymentIntent) &&
          (created === undefined || created(r.created)),
      );
      return { body: listObject('/v1/refunds', result, (r) => r) };
    };
  },
};

export const refundRoutes: readonly RouteSpec[] = [create, retrieve, update, cancel, list];
