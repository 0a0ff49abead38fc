import { DECLINED } from '../cards.js';
import type { ProcessingFault, SettleOutcome } from '../faults/api-faults.js';
import { CARD_PROCESSING, type PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentIntentRecord, PaymentMethodRecord, PendingSettlement } from '../store/account.js';
import type { ExecContext } from './context.js';
import { unexpectedState } from './payment-errors.js';
import { failPayment, saveIntent, succeedPayment, type PaymentOutcome } from './payment-intent-charge.js';

/*
 * `processing` for cards, which only the `processing` fault produces (SANDBOX.md §4.3 [D], §6.4). The
 * confirmation stops before the charge: `payment_intent.processing` and no charge, so the settlement later
 * emits exactly what the card's own outcome emits (§4.7), as 3-D Secure completion does.
 */

/**
 * Puts a confirmation that reached the charge step into `processing`, and schedules its settlement on the
 * sandbox clock when the fault gives `settle_after_seconds` (without it, only a settle call ends it).
 */
export function startProcessing(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  pm: PaymentMethodRecord,
  fault: ProcessingFault,
): PaymentOutcome {
  const settlement: PendingSettlement = { outcome: fault.outcome ?? null };
  const pi: PaymentIntentObject = {
    ...record.object,
    status: 'processing',
    payment_method: pm.object.id,
    processing: CARD_PROCESSING,
    last_payment_error: null,
    next_action: null,
  };
  const saved = saveIntent(ctx, { ...record, object: pi, settlement });
  ctx.emit('payment_intent.processing', pi);
  if (fault.settle_after_seconds !== undefined) {
    const id = pi.id;
    ctx.core.later(ctx.account, fault.settle_after_seconds, (later) => {
      const current = later.account.paymentIntents.get(id);
      // Only the stay this timer was set for: a cancel or a settle call since then replaced the settlement.
      if (current !== undefined && current.settlement === settlement) {
        settleIntent(later, current);
      }
    });
  }
  return { kind: 'ok', record: saved };
}

/**
 * Ends a stay in `processing` with a charge: `outcome` if given, else the fault's, else what the card does.
 * A decline is an outcome here (the intent is returned in `requires_payment_method`), not an error. Throws
 * a 400 `payment_intent_unexpected_state` when the intent is not processing.
 */
export function settleIntent(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  outcome?: SettleOutcome,
): PaymentOutcome {
  const pi = record.object;
  if (pi.status !== 'processing' || record.settlement === null) {
    throw unexpectedState(
      `This PaymentIntent cannot be settled because it has a status of ${pi.status}; only a processing PaymentIntent can.`,
      pi,
    );
  }
  const pm = ctx.account.paymentMethods.get(pi.payment_method ?? '');
  if (pm === undefined) {
    throw new Error(`payment intent ${pi.id} in processing without a payment method`);
  }
  const decline = pm.card.decline;
  const settled = outcome ?? record.settlement.outcome ?? (decline === undefined ? 'succeeded' : 'failed');
  switch (settled) {
    case 'succeeded':
      return succeedPayment(ctx, record, pm);
    case 'failed':
      return failPayment(ctx, record, pm, decline ?? DECLINED, true);
    default: {
      const unknown: never = settled;
      throw new Error(`unknown settle outcome ${String(unknown)}`);
    }
  }
}
