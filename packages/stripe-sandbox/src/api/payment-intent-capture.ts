import { InvalidRequestError } from '../errors.js';
import { newBalanceTransaction } from '../objects/ledger-objects.js';
import type { PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentIntentRecord } from '../store/account.js';
import type { ExecContext } from './context.js';
import { unexpectedState } from './payment-errors.js';
import { saveIntent } from './payment-intent-charge.js';

/* The end of an intent's life (SANDBOX.md §4.3): capture of an authorisation, and cancellation. */

const CANCELABLE = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
] as const;

/** Captures an authorised intent, fully or partly (the remainder is released). */
export function captureIntent(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  amountToCapture: number | undefined,
): PaymentIntentRecord {
  const pi = record.object;
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      `This PaymentIntent could not be captured because it has a status of ${pi.status}.`,
      pi,
    );
  }
  const amount = amountToCapture ?? pi.amount_capturable;
  if (amount > pi.amount_capturable) {
    throw new InvalidRequestError(
      `The amount_to_capture (${amount}) must be less than or equal to the amount_capturable (${pi.amount_capturable}).`,
      { code: 'amount_too_large', param: 'amount_to_capture' },
    );
  }
  const chargeRecord = ctx.account.charges.get(pi.latest_charge ?? '');
  if (chargeRecord === undefined) {
    throw new Error(`payment intent ${pi.id} in requires_capture without a charge`);
  }
  const txn = newBalanceTransaction({
    created: ctx.now,
    amount,
    currency: pi.currency,
    source: chargeRecord.object.id,
    type: 'charge',
  });
  ctx.account.balanceTransactions.set(txn.id, txn);
  const charge = {
    ...chargeRecord.object,
    captured: true,
    amount_captured: amount,
    balance_transaction: txn.id,
  };
  ctx.account.charges.replace(charge.id, { ...chargeRecord, object: charge });
  const captured: PaymentIntentObject = {
    ...pi,
    status: 'succeeded',
    amount_received: amount,
    amount_capturable: 0,
  };
  ctx.emit('charge.captured', charge);
  ctx.emit('payment_intent.succeeded', captured);
  return saveIntent(ctx, { ...record, object: captured });
}

/**
 * Cancels; an authorised charge is released (refunded in full, `charge.refunded`). A `processing` intent
 * has no charge yet, so it only becomes `canceled` and never settles.
 */
export function cancelIntent(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  reason: string | null,
): PaymentIntentRecord {
  const pi = record.object;
  if (!(CANCELABLE as readonly string[]).includes(pi.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
      pi,
    );
  }
  const canceled: PaymentIntentObject = {
    ...pi,
    status: 'canceled',
    canceled_at: ctx.now,
    cancellation_reason: reason,
    next_action: null,
    amount_capturable: 0,
    processing: null,
  };
  // Dropping the settlement is what stops a scheduled settle of a canceled `processing` intent.
  const saved = saveIntent(ctx, { ...record, object: canceled, settlement: null });
  ctx.emit('payment_intent.canceled', canceled);
  const chargeRecord =
    pi.status === 'requires_capture' ? ctx.account.charges.get(pi.latest_charge ?? '') : undefined;
  if (chargeRecord !== undefined) {
    const charge = { ...chargeRecord.object, amount_refunded: chargeRecord.object.amount, refunded: true };
    ctx.account.charges.replace(charge.id, { ...chargeRecord, object: charge });
    ctx.emit('charge.refunded', charge);
  }
  return saved;
}
