import type { WebhookEventStatus } from '../domain/statuses.js';

/** What became of one attempt at an event, for metrics. */
export interface WebhookOutcome {
  /** `failed`: will be retried; `dead`: out of attempts. */
  readonly status: 'processed' | 'ignored' | 'failed' | 'dead';
  /** Stripe's event type. */
  readonly type: string;
  /** Seconds from Stripe's `created` to this outcome. */
  readonly lagSeconds: number;
}

/** What one `processDue` pass did, counted by outcome. */
export interface WebhookBatchReport {
  /** Events applied. */
  readonly processed: number;
  /** Events marked `ignored`: of a type pay does not handle, or about an object that is not pay's. */
  readonly ignored: number;
  /** Events whose attempt failed and that wait for a retry with backoff. */
  readonly failed: number;
  /** Events that failed their last attempt: left for a person (`pay webhook-status`). */
  readonly dead: number;
}

/** The inbox at a glance (`pay webhook-status`). */
export interface WebhookStatus {
  /** How many stored events are in each status. */
  readonly counts: Readonly<Record<WebhookEventStatus, number>>;
  /** The pending event Stripe created first, or null when nothing is pending. */
  readonly oldestPending: {
    readonly stripeEventId: string;
    readonly type: string;
    readonly receivedAt: Date;
    readonly stripeCreatedAt: Date;
  } | null;
  /** Seconds from the oldest pending event's `created` to now: how far behind the workers are. */
  readonly lagSeconds: number | null;
}
