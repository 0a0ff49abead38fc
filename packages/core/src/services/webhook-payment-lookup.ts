import type { Payment } from '../domain/entities.js';
import type { GatewayIntent } from '../ports/gateway.js';
import {
  WebhookEventTooEarlyError,
  fetchFirst,
  type HandlerContext,
  type HandlerResult,
} from './webhook-handler-context.js';

/** The payment an event is about, or what the handler answers instead. */
export type PaymentLookup =
  | { readonly kind: 'found'; readonly payment: Payment }
  | { readonly kind: 'answer'; readonly result: HandlerResult };

/**
 * The payment of a PaymentIntent as an event shows it. An intent without pay's metadata is not pay's
 * (ignored). One whose metadata names a payment pay has not recorded yet, or whose id pay has not
 * recorded on that payment yet, is too early: the flow records both before it confirms, so the event is
 * retried until they are there.
 */
export async function paymentOfIntent(ctx: HandlerContext, intent: GatewayIntent): Promise<PaymentLookup> {
  const byIntent = await ctx.tx.payments.findByStripeIntentId(intent.stripePaymentIntentId);
  if (byIntent !== null) {
    return { kind: 'found', payment: byIntent };
  }
  if (intent.paymentId === null) {
    return {
      kind: 'answer',
      result: { kind: 'ignored', reason: `PaymentIntent ${intent.stripePaymentIntentId} is not pay's` },
    };
  }
  const byMetadata = await ctx.tx.payments.findByIdAcrossAccounts(intent.paymentId);
  const context = { stripePaymentIntentId: intent.stripePaymentIntentId, paymentId: intent.paymentId };
  if (byMetadata === null) {
    throw new WebhookEventTooEarlyError(`Payment ${intent.paymentId} is not recorded yet.`, { context });
  }
  if (byMetadata.stripePaymentIntentId === null) {
    throw new WebhookEventTooEarlyError(
      `Payment ${intent.paymentId} has not recorded PaymentIntent ${intent.stripePaymentIntentId} yet.`,
      { context },
    );
  }
  // The payment recorded another intent: this one was never pay's charge for it (K1 would flag two).
  ctx.logger.warn('webhook names a payment that recorded another PaymentIntent', {
    ...context,
    recordedIntentId: byMetadata.stripePaymentIntentId,
  });
  return {
    kind: 'answer',
    result: {
      kind: 'ignored',
      reason: `payment ${intent.paymentId} records another PaymentIntent than ${intent.stripePaymentIntentId}`,
    },
  };
}

/**
 * The payment of a charge, refund or dispute, by its PaymentIntent's id. When pay knows no payment with
 * that intent, the object alone cannot say whether it is pay's: the intent is fetched from Stripe (its
 * metadata tells) and judged as {@link paymentOfIntent} does.
 */
export async function paymentOfIntentId(
  ctx: HandlerContext,
  stripePaymentIntentId: string | null,
): Promise<PaymentLookup> {
  if (stripePaymentIntentId === null) {
    return { kind: 'answer', result: { kind: 'ignored', reason: 'not a PaymentIntent’s charge' } };
  }
  const payment = await ctx.tx.payments.findByStripeIntentId(stripePaymentIntentId);
  if (payment !== null) {
    return { kind: 'found', payment };
  }
  const intent = ctx.fetched.intents.get(stripePaymentIntentId);
  if (intent === undefined) {
    return { kind: 'answer', result: fetchFirst({ intents: [stripePaymentIntentId] }) };
  }
  return paymentOfIntent(ctx, intent);
}
