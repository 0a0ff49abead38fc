import type { JsonObject } from '../errors.js';
import type { SandboxEvent } from '../webhooks/hub.js';
import { newId } from '../wire/ids.js';

/** Event types the sandbox emits (SANDBOX.md §4.7 emission table). */
export type EventType =
  | 'customer.created'
  | 'customer.updated'
  | 'customer.deleted'
  | 'payment_method.attached'
  | 'payment_method.detached'
  | 'payment_method.updated'
  | 'payment_intent.created'
  | 'payment_intent.requires_action'
  | 'payment_intent.processing'
  | 'payment_intent.succeeded'
  | 'payment_intent.payment_failed'
  | 'payment_intent.amount_capturable_updated'
  | 'payment_intent.canceled'
  | 'charge.succeeded'
  | 'charge.failed'
  | 'charge.captured'
  | 'charge.updated'
  | 'charge.refunded'
  | 'charge.dispute.created'
  | 'charge.refund.updated'
  | 'refund.created'
  | 'refund.updated'
  | 'refund.failed';

export function newEvent(input: {
  type: EventType;
  object: object;
  previousAttributes?: JsonObject;
  created: number;
  apiVersion: string;
  requestId: string | null;
  idempotencyKey: string | null;
}): SandboxEvent {
  const object = input.object as Record<string, unknown>;
  return {
    id: newId('evt'),
    object: 'event',
    api_version: input.apiVersion,
    created: input.created,
    // `previous_attributes` appears only on `*.updated` events (SANDBOX.md §4.7).
    data:
      input.previousAttributes === undefined
        ? { object }
        : { object, previous_attributes: input.previousAttributes },
    livemode: false,
    pending_webhooks: 0,
    request: { id: input.requestId, idempotency_key: input.idempotencyKey },
    type: input.type,
  };
}

/** The event as the API shows it: `pending_webhooks` is read from the hub at render time. */
export function renderEvent(event: SandboxEvent, pendingWebhooks: number): SandboxEvent {
  return { ...event, pending_webhooks: pendingWebhooks };
}

/**
 * The old values of the top-level keys that changed between two versions of an object (whole hashes and
 * arrays when anything inside changed), or undefined when nothing did.
 */
export function previousAttributes(before: object, after: object): JsonObject | undefined {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const changed: JsonObject = {};
  let any = false;
  for (const key of Object.keys(a)) {
    const old = b[key];
    const now = a[key];
    if (old !== now && JSON.stringify(old) !== JSON.stringify(now)) {
      changed[key] = old === undefined ? null : old;
      any = true;
    }
  }
  return any ? changed : undefined;
}
