import type { PaymentStatus } from '../domain/statuses.js';
import type { GatewayIntent } from '../ports/gateway.js';
import { applyObservation, observeIntent } from './payment-outcome.js';
import { PROCESSED, fetchFirst, type HandlerContext, type HandlerResult } from './webhook-handler-context.js';
import { paymentOfIntent } from './webhook-payment-lookup.js';

/*
 * `payment_intent.succeeded | processing | requires_action | canceled | payment_failed`. The payment
 * and its subscription change exactly as the payment flow changes them (applyObservation): one
 * compare-and-set move along the state machine, so a late or repeated event moves nothing backward.
 */

/** Statuses from which a PaymentIntent can still move the payment. */
export const IN_FLIGHT: ReadonlySet<PaymentStatus> = new Set(['pending', 'requires_action', 'processing']);

/**
 * Applies a PaymentIntent event to its payment. A failure report is the one snapshot that can be stale
 * in a harmful way — it would end, as `failed`, a payment Stripe may have moved on with — so for a
 * payment still in flight the worker fetches the intent and applies what Stripe says now.
 */
export async function handleIntentEvent(ctx: HandlerContext, intent: GatewayIntent): Promise<HandlerResult> {
  const lookup = await paymentOfIntent(ctx, intent);
  if (lookup.kind === 'answer') {
    return lookup.result;
  }
  const payment = lookup.payment;
  let source = intent;
  if (intent.status === 'failed' || ctx.event.type === 'payment_intent.payment_failed') {
    if (!IN_FLIGHT.has(payment.status)) {
      return PROCESSED;
    }
    const current = ctx.fetched.intents.get(intent.stripePaymentIntentId);
    if (current === undefined) {
      return fetchFirst({ intents: [intent.stripePaymentIntentId] });
    }
    source = current;
  }
  await applyObservation(ctx.tx, payment, observeIntent(source), ctx.now, ctx.cause, {
    copy: 'read_in_this_transaction',
  });
  return PROCESSED;
}
