import { ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { GatewayEvents, ListedGatewayEvent, ListEventsQuery } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { WebhookEventRepository } from '../ports/webhook-event-repository.js';
import { HANDLED_WEBHOOK_EVENT_TYPES } from './webhook-handlers.js';

/*
 * Missed webhooks (RELIABILITY.md D8). Stripe retries a failed delivery for three days and then gives
 * up; an event it never managed to deliver exists only in its events API, for 30 days. The catch-up
 * lists those events and stores each as a delivery is stored, so an outage longer than Stripe's retries
 * loses nothing: the inbox's unique Stripe id makes an event fetched here and delivered later (or the
 * other way round) one row, applied once by the worker.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back Stripe's events API reaches. */
export const STRIPE_EVENT_RETENTION_MS = 30 * DAY_MS;
/** Stripe's retry schedule (three days) ends within this window: older failures were caught by earlier passes. */
export const DEFAULT_CATCH_UP_LOOKBACK_MS = 3 * DAY_MS;

/** Options of one {@link WebhookService.catchUp} pass. */
export interface CatchUpOptions {
  /** The end of the window; the clock's now by default. */
  readonly now?: Date;
  /** How far back to look for undelivered events, in ms: 3 days by default, at most Stripe's 30. */
  readonly lookbackMs?: number;
}

/** What one catch-up pass found. */
export interface CatchUpReport {
  /** Distinct events Stripe listed. */
  readonly listed: number;
  /** Events the inbox did not hold, stored now for the worker to apply. */
  readonly stored: number;
  /** Events the inbox already held (delivered, or fetched by an earlier pass). */
  readonly alreadyKnown: number;
}

export interface CatchUpDeps {
  readonly gateway: Pick<GatewayEvents, 'listEvents'>;
  readonly inbox: Pick<WebhookEventRepository, 'newestStripeCreatedAt'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stores one listed event by the path a delivery takes; `inserted` is false when its Stripe id was stored. */
  readonly store: (payload: string) => Promise<{ readonly inserted: boolean }>;
}

function lookbackOf(options: CatchUpOptions): number {
  const lookbackMs = options.lookbackMs ?? DEFAULT_CATCH_UP_LOOKBACK_MS;
  if (!Number.isSafeInteger(lookbackMs) || lookbackMs <= 0) {
    throw new ValidationError(`The lookback must be a positive integer of ms, got ${lookbackMs}.`, {
      param: 'lookbackMs',
    });
  }
  return Math.min(lookbackMs, STRIPE_EVENT_RETENTION_MS);
}

/**
 * Lists, in the lookback window, the events Stripe failed to deliver (`delivery_success=false`) and
 * every event at or after the newest one the inbox holds — those Stripe has not tried yet, or delivers to
 * no endpoint that answered — and stores the ones the inbox lacks. Only types pay handles are listed:
 * the others would be stored just to be ignored. Stripe calls happen outside any transaction; each store
 * is the inbox's own insert.
 */
export async function catchUpOnEvents(
  deps: CatchUpDeps,
  options: CatchUpOptions = {},
): Promise<CatchUpReport> {
  const lookbackMs = lookbackOf(options);
  const now = options.now ?? deps.clock.now();
  const windowStart = new Date(now.getTime() - lookbackMs);
  const newest = await deps.inbox.newestStripeCreatedAt();
  const queries: Omit<ListEventsQuery, 'startingAfter' | 'types'>[] = [];
  if (newest === null || newest.getTime() <= windowStart.getTime()) {
    // Everything in the window is newer than what the inbox holds: one listing covers the failed ones too.
    queries.push({ createdAfter: windowStart });
  } else {
    queries.push({ createdAfter: windowStart, deliverySuccess: false }, { createdAfter: newest });
  }
  const seen = new Set<string>();
  const report = { listed: 0, stored: 0, alreadyKnown: 0 };
  for (const query of queries) {
    let startingAfter: string | undefined;
    do {
      const page = await deps.gateway.listEvents({
        ...query,
        types: HANDLED_WEBHOOK_EVENT_TYPES,
        ...(startingAfter === undefined ? {} : { startingAfter }),
      });
      startingAfter = page.hasMore ? page.data.at(-1)?.stripeEventId : undefined;
      for (const event of oldestFirst(page.data)) {
        if (seen.has(event.stripeEventId)) {
          continue;
        }
        seen.add(event.stripeEventId);
        const { inserted } = await deps.store(event.payload);
        report.listed += 1;
        report[inserted ? 'stored' : 'alreadyKnown'] += 1;
      }
    } while (startingAfter !== undefined);
  }
  if (report.stored > 0) {
    deps.logger.info('webhook catch-up stored events Stripe had not delivered', {
      ...report,
      since: windowStart.toISOString(),
      newestKnown: newest?.toISOString() ?? null,
    });
  }
  return report;
}

/**
 * Stripe lists newest first; within a page the older events are stored first, so the worker (which
 * claims in insertion order among rows due at once) meets an object's events roughly as they happened.
 */
function oldestFirst(events: readonly ListedGatewayEvent[]): ListedGatewayEvent[] {
  return [...events].reverse();
}
