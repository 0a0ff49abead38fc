import { METADATA_PAYMENT_ID } from '@pay/stripe-adapter';
import type { Violation } from '../report.js';
import { indexSandbox, isSuccessfulCharge, type World } from '../world.js';

/**
 * K1: every payment has at most one PaymentIntent naming it (`metadata.pay_payment_id`) and at most one
 * successful charge; every intent names a payment pay has — or is canceled (Stripe cannot delete an
 * intent; reconciliation cancels the orphans it finds, and a canceled one moved no money); the intent a
 * payment records is one that names it.
 */
export function evaluateK1(world: World): Violation[] {
  const violations: Violation[] = [];
  const index = indexSandbox(world.sandbox);
  const payments = new Map(world.pay.payments.map((p) => [p.id, p]));

  for (const intent of index.unattributedIntents) {
    violations.push({
      invariant: 'K1',
      objectId: intent.id,
      message: `PaymentIntent has no ${METADATA_PAYMENT_ID} in its metadata: no pay payment accounts for it`,
      details: { amount: intent.amount, status: intent.status },
    });
  }

  for (const [paymentId, intents] of index.intentsByPayment) {
    if (!payments.has(paymentId)) {
      if (intents.every((i) => i.status === 'canceled')) {
        continue;
      }
      violations.push({
        invariant: 'K1',
        objectId: paymentId,
        message: `the sandbox holds ${intents.length} PaymentIntent(s) for a payment pay does not have`,
        details: { intents: intents.map((i) => i.id) },
      });
      continue;
    }
    if (intents.length > 1) {
      violations.push({
        invariant: 'K1',
        objectId: paymentId,
        message: `${intents.length} PaymentIntents name this payment, at most 1 may`,
        details: { intents: intents.map((i) => i.id) },
      });
    }
  }

  for (const payment of world.pay.payments) {
    const intentIds = new Set((index.intentsByPayment.get(payment.id) ?? []).map((i) => i.id));
    const recorded = payment.stripe_payment_intent_id;
    if (recorded !== null) {
      const intent = index.intentsById.get(recorded);
      if (intent === undefined) {
        violations.push({
          invariant: 'K1',
          objectId: payment.id,
          message: `records PaymentIntent ${recorded}, which the sandbox does not have`,
        });
      } else if (intent.metadata[METADATA_PAYMENT_ID] !== payment.id) {
        violations.push({
          invariant: 'K1',
          objectId: payment.id,
          message: `records PaymentIntent ${recorded}, which names another payment`,
          details: { intentNames: intent.metadata[METADATA_PAYMENT_ID] ?? null },
        });
      }
      intentIds.add(recorded);
    }
    const charges = [...intentIds].flatMap((id) =>
      (index.chargesByIntent.get(id) ?? []).filter(isSuccessfulCharge),
    );
    if (charges.length > 1) {
      violations.push({
        invariant: 'K1',
        objectId: payment.id,
        message: `${charges.length} successful charges in the sandbox, at most 1 may`,
        details: { charges: charges.map((c) => c.id), amounts: charges.map((c) => c.amount) },
      });
    }
  }
  return violations;
}
