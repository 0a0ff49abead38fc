import { isPayError, UnknownGatewayStateError, type GatewayEvent, type GatewayEventObject } from '@pay/core';
import { toGatewayCharge } from './charge-mapping.js';
import { toGatewayDispute } from './dispute-mapping.js';
import { readChargeFields, readDisputeFields, readIntentFields, readRefundFields } from './event-objects.js';
import { toGatewayIntent } from './intent-mapping.js';
import { JsonFields } from './json-fields.js';
import { toGatewayRefund } from './refund-mapping.js';

/** The kinds of object pay's webhook handlers read, and `other` for every type they ignore. */
export type EventObjectKind = GatewayEventObject['kind'];

/**
 * Which object an event type is about. `charge.dispute.*` carries a Dispute and `charge.refund.updated`
 * a Refund although both start with `charge.`; every other `charge.*` carries the Charge.
 */
export function eventObjectKind(type: string): EventObjectKind {
  if (type.startsWith('payment_intent.')) {
    return 'payment_intent';
  }
  if (type.startsWith('charge.dispute.')) {
    return 'dispute';
  }
  if (type === 'charge.refund.updated' || type.startsWith('refund.')) {
    return 'refund';
  }
  if (type.startsWith('charge.')) {
    return 'charge';
  }
  return 'other';
}

/** The `object` field Stripe gives each kind's object. */
const STRIPE_OBJECT_NAMES: Readonly<Record<Exclude<EventObjectKind, 'other'>, string>> = {
  payment_intent: 'payment_intent',
  charge: 'charge',
  refund: 'refund',
  dispute: 'dispute',
};

function parseJson(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    // No cause: the parser's message quotes the payload around the fault, and it stays out of the log.
    throw new UnknownGatewayStateError('A Stripe event payload is not JSON.', {
      context: { payloadBytes: Buffer.byteLength(payload, 'utf8') },
    });
  }
}

function decodeObject(kind: EventObjectKind, object: JsonFields): GatewayEventObject {
  if (kind === 'other') {
    return { kind };
  }
  object.literal('object', STRIPE_OBJECT_NAMES[kind]);
  switch (kind) {
    case 'payment_intent':
      return { kind, intent: toGatewayIntent(readIntentFields(object)) };
    case 'charge':
      return { kind, charge: toGatewayCharge(readChargeFields(object)) };
    case 'refund':
      return { kind, refund: toGatewayRefund(readRefundFields(object)) };
    case 'dispute':
      return { kind, dispute: toGatewayDispute(readDisputeFields(object)) };
  }
}

/** Adds the event's id and type to an unknown state a mapper found, which names only the object. */
function inEvent<T>(context: Record<string, unknown>, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (isPayError(error) && error.code === 'gateway_unknown_state' && !('stripeEventId' in error.context)) {
      throw new UnknownGatewayStateError(error.message, {
        context: { ...context, ...error.context },
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Decodes the raw payload of a Stripe event delivery (a v1 snapshot event, as webhooks deliver and
 * `GET /v1/events/:id` returns). The caller verified its signature first. An event of a type pay does
 * not handle decodes with `object.kind: 'other'`; a payload that is not such an event, or whose object
 * pay cannot read (an unknown status, currency or shape), throws `UnknownGatewayStateError` with the
 * field at fault in `context` and none of the payload's values.
 */
export function decodeStripeEvent(payload: string): GatewayEvent {
  const envelope = JsonFields.of(parseJson(payload), 'event');
  envelope.literal('object', 'event');
  const stripeEventId = envelope.nonEmptyString('id');
  if (!stripeEventId.startsWith('evt_')) {
    throw new UnknownGatewayStateError('A Stripe event id does not start with evt_.', {
      context: { field: 'event.id', expected: 'evt_…' },
    });
  }
  const type = envelope.nonEmptyString('type');
  // Every later error names the event it came from.
  const context = { stripeEventId, type };
  const event = envelope.withContext(context);
  const object = event.object('data').object('object');
  return {
    stripeEventId,
    type,
    apiVersion: event.nullableString('api_version'),
    livemode: event.boolean('livemode'),
    created: new Date(event.integer('created') * 1000),
    objectId: object.has('id') ? object.nonEmptyString('id') : null,
    object: inEvent(context, () => decodeObject(eventObjectKind(type), object)),
  };
}
