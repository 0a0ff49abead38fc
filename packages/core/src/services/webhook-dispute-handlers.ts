import { isDisputeClosed } from '../domain/dispute-lifecycle.js';
import type { Dispute } from '../domain/entities.js';
import type { GatewayDispute } from '../ports/gateway-events.js';
import { PROCESSED, type HandlerContext, type HandlerResult } from './webhook-handler-context.js';
import { paymentOfIntentId } from './webhook-payment-lookup.js';

/**
 * `charge.dispute.created | updated | closed`: the dispute is upserted by its Stripe id, moving only to
 * a status from a newer report (the event's `created`, then the lifecycle within one second), and its
 * opening and closing each leave one audit row (actor `system`), written with the change.
 */
export async function handleDisputeEvent(
  ctx: HandlerContext,
  dispute: GatewayDispute,
): Promise<HandlerResult> {
  const lookup = await paymentOfIntentId(ctx, dispute.stripePaymentIntentId);
  if (lookup.kind === 'answer') {
    return lookup.result;
  }
  const payment = lookup.payment;
  const {
    dispute: row,
    previous,
    changed,
  } = await ctx.tx.disputes.upsertByStripeId({
    accountId: payment.accountId,
    paymentId: payment.id,
    stripeDisputeId: dispute.stripeDisputeId,
    stripeChargeId: dispute.stripeChargeId,
    amount: dispute.amount,
    currency: dispute.currency,
    reason: dispute.reason,
    status: dispute.status,
    stripeCreatedAt: dispute.created,
    reportedAt: ctx.event.created,
  });
  if (previous === null) {
    await audit(ctx, row, 'dispute.opened');
  }
  if (changed && isDisputeClosed(row.status) && (previous === null || !isDisputeClosed(previous.status))) {
    await audit(ctx, row, 'dispute.closed');
  }
  return PROCESSED;
}

async function audit(ctx: HandlerContext, dispute: Dispute, action: 'dispute.opened' | 'dispute.closed') {
  await ctx.tx.audit.append({
    accountId: dispute.accountId,
    actorType: 'system',
    actorId: 'webhook',
    action,
    targetType: 'dispute',
    targetId: dispute.id,
    amount: dispute.amount,
    currency: dispute.currency,
    details: {
      paymentId: dispute.paymentId,
      stripeDisputeId: dispute.stripeDisputeId,
      status: dispute.status,
      reason: dispute.reason,
      stripeEventId: ctx.event.stripeEventId,
    },
  });
}
