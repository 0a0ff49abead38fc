import type { WebhookEvent } from '../domain/entities.js';
import type { WebhookEventStatus } from '../domain/statuses.js';
import type { WebhookEventId } from '../ids.js';
import type { Page, PageRequest } from './page.js';

/* The durable inbox of Stripe's events (DESIGN.md §5): what the webhook route stores and workers claim. */

export interface NewWebhookEvent {
  stripeEventId: string;
  type: string;
  apiVersion: string | null;
  livemode: boolean;
  objectId: string | null;
  payload: string;
  signatureVerified: boolean;
  stripeCreatedAt: Date;
  receivedAt: Date;
}

export interface WebhookEventRepository {
  /** Stores the event unless its Stripe id is already there; `inserted` says which. */
  insert(input: NewWebhookEvent): Promise<{ event: WebhookEvent; inserted: boolean }>;
  findByStripeId(stripeEventId: string): Promise<WebhookEvent | null>;
  /**
   * Locks up to `limit` due events (`pending` or `failed`, next attempt ≤ now), oldest first, skipping
   * rows other workers hold. Only meaningful inside a transaction: the locks end with it.
   */
  claimDue(now: Date, limit: number): Promise<WebhookEvent[]>;
  markProcessed(id: WebhookEventId, at: Date, status: 'processed' | 'ignored'): Promise<void>;
  /** Records a failed attempt: `failed` with the next attempt time, or `dead` when none remain. */
  markFailed(
    id: WebhookEventId,
    failure: { error: string; nextAttemptAt: Date; dead: boolean },
  ): Promise<void>;
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
  /** {@link requeue} for every `dead` event; returns how many. */
  requeueDead(now: Date): Promise<number>;
  /** When Stripe created the newest event the inbox holds, whatever its status; null when it is empty. */
  newestStripeCreatedAt(): Promise<Date | null>;
}
