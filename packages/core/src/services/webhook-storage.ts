import type { WebhookEvent } from '../domain/entities.js';
import { UnknownGatewayStateError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { GatewayEvents } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { NewWebhookEvent } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import { readWebhookEnvelope, type WebhookEnvelope } from './webhook-envelope.js';

/** How an event reached pay: delivered and signed by Stripe, or fetched from its events API. */
export type WebhookOrigin = 'delivered' | 'fetched';

/** What storing an event needs. */
export interface WebhookStorageDeps {
  readonly store: Store;
  readonly gateway: Pick<GatewayEvents, 'decodeEvent'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Puts one event in the inbox, once per Stripe id (`inserted` says whether this call stored it). A real
 * event pay cannot read (a status or type newer than this version) is stored `dead` rather than refused:
 * refusing it would have Stripe redeliver it for days; it stays visible and replayable after an upgrade.
 */
export async function storeWebhookEvent(
  deps: WebhookStorageDeps,
  payload: string,
  origin: WebhookOrigin,
): Promise<{ readonly inserted: boolean; readonly event: WebhookEvent }> {
  let decoded: WebhookEnvelope;
  try {
    decoded = deps.gateway.decodeEvent(payload);
  } catch (error) {
    const envelope = readWebhookEnvelope(payload);
    if (!(error instanceof UnknownGatewayStateError) || envelope === null) {
      throw error;
    }
    return storeUnreadable(deps, payload, envelope, error, origin);
  }
  return await deps.store.repos.webhookEvents.insert(newEvent(deps.clock, payload, decoded, origin));
}

function newEvent(
  clock: Clock,
  payload: string,
  envelope: WebhookEnvelope,
  origin: WebhookOrigin,
): NewWebhookEvent {
  return {
    stripeEventId: envelope.stripeEventId,
    type: envelope.type,
    apiVersion: envelope.apiVersion,
    livemode: envelope.livemode,
    objectId: envelope.objectId,
    payload,
    signatureVerified: origin === 'delivered',
    stripeCreatedAt: envelope.created,
    receivedAt: clock.now(),
  };
}

async function storeUnreadable(
  deps: WebhookStorageDeps,
  payload: string,
  envelope: WebhookEnvelope,
  error: UnknownGatewayStateError,
  origin: WebhookOrigin,
): Promise<{ readonly inserted: boolean; readonly event: WebhookEvent }> {
  const stored = await deps.store.transaction(async (tx) => {
    const result = await tx.webhookEvents.insert(newEvent(deps.clock, payload, envelope, origin));
    if (result.inserted) {
      await tx.webhookEvents.markFailed(result.event.id, {
        error: `pay cannot read this event: ${error.message}`,
        nextAttemptAt: deps.clock.now(),
        dead: true,
      });
    }
    return result;
  });
  deps.logger.warn('webhook event stored dead: pay cannot read it', {
    stripeEventId: envelope.stripeEventId,
    type: envelope.type,
    error,
  });
  return stored;
}
