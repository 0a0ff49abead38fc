import { UnknownGatewayStateError } from '../errors.js';
import type { GatewayEventObject } from '../ports/gateway-events.js';
import { handleDisputeEvent } from './webhook-dispute-handlers.js';
import type { HandlerContext, HandlerResult } from './webhook-handler-context.js';
import { handleIntentEvent } from './webhook-intent-handlers.js';
import { handleChargeRefunded, handleRefundEvent } from './webhook-refund-handlers.js';

type Kind = GatewayEventObject['kind'];
type Handler = (ctx: HandlerContext) => Promise<HandlerResult>;

/** The object an event of a handled type must carry, narrowed, or a typed error (pay does not guess). */
function objectOf<K extends Kind>(ctx: HandlerContext, kind: K): Extract<GatewayEventObject, { kind: K }> {
  const object = ctx.event.object;
  if (object.kind !== kind) {
    throw new UnknownGatewayStateError(
      `Event ${ctx.event.stripeEventId} of type ${ctx.event.type} carries a ${object.kind}, not a ${kind}.`,
      { context: { stripeEventId: ctx.event.stripeEventId, type: ctx.event.type } },
    );
  }
  return object as Extract<GatewayEventObject, { kind: K }>;
}

const intent: Handler = (ctx) => handleIntentEvent(ctx, objectOf(ctx, 'payment_intent').intent);
const refund: Handler = (ctx) => handleRefundEvent(ctx, objectOf(ctx, 'refund').refund);
const dispute: Handler = (ctx) => handleDisputeEvent(ctx, objectOf(ctx, 'dispute').dispute);

const HANDLERS: Readonly<Record<string, Handler>> = Object.freeze({
  'payment_intent.succeeded': intent,
  'payment_intent.payment_failed': intent,
  'payment_intent.processing': intent,
  'payment_intent.requires_action': intent,
  'payment_intent.canceled': intent,
  'charge.refunded': (ctx) => handleChargeRefunded(ctx, objectOf(ctx, 'charge').charge),
  'refund.created': refund,
  'refund.updated': refund,
  'refund.failed': refund,
  'charge.refund.updated': refund,
  'charge.dispute.created': dispute,
  'charge.dispute.updated': dispute,
  'charge.dispute.closed': dispute,
});

/** The Stripe event types pay applies; every other type is acknowledged, recorded and ignored. */
export const HANDLED_WEBHOOK_EVENT_TYPES: readonly string[] = Object.freeze(Object.keys(HANDLERS));

/** Runs the handler of the event's type; an unknown type is `ignored`. */
export function handleWebhookEvent(ctx: HandlerContext): Promise<HandlerResult> {
  const handler = Object.hasOwn(HANDLERS, ctx.event.type) ? HANDLERS[ctx.event.type] : undefined;
  if (handler === undefined) {
    return Promise.resolve({ kind: 'ignored', reason: `pay does not handle ${ctx.event.type} events` });
  }
  return handler(ctx);
}
