import type { Violation } from '../report.js';
import { countsAgainstCaptured, groupBy, indexSandbox, type World } from '../world.js';

/**
 * K3: refunds never exceed what was captured. In pay, per payment: Σ refunds pending or succeeded ≤
 * amount, and amount_refunded ≤ amount. In the sandbox, per PaymentIntent: Σ refunds pending or
 * succeeded ≤ amount received, and per charge: amount_refunded ≤ amount captured.
 */
export function evaluateK3(world: World): Violation[] {
  const violations: Violation[] = [];
  const refundsOfPayment = groupBy(world.pay.refunds, (r) => r.payment_id);
  for (const payment of world.pay.payments) {
    const refunds = (refundsOfPayment.get(payment.id) ?? []).filter((r) => countsAgainstCaptured(r.status));
    const total = refunds.reduce((sum, r) => sum + r.amount, 0);
    if (total > payment.amount) {
      violations.push({
        invariant: 'K3',
        objectId: payment.id,
        message: `pay's refunds total ${total}, more than the ${payment.amount} captured`,
        details: { refunds: refunds.map((r) => `${r.id}:${r.amount}:${r.status}`) },
      });
    }
    if (payment.amount_refunded > payment.amount) {
      violations.push({
        invariant: 'K3',
        objectId: payment.id,
        message: `amount_refunded ${payment.amount_refunded} exceeds the amount ${payment.amount}`,
      });
    }
  }
  const index = indexSandbox(world.sandbox);
  for (const intent of world.sandbox.paymentIntents) {
    const refunds = (index.refundsByIntent.get(intent.id) ?? []).filter((r) =>
      countsAgainstCaptured(r.status),
    );
    const total = refunds.reduce((sum, r) => sum + r.amount, 0);
    if (total > intent.amount_received) {
      violations.push({
        invariant: 'K3',
        objectId: intent.id,
        message: `the sandbox's refunds total ${total}, more than the ${intent.amount_received} received`,
        details: { refunds: refunds.map((r) => `${r.id}:${r.amount}:${r.status ?? 'null'}`) },
      });
    }
  }
  for (const charge of world.sandbox.charges) {
    if (charge.amount_refunded > charge.amount_captured) {
      violations.push({
        invariant: 'K3',
        objectId: charge.id,
        message: `charge refunded ${charge.amount_refunded}, more than the ${charge.amount_captured} captured`,
      });
    }
  }
  return violations;
}
