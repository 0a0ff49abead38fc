import type { PaymentStatus, RefundStatus } from '@pay/core';
import { mapIntentStatus } from '@pay/stripe-adapter';
import type Stripe from 'stripe';
import type { PaymentRow, RefundRow } from '../pay-state.js';
import type { Violation } from '../report.js';
import { groupBy, indexSandbox, isSuccessfulCharge, type SandboxIndex, type World } from '../world.js';

/** Payment statuses recovery may leave a payment in: nothing more will happen to it without a person. */
const FINAL_PAYMENT_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  'succeeded',
  'partially_refunded',
  'refunded',
  'failed',
  'canceled',
]);

/** Refund statuses that are an outcome. */
const FINAL_REFUND_STATUSES: ReadonlySet<RefundStatus> = new Set(['succeeded', 'failed', 'canceled']);

/** What pay should say about a payment whose intent is `intent`: intent-mapping's status, then refunds. */
function expectedPayment(
  intent: Stripe.PaymentIntent,
  index: SandboxIndex,
): { status: PaymentStatus; amountRefunded: number } | { error: string } {
  let mapped: PaymentStatus;
  try {
    mapped = mapIntentStatus(intent);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const charges = (index.chargesByIntent.get(intent.id) ?? []).filter(isSuccessfulCharge);
  const amountRefunded = charges.reduce((sum, c) => sum + c.amount_refunded, 0);
  if (mapped !== 'succeeded' || amountRefunded === 0) {
    return { status: mapped, amountRefunded };
  }
  return {
    status: amountRefunded >= intent.amount ? 'refunded' : 'partially_refunded',
    amountRefunded,
  };
}

/** The intent that speaks for a payment: the one it recorded, else the only one naming it. */
function intentOf(payment: PaymentRow, index: SandboxIndex): Stripe.PaymentIntent | null {
  if (payment.stripe_payment_intent_id !== null) {
    return index.intentsById.get(payment.stripe_payment_intent_id) ?? null;
  }
  return index.intentsByPayment.get(payment.id)?.[0] ?? null;
}

function checkPayment(payment: PaymentRow, index: SandboxIndex, out: Violation[]): void {
  const v = (message: string, details?: Record<string, unknown>): void => {
    out.push({ invariant: 'K2', objectId: payment.id, message, ...(details ? { details } : {}) });
  };
  const intent = intentOf(payment, index);
  if (intent === null) {
    if (payment.status !== 'failed' && payment.status !== 'canceled') {
      v(
        `is ${payment.status} but has no PaymentIntent in the sandbox: it should have been failed or canceled`,
      );
    }
    if (payment.amount_refunded !== 0) {
      v(`has amount_refunded ${payment.amount_refunded} without any PaymentIntent`);
    }
    return;
  }
  const expected = expectedPayment(intent, index);
  if ('error' in expected) {
    v(`its PaymentIntent ${intent.id} is in a state pay cannot map: ${expected.error}`);
    return;
  }
  const waiting = payment.status === 'requires_action' && expected.status === 'requires_action';
  if (!FINAL_PAYMENT_STATUSES.has(payment.status) && !waiting) {
    v(`is still ${payment.status} after recovery (sandbox: ${intent.status})`, { intent: intent.id });
  }
  if (payment.status !== expected.status) {
    v(`status differs: pay says ${payment.status}, the sandbox's ${intent.id} maps to ${expected.status}`, {
      stripeStatus: intent.status,
    });
  }
  if (payment.amount !== intent.amount || payment.currency !== intent.currency) {
    v('amount differs from its PaymentIntent', {
      pay: `${payment.amount} ${payment.currency}`,
      sandbox: `${intent.amount} ${intent.currency}`,
    });
  }
  if (payment.amount_refunded !== expected.amountRefunded) {
    v(
      `amount_refunded differs: pay says ${payment.amount_refunded}, the sandbox's charges ${expected.amountRefunded}`,
    );
  }
}

/** Stripe's refund status in pay's words: pay has no `requires_action` (cards never need one). */
function payRefundStatusOf(status: string | null): string | null {
  return status === 'requires_action' ? 'pending' : status;
}

function checkRefund(refund: RefundRow, index: SandboxIndex, out: Violation[]): void {
  const v = (message: string, details?: Record<string, unknown>): void => {
    out.push({ invariant: 'K2', objectId: refund.id, message, ...(details ? { details } : {}) });
  };
  if (refund.stripe_refund_id === null) {
    // Never sent to Stripe: waiting for a second admin, or stopped before the call.
    if (refund.status !== 'requires_approval' && refund.status !== 'canceled' && refund.status !== 'failed') {
      v(`is ${refund.status} but has no Stripe refund`);
    }
    return;
  }
  const stripeRefund = index.refundsById.get(refund.stripe_refund_id);
  if (stripeRefund === undefined) {
    v(`records Stripe refund ${refund.stripe_refund_id}, which the sandbox does not have`);
    return;
  }
  if (!FINAL_REFUND_STATUSES.has(refund.status)) {
    v(`is still ${refund.status} after recovery (sandbox: ${stripeRefund.status ?? 'null'})`);
  }
  const expected = payRefundStatusOf(stripeRefund.status);
  if (refund.status !== expected) {
    v(
      `status differs: pay says ${refund.status}, the sandbox's ${stripeRefund.id} says ${expected ?? 'null'}`,
    );
  }
  if (refund.amount !== stripeRefund.amount || refund.currency !== stripeRefund.currency) {
    v('amount differs from its Stripe refund', {
      pay: `${refund.amount} ${refund.currency}`,
      sandbox: `${stripeRefund.amount} ${stripeRefund.currency}`,
    });
  }
}

/**
 * K2: after recovery every payment and refund is final (or legitimately waiting: a payment in
 * `requires_action` whose intent is too, a refund awaiting a second admin), and its status, amount and
 * `amount_refunded` equal the sandbox's, with Stripe's statuses mapped as `@pay/stripe-adapter` maps
 * them. Every sandbox refund of a pay payment's intent is known to pay.
 */
export function evaluateK2(world: World): Violation[] {
  const violations: Violation[] = [];
  const index = indexSandbox(world.sandbox);
  for (const payment of world.pay.payments) {
    checkPayment(payment, index, violations);
  }
  for (const refund of world.pay.refunds) {
    checkRefund(refund, index, violations);
  }
  const known = new Set(world.pay.refunds.map((r) => r.stripe_refund_id));
  const refundsOfPayment = groupBy(world.pay.refunds, (r) => r.payment_id);
  for (const payment of world.pay.payments) {
    const intent = intentOf(payment, index);
    for (const stripeRefund of intent === null ? [] : (index.refundsByIntent.get(intent.id) ?? [])) {
      if (!known.has(stripeRefund.id)) {
        violations.push({
          invariant: 'K2',
          objectId: payment.id,
          message: `the sandbox refunded ${stripeRefund.amount} (${stripeRefund.id}, ${stripeRefund.status ?? 'null'}) but pay has no such refund`,
          details: { payRefunds: (refundsOfPayment.get(payment.id) ?? []).map((r) => r.id) },
        });
      }
    }
  }
  return violations;
}
