import type { Decline } from '../cards.js';
import type { CardError } from '../errors.js';
import { newCharge, THREE_D_SECURE_RESULT } from '../objects/charge.js';
import { newBalanceTransaction } from '../objects/ledger-objects.js';
import type { PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentIntentRecord, PaymentMethodRecord } from '../store/account.js';
import type { ExecContext } from './context.js';
import { scheduleDispute } from './disputes.js';
import { cardError, lastPaymentError } from './payment-errors.js';
import { attachPaymentMethod } from './payment-methods.js';

/*
 * The charge step of a PaymentIntent (SANDBOX.md §4.3, §4.4): the charge's success or decline, with its
 * events. Confirmation and 3-D Secure reach it at once, a `processing` intent when it settles.
 */

/** The result of a confirmation or an authentication: the intent, and the card error to answer with. */
export type PaymentOutcome =
  | { kind: 'ok'; record: PaymentIntentRecord }
  | { kind: 'card_error'; record: PaymentIntentRecord; error: CardError };

/** Stores a new version of an intent (records are immutable values). */
export function saveIntent(ctx: ExecContext, record: PaymentIntentRecord): PaymentIntentRecord {
  ctx.account.paymentIntents.replace(record.object.id, record);
  return record;
}

/** A failed payment: with a failed charge for an issuer decline, without one for a refused authentication. */
export function failPayment(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  pm: PaymentMethodRecord,
  decline: Decline,
  withCharge: boolean,
): PaymentOutcome {
  let chargeId: string | null = null;
  if (withCharge) {
    const charge = newCharge({
      created: ctx.now,
      intent: record.object,
      paymentMethod: pm.object,
      decline,
      captured: false,
      balanceTransaction: null,
      threeDSecure: record.authenticated ? THREE_D_SECURE_RESULT : null,
    });
    ctx.account.charges.insert(charge.id, { object: charge, dispute: null });
    ctx.created('charge', charge.id);
    ctx.emit('charge.failed', charge);
    chargeId = charge.id;
  }
  const pi: PaymentIntentObject = {
    ...record.object,
    status: 'requires_payment_method',
    payment_method: null,
    processing: null,
    latest_charge: chargeId ?? record.object.latest_charge,
    last_payment_error: lastPaymentError(decline, chargeId, pm),
    next_action: null,
  };
  ctx.emit('payment_intent.payment_failed', pi);
  const saved = saveIntent(ctx, { ...record, object: pi, authenticated: false, settlement: null });
  return { kind: 'card_error', record: saved, error: cardError(decline, chargeId, pi, pm) };
}

/** Attaches the balance transaction of an `automatic_async` capture: `charge.updated` (SANDBOX.md §8.8). */
function settleCharge(ctx: ExecContext, chargeId: string): void {
  const record = ctx.account.charges.get(chargeId);
  if (record === undefined || record.object.balance_transaction !== null) {
    return;
  }
  const txn = newBalanceTransaction({
    created: ctx.now,
    amount: record.object.amount_captured,
    currency: record.object.currency,
    source: chargeId,
    type: 'charge',
  });
  ctx.account.balanceTransactions.set(txn.id, txn);
  const charge = { ...record.object, balance_transaction: txn.id };
  ctx.account.charges.replace(chargeId, { ...record, object: charge });
  ctx.emit('charge.updated', charge, { balance_transaction: null });
}

/** A successful charge: `succeeded`, or `requires_capture` under manual capture. */
export function succeedPayment(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  pm: PaymentMethodRecord,
): PaymentOutcome {
  const intent = record.object;
  const manual = intent.capture_method === 'manual';
  let charge = newCharge({
    created: ctx.now,
    intent,
    paymentMethod: pm.object,
    decline: null,
    captured: !manual,
    balanceTransaction: null,
    threeDSecure: record.authenticated ? THREE_D_SECURE_RESULT : null,
  });
  if (intent.capture_method === 'automatic') {
    const txn = newBalanceTransaction({
      created: ctx.now,
      amount: intent.amount,
      currency: intent.currency,
      source: charge.id,
      type: 'charge',
    });
    ctx.account.balanceTransactions.set(txn.id, txn);
    charge = { ...charge, balance_transaction: txn.id };
  }
  ctx.account.charges.insert(charge.id, { object: charge, dispute: null });
  ctx.created('charge', charge.id);
  const pi: PaymentIntentObject = {
    ...intent,
    status: manual ? 'requires_capture' : 'succeeded',
    amount_capturable: manual ? intent.amount : 0,
    amount_received: manual ? 0 : intent.amount,
    latest_charge: charge.id,
    payment_method: pm.object.id,
    processing: null,
    last_payment_error: null,
    next_action: null,
  };
  const saved = saveIntent(ctx, { ...record, object: pi, settlement: null });
  ctx.emit('charge.succeeded', charge);
  ctx.emit(manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded', pi);
  const customer = pi.customer === null ? undefined : ctx.account.customers.get(pi.customer);
  if (pi.setup_future_usage !== null && customer !== undefined && !customer.deleted) {
    const attached = attachPaymentMethod(ctx, pm, customer.object.id);
    const setUp = attached.setUpForOffSession || pi.setup_future_usage === 'off_session';
    ctx.account.paymentMethods.replace(attached.object.id, { ...attached, setUpForOffSession: setUp });
    if (attached !== pm) {
      ctx.emit('payment_method.attached', attached.object);
    }
  }
  if (intent.capture_method === 'automatic_async') {
    const delay = ctx.core.settings.asyncCaptureDelaySeconds;
    if (delay <= 0) {
      settleCharge(ctx, charge.id);
    } else {
      const chargeId = charge.id;
      ctx.core.later(ctx.account, delay, (later) => settleCharge(later, chargeId));
    }
  }
  if (pm.card.disputes === true) {
    scheduleDispute(ctx, charge.id);
  }
  return { kind: 'ok', record: saved };
}
