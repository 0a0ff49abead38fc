import type { WebhookEvent } from '../domain/entities.js';
import type { WebhookEventStatus } from '../domain/statuses.js';
import type { WebhookEventId } from '../ids.js';
import type { Page, PageRequest } from './page.js';

/* The durable inbox of Stripe's events (DESIGN.md §5): what the webhook route stores and workers claim. */

/**
 * A Stripe event as the webhook route (or the catch-up) stores it: `pending`, due at once, no attempts yet.
 */
export interface NewWebhookEvent {
  /** Stripe's id of the event (`evt_…`): unique in the inbox, so a redelivery is the same row. */
  stripeEventId: string;
  /** Stripe's event type (`payment_intent.succeeded`, …), stored even for types pay ignores. */
  type: string;
  /** The Stripe API version the payload was rendered in; null when Stripe sent none. */
  apiVersion: string | null;
  /** True for an event of Stripe's live mode. */
  livemode: boolean;
  /** The id of the object the event is about (`data.object.id`), null when it has none. */
  objectId: string | null;
  /** The body exactly as received (or as the events API returned it): what the worker decodes. */
  payload: string;
  /**
   * True when the body came with a valid `Stripe-Signature`; false for one fetched over Stripe's
   * authenticated API by the catch-up.
   */
  signatureVerified: boolean;
  /** When Stripe created the event: how the oldest pending event and the inbox's lag are found. */
  stripeCreatedAt: Date;
  /** When pay stored it (the clock's now at the route or the catch-up). */
  receivedAt: Date;
}

/** An event {@link WebhookEventRepository.ignoreDueUnhandled} marked `ignored`: what its report needs. */
export type IgnoredWebhookEvent = Pick<WebhookEvent, 'id' | 'stripeEventId' | 'type' | 'stripeCreatedAt'>;

/** The webhook inbox: one row per Stripe event, claimed by workers with row locks so each is applied once. */
export interface WebhookEventRepository {
  /** Stores the event unless its Stripe id is already there; `inserted` says which. */
  insert(input: NewWebhookEvent): Promise<{ event: WebhookEvent; inserted: boolean }>;
  /** The stored event with this Stripe id (`evt_…`), in any status; null when the inbox never got it. */
  findByStripeId(stripeEventId: string): Promise<WebhookEvent | null>;
  /**
   * Locks up to `limit` due events (`pending` or `failed`, next attempt ≤ now), oldest first, skipping
   * rows other workers hold. Only meaningful inside a transaction: the locks end with it.
   */
  claimDue(now: Date, limit: number): Promise<WebhookEvent[]>;
  /**
   * Marks up to `limit` due events whose type is not in `handledTypes` as `ignored` at `now` (an attempt
   * counted, as {@link WebhookEventRepository.markProcessed} counts one), oldest first, skipping rows
   * other workers hold, in one statement; returns what it marked. Such an event changes nothing in pay,
   * so applying it is only recording that it was seen: one statement for a batch instead of a
   * transaction per event.
   */
  ignoreDueUnhandled(
    now: Date,
    handledTypes: readonly string[],
    limit: number,
  ): Promise<IgnoredWebhookEvent[]>;
  /**
   * Marks an applied event `processed` (or `ignored`) at `at`, in the transaction that applied it, so both
   * commit or neither.
   */
  markProcessed(id: WebhookEventId, at: Date, status: 'processed' | 'ignored'): Promise<void>;
  /** Records a failed attempt: `failed` with the next attempt time, or `dead` when none remain. */
  markFailed(
    id: WebhookEventId,
    failure: { error: string; nextAttemptAt: Date; dead: boolean },
  ): Promise<void>;
  /**
   * How many events are in each status, every status present (0 when none): `pay webhook-status` and the
   * metrics gauge.
   */
  countByStatus(): Promise<Record<WebhookEventStatus, number>>;
  /**
   * Locks one event by id for a worker that let it go to fetch from Stripe, if it still waits
   * (`pending` or `failed`, whenever due) and no other worker holds it (`FOR UPDATE SKIP LOCKED`).
   */
  claimById(id: WebhookEventId): Promise<WebhookEvent | null>;
  /** Moves the event's next attempt to `until` without counting an attempt (a lease while a worker fetches). */
  defer(id: WebhookEventId, until: Date): Promise<void>;
  /** Events in `status`, newest first (by id), in pages. */
  listByStatus(status: WebhookEventStatus, page: PageRequest): Promise<Page<WebhookEvent>>;
  /** The `pending` event Stripe created first, or null when none is pending. */
  oldestPending(): Promise<WebhookEvent | null>;
  /**
   * Queues the event again whatever its status: `pending`, due at `now`, its attempts back to 0 (its
   * last error is kept). Null when there is no such event.
   */
  requeue(id: WebhookEventId, now: Date): Promise<WebhookEvent | null>;
  /** {@link WebhookEventRepository.requeue} for every `dead` event; returns how many. */
  requeueDead(now: Date): Promise<number>;
  /** When Stripe created the newest event the inbox holds, whatever its status; null when it is empty. */
  newestStripeCreatedAt(): Promise<Date | null>;
}
