import type { WebhookEvent } from '../domain/entities.js';
import {
  DependencyUnavailableError,
  GatewayRateLimitedError,
  GatewayUnavailableError,
  NotFoundError,
} from '../errors.js';
import { parseId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import { noFaults, type FaultPoints } from '../ports/faults.js';
import type { GatewayIntent, PaymentGateway } from '../ports/gateway.js';
import type { GatewayCharge, GatewayEvents } from '../ports/gateway-events.js';
import type { Logger } from '../ports/logger.js';
import type { Page, PageRequest } from '../ports/page.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';
import { checkPageRequest } from './page-limits.js';
import { logFieldsOf } from './payment-log-fields.js';
import {
  NOTHING_FETCHED,
  WebhookEventTooEarlyError,
  type FetchRequest,
  type Fetched,
  type HandlerResult,
} from './webhook-handler-context.js';
import { catchUpOnEvents, type CatchUpOptions, type CatchUpReport } from './webhook-catch-up.js';
import { HANDLED_WEBHOOK_EVENT_TYPES, handleWebhookEvent } from './webhook-handlers.js';
import { storeWebhookEvent, type WebhookOrigin } from './webhook-storage.js';
import type { WebhookBatchReport, WebhookOutcome, WebhookStatus } from './webhook-results.js';
import {
  DEFAULT_WEBHOOK_BACKOFF,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  webhookRetryDelayMs,
} from './webhook-retry.js';

export { HANDLED_WEBHOOK_EVENT_TYPES } from './webhook-handlers.js';
export {
  DEFAULT_CATCH_UP_LOOKBACK_MS,
  STRIPE_EVENT_RETENTION_MS,
  type CatchUpOptions,
  type CatchUpReport,
} from './webhook-catch-up.js';
export { WebhookEventTooEarlyError } from './webhook-handler-context.js';
export type { WebhookBatchReport, WebhookOutcome, WebhookStatus } from './webhook-results.js';
export {
  DEFAULT_WEBHOOK_BACKOFF,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  webhookRetryDelayMs,
} from './webhook-retry.js';

/**
 * The inbox's named crash points (RELIABILITY.md C1):
 * - `webhook.after_insert_before_ack`: the event is stored, Stripe has not been answered (it redelivers).
 * - `webhook.in_worker_after_apply_before_mark`: the handler's changes are written and the event is not
 *   marked, inside the worker's transaction: a crash rolls both back and the event is applied later.
 */
export const WEBHOOK_CRASH_POINTS = Object.freeze([
  'webhook.after_insert_before_ack',
  'webhook.in_worker_after_apply_before_mark',
] as const);

/** What {@link WebhookService} is built from; `createPay` in `@pay/runtime` wires it. */
export interface WebhookServiceDeps {
  /** The inbox and the objects its events change, each event applied in one transaction with its mark. */
  readonly store: Store;
  /**
   * Decodes payloads and fetches Stripe's current objects. The runtime passes its one Stripe gateway,
   * which also answers `retrieveIntent` (a failure report is checked against the intent as it is now).
   */
  readonly gateway: GatewayEvents & Pick<PaymentGateway, 'retrieveIntent'>;
  /** The time retries are scheduled from and lag is measured to. */
  readonly clock: Clock;
  /** Where ignored, failed, dead and re-queued events are logged. */
  readonly logger: Logger;
  /** Attempts before an event is `dead`; 8. */
  readonly maxAttempts?: number;
  /**
   * Whether {@link WebhookService.catchUp} asks Stripe for events at all (default true). Off for a Stripe
   * account whose events are not all this pay's (several environments on one account), where listing
   * them would store another endpoint's events.
   */
  readonly catchUpEnabled?: boolean;
  /** Backoff between attempts (`webhookRetryDelayMs`); 1 s doubling up to 1 h. */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Named crash points ({@link WEBHOOK_CRASH_POINTS}); inert by default. */
  readonly faults?: FaultPoints;
  /** Called once per attempt's outcome, for metrics. */
  readonly observe?: (outcome: WebhookOutcome) => void;
  /** PAY_REFUND_SUBSCRIPTION_POLICY: what a payment refunded in full by webhook does to its subscription; `cancel_now`. */
  readonly refundSubscriptionPolicy?: RefundSubscriptionPolicy;
}

/** How long other workers leave an event alone while one fetches from Stripe for it. */
const FETCH_LEASE_MS = 30_000;
/** Fetch rounds one attempt may take (an unknown intent, then the objects its handler needs). */
const MAX_FETCH_ROUNDS = 3;
/** The most of an error message kept on the event row. */
const MAX_ERROR_LENGTH = 500;

/** Events of unhandled types marked `ignored` per statement: one short UPDATE, whatever the pass's limit. */
const IGNORE_BATCH = 500;

/** What the fetch rounds of one attempt gathered. */
interface FetchedSoFar extends Fetched {
  readonly intents: Map<string, GatewayIntent>;
  readonly charges: Map<string, GatewayCharge>;
}

type Step =
  | { readonly kind: 'done'; readonly event: WebhookEvent; readonly status: 'processed' | 'ignored' }
  | { readonly kind: 'fetch'; readonly event: WebhookEvent; readonly request: FetchRequest }
  | { readonly kind: 'gone' };

/**
 * pay's durable inbox of Stripe events (DESIGN.md §5). `receive` stores a verified delivery before
 * Stripe is answered; `processDue` applies stored events, each in one transaction with its state
 * changes, exactly once per Stripe event id. A failing event is retried with backoff and ends `dead`
 * without holding up the others; any number of workers may run `processDue` at once.
 */
export class WebhookService {
  private readonly maxAttempts: number;
  private readonly backoff: { readonly baseMs: number; readonly capMs: number };
  private readonly faults: FaultPoints;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.maxAttempts = deps.maxAttempts ?? DEFAULT_WEBHOOK_MAX_ATTEMPTS;
    this.backoff = deps.backoff ?? DEFAULT_WEBHOOK_BACKOFF;
    this.faults = deps.faults ?? noFaults;
  }

  /**
   * Decodes a delivery whose signature the caller verified, and stores it unless its Stripe id is
   * stored already. A payload that is not an event throws (the API answers 400) and stores nothing.
   */
  async receive(payload: string): Promise<{ readonly inserted: boolean; readonly event: WebhookEvent }> {
    const stored = await this.store(payload, 'delivered');
    this.faults.reach('webhook.after_insert_before_ack');
    return stored;
  }

  /**
   * Stores the events Stripe did not deliver (an outage longer than its retries, a missing endpoint)
   * and those newer than the newest the inbox holds, fetched from Stripe's events API, as `receive`
   * stores a delivery: once per Stripe id, then applied by the worker like any other. Their rows say
   * `signatureVerified: false`: they came over the authenticated API, not signed (RELIABILITY.md D8).
   */
  async catchUp(options: CatchUpOptions = {}): Promise<CatchUpReport> {
    if (this.deps.catchUpEnabled === false) {
      return { listed: 0, stored: 0, alreadyKnown: 0 };
    }
    return await catchUpOnEvents(
      {
        gateway: this.deps.gateway,
        inbox: this.deps.store.repos.webhookEvents,
        clock: this.deps.clock,
        logger: this.deps.logger,
        store: (payload) => this.store(payload, 'fetched'),
      },
      options,
    );
  }

  /** A delivery's body (its signature checked by the caller) or an event fetched from Stripe's API. */
  private store(
    payload: string,
    origin: WebhookOrigin,
  ): Promise<{ readonly inserted: boolean; readonly event: WebhookEvent }> {
    return storeWebhookEvent(this.deps, payload, origin);
  }

  /**
   * First marks due events of types pay does not handle `ignored`, up to `limit` (500 at most) in one
   * statement; then claims due events one at a time (FOR UPDATE SKIP LOCKED), each applied and marked
   * in its own transaction; stops when none is due, after `limit` in all, or once `signal` is aborted
   * (a worker shutting down finishes the event it holds and claims no other, leaving the rest to the
   * other workers).
   */
  async processDue(
    options: { readonly limit?: number; readonly signal?: AbortSignal } = {},
  ): Promise<WebhookBatchReport> {
    const report = { processed: 0, ignored: 0, failed: 0, dead: 0 };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    // Types pay does not handle first, a batch per statement: they change nothing but their own row,
    // so their order against the handled events does not matter, and most of a busy inbox is them.
    report.ignored = await this.ignoreUnhandled(Math.min(limit, IGNORE_BATCH));
    for (let n = report.ignored; n < limit && options.signal?.aborted !== true; n++) {
      const outcome = await this.processOne();
      if (outcome === null) {
        break;
      }
      if (outcome !== 'skipped') {
        report[outcome] += 1;
      }
    }
    return report;
  }

  /** Counts by status, the oldest pending event and the lag behind it. */
  async status(): Promise<WebhookStatus> {
    const { webhookEvents } = this.deps.store.repos;
    const [counts, oldest] = await Promise.all([
      webhookEvents.countByStatus(),
      webhookEvents.oldestPending(),
    ]);
    const now = this.deps.clock.now();
    return {
      counts,
      oldestPending:
        oldest === null
          ? null
          : {
              stripeEventId: oldest.stripeEventId,
              type: oldest.type,
              receivedAt: oldest.receivedAt,
              stripeCreatedAt: oldest.stripeCreatedAt,
            },
      lagSeconds: oldest === null ? null : Math.max(0, secondsBetween(oldest.stripeCreatedAt, now)),
    };
  }

  /** Events in `status`, newest first; `startingAfter` is the last id (`whevt_…`) of the previous page. */
  async list(status: 'pending' | 'failed' | 'dead', page: PageRequest): Promise<Page<WebhookEvent>> {
    const { limit, startingAfter } = checkPageRequest(page);
    return await this.deps.store.repos.webhookEvents.listByStatus(status, {
      limit,
      startingAfter:
        startingAfter === undefined ? undefined : parseId('webhookEvent', startingAfter, 'starting_after'),
    });
  }

  /** Re-queues one event by its Stripe id (`evt_…`): pending, due now. NotFoundError when unknown. */
  async replay(stripeEventId: string): Promise<WebhookEvent> {
    const { webhookEvents } = this.deps.store.repos;
    const event = await webhookEvents.findByStripeId(stripeEventId);
    const requeued = event === null ? null : await webhookEvents.requeue(event.id, this.deps.clock.now());
    if (requeued === null) {
      throw new NotFoundError(`No such webhook event: ${stripeEventId.slice(0, 64)}.`, { param: 'id' });
    }
    this.deps.logger.info('webhook event re-queued', { stripeEventId, previousStatus: event?.status });
    return requeued;
  }

  /** Re-queues every dead event; returns how many. */
  async replayDead(): Promise<number> {
    const count = await this.deps.store.repos.webhookEvents.requeueDead(this.deps.clock.now());
    this.deps.logger.info('dead webhook events re-queued', { count });
    return count;
  }

  /** Marks up to `limit` due events of types pay does not handle `ignored`, in one statement. */
  private async ignoreUnhandled(limit: number): Promise<number> {
    const now = this.deps.clock.now();
    const ignored = await this.deps.store.repos.webhookEvents.ignoreDueUnhandled(
      now,
      HANDLED_WEBHOOK_EVENT_TYPES,
      limit,
    );
    if (ignored.length > 0) {
      // One line per batch, naming every event, so an operator can still find each one by its id.
      this.deps.logger.info('webhook events ignored: pay does not handle their types', {
        count: ignored.length,
        types: [...new Set(ignored.map((event) => event.type))],
        stripeEventIds: ignored.map((event) => event.stripeEventId),
      });
    }
    for (const event of ignored) {
      this.report(event, 'ignored');
    }
    return ignored.length;
  }

  /** One event, start to end: null when none is due; `skipped` when another worker took it over. */
  private async processOne(): Promise<WebhookOutcome['status'] | 'skipped' | null> {
    const claimed: { event?: WebhookEvent } = {};
    let step: Step;
    const fetched: FetchedSoFar = { intents: new Map(), charges: new Map() };
    try {
      step = await this.deps.store.transaction(async (tx) => {
        const [event] = await tx.webhookEvents.claimDue(this.deps.clock.now(), 1);
        if (event === undefined) {
          return { kind: 'gone' } as const;
        }
        claimed.event = event;
        return this.attempt(tx, event, NOTHING_FETCHED);
      });
      if (claimed.event === undefined) {
        return null;
      }
      for (let round = 1; step.kind === 'fetch'; round++) {
        if (round > MAX_FETCH_ROUNDS) {
          throw new WebhookEventTooEarlyError(
            `The handler still needs Stripe objects after ${round - 1} fetches.`,
          );
        }
        await this.fetch(step.request, fetched);
        const id = step.event.id;
        step = await this.deps.store.transaction(async (tx) => {
          const event = await tx.webhookEvents.claimById(id);
          return event === null ? ({ kind: 'gone' } as const) : this.attempt(tx, event, fetched);
        });
      }
    } catch (error) {
      if (claimed.event === undefined) {
        throw error; // the claim itself failed: the store is down, and the worker's loop backs off
      }
      if (isStoreOutage(error)) {
        // Not the event's fault: its transaction rolled back, so it is due again as it was, and counting
        // the attempt would send every event to `dead` during a long enough database outage.
        throw error;
      }
      return this.recordFailure(claimed.event, error);
    }
    if (step.kind === 'gone') {
      return 'skipped';
    }
    this.report(step.event, step.status);
    return step.status;
  }

  /** Runs the event's handler in `tx` and marks it, or leases it out while its objects are fetched. */
  private async attempt(tx: Repositories, event: WebhookEvent, fetched: Fetched): Promise<Step> {
    const now = this.deps.clock.now();
    const decoded = this.deps.gateway.decodeEvent(event.payload);
    const result: HandlerResult = await handleWebhookEvent({
      tx,
      event: decoded,
      cause: { stripeEventId: event.stripeEventId },
      now,
      fetched,
      logger: this.deps.logger,
      refundSubscriptionPolicy: this.deps.refundSubscriptionPolicy ?? 'cancel_now',
    });
    if (result.kind === 'fetch') {
      await tx.webhookEvents.defer(event.id, new Date(now.getTime() + FETCH_LEASE_MS));
      return { kind: 'fetch', event, request: result.request };
    }
    if (result.kind === 'ignored') {
      this.deps.logger.info('webhook event ignored', {
        stripeEventId: event.stripeEventId,
        type: event.type,
        reason: result.reason,
      });
    }
    this.faults.reach('webhook.in_worker_after_apply_before_mark');
    const status = result.kind === 'ignored' ? 'ignored' : 'processed';
    await tx.webhookEvents.markProcessed(event.id, now, status);
    return { kind: 'done', event, status };
  }

  /** Fetches what a handler asked for, outside any transaction, into `into`. */
  private async fetch(request: FetchRequest, into: FetchedSoFar): Promise<void> {
    const { gateway } = this.deps;
    await Promise.all([
      ...request.intents.map(async (id) => into.intents.set(id, await gateway.retrieveIntent(id))),
      ...request.charges.map(async (id) => into.charges.set(id, await gateway.retrieveCharge(id))),
    ]);
  }

  /**
   * Records a failed attempt in a transaction of its own (the attempt's rolled back): `failed` with the
   * next attempt after the backoff, or `dead` after the last. Skipped when another worker has taken the
   * event up since (its attempt count moved), so one failure is counted once.
   */
  private async recordFailure(event: WebhookEvent, error: unknown): Promise<'failed' | 'dead' | 'skipped'> {
    const attempts = event.attempts + 1;
    const dead = attempts >= this.maxAttempts;
    const now = this.deps.clock.now();
    const nextAttemptAt = new Date(now.getTime() + (dead ? 0 : webhookRetryDelayMs(attempts, this.backoff)));
    const described = logFieldsOf(error);
    const message = String(described.message).slice(0, MAX_ERROR_LENGTH);
    const marked = await this.deps.store.transaction(async (tx) => {
      const current = await tx.webhookEvents.claimById(event.id);
      if (current === null || current.attempts !== event.attempts) {
        return false;
      }
      await tx.webhookEvents.markFailed(event.id, { error: message, nextAttemptAt, dead });
      return true;
    });
    if (!marked) {
      return 'skipped';
    }
    const fields = {
      stripeEventId: event.stripeEventId,
      type: event.type,
      attempts,
      error: described,
      ...(dead ? {} : { nextAttemptAt: nextAttemptAt.toISOString() }),
    };
    if (dead) {
      this.deps.logger.error('webhook event is dead after its last attempt', fields);
    } else {
      this.deps.logger.warn('webhook event failed; it will be retried', fields);
    }
    const status = dead ? 'dead' : 'failed';
    this.report(event, status);
    return status;
  }

  private report(
    event: Pick<WebhookEvent, 'type' | 'stripeCreatedAt'>,
    status: WebhookOutcome['status'],
  ): void {
    this.deps.observe?.({
      status,
      type: event.type,
      lagSeconds: Math.max(0, secondsBetween(event.stripeCreatedAt, this.deps.clock.now())),
    });
  }
}

function secondsBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}

/**
 * A database that did not answer (a lost connection, a pool that cannot connect): every dependency error
 * but the gateway's, whose outages and rate limits are retried per event with its backoff.
 */
function isStoreOutage(error: unknown): boolean {
  return (
    error instanceof DependencyUnavailableError &&
    !(error instanceof GatewayUnavailableError) &&
    !(error instanceof GatewayRateLimitedError)
  );
}
