import type { Cause } from '../domain/entities.js';
import { InvalidStateError } from '../errors.js';
import type { GatewayIntent } from '../ports/gateway.js';
import type { GatewayCharge, GatewayEvent } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { Repositories } from '../ports/repositories.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';

/*
 * What a webhook handler works with and what it answers. A handler runs inside the worker's
 * transaction and makes no network call: when the event alone cannot tell what to do, it answers
 * `fetch` (before writing anything), the worker fetches those objects from Stripe outside the
 * transaction, and runs the handler again in a new one with them in `fetched`.
 */

/** Stripe's current objects a handler asked for, by Stripe id. */
export interface Fetched {
  readonly intents: ReadonlyMap<string, GatewayIntent>;
  readonly charges: ReadonlyMap<string, GatewayCharge>;
}

/** Objects to fetch from Stripe before the handler can decide. */
export interface FetchRequest {
  readonly intents: readonly string[];
  readonly charges: readonly string[];
}

/** What a handler did with its event. */
export type HandlerResult =
  | { readonly kind: 'processed' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'fetch'; readonly request: FetchRequest };

/** One run of a handler: the event, the transaction's repositories, and what was fetched for it. */
export interface HandlerContext {
  readonly tx: Repositories;
  readonly event: GatewayEvent;
  /** The cause every state change of this event records: its Stripe id. */
  readonly cause: Cause;
  readonly now: Date;
  readonly fetched: Fetched;
  readonly logger: Logger;
  /** What a payment's becoming `refunded` does to the subscription it paid for. */
  readonly refundSubscriptionPolicy: RefundSubscriptionPolicy;
}

export const PROCESSED: HandlerResult = Object.freeze({ kind: 'processed' });

/** A `fetch` answer for the intents and charges named (empty lists allowed). */
export function fetchFirst(request: {
  intents?: readonly string[];
  charges?: readonly string[];
}): HandlerResult {
  return { kind: 'fetch', request: { intents: request.intents ?? [], charges: request.charges ?? [] } };
}

/** Nothing fetched yet. */
export const NOTHING_FETCHED: Fetched = Object.freeze({ intents: new Map(), charges: new Map() });

/**
 * The event is about a payment pay has not finished recording (its row or its PaymentIntent's id is not
 * there yet). Retryable: the event is retried with backoff, never dropped.
 */
export class WebhookEventTooEarlyError extends InvalidStateError {
  constructor(message: string, options: { context?: Record<string, unknown> } = {}) {
    super(message, { ...options, retryable: true });
  }
}
