import type { SandboxClock } from '../clock.js';
import { type EndpointRecord, EndpointRegistry } from './endpoint-registry.js';
import { type AttemptResult, type Delivery, DeliveryQueue, type EventState } from './delivery-queue.js';
import { WebhookFaultBook } from './faults.js';
import type { DeliveryAttempt, FlushResult, SandboxEvent, WebhookHub, WebhookHubOptions } from './hub.js';
import { type PostOutcome, WebhookSender } from './http-sender.js';
import { RETRY_SCHEDULES } from './retry-schedules.js';
import { generateWebhookSecret, stripeSignature } from './signing.js';

/** Thrown by `resend` for an event or endpoint the hub does not know; the control plane answers 404. */
export class WebhookResendError extends Error {
  override readonly name = 'WebhookResendError';
  constructor(
    message: string,
    /** Which argument was not found. */
    readonly param: 'event' | 'endpoint',
  ) {
    super(message);
  }
}

/** The delivery log keeps the most recent attempts only, so a long-running sandbox does not grow forever. */
const MAX_LOGGED_ATTEMPTS = 50_000;

/** Shared by every event published without a matching endpoint; never written to. */
const NO_TARGETS: readonly string[] = Object.freeze([]);
const NO_ENDPOINTS: Set<string> = new Set();

/** A single attempt, no retries: what a manual resend is at Stripe. */
const RESEND_OFFSETS: readonly number[] = [0];

/** A Fisher-Yates shuffle that never returns the input order (for two or more distinct items). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  // A shuffle that happens to keep creation order proves nothing to the test that asked for it.
  if (out.every((item, i) => item === items[i])) {
    out.reverse();
  }
  return out;
}

function isSuccess(outcome: PostOutcome): boolean {
  return outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
}

/**
 * Builds the webhook side of the sandbox (SANDBOX.md §5): endpoints, signed at-least-once delivery on
 * the retry schedule of the sandbox clock, per-event delivery state and the webhook faults.
 *
 * On a virtual clock, attempts run when they fall due through `clock.advance`/`set` (and on publish,
 * for the first attempt), or on `flush()`; on a real clock, timers run them. With `autoDeliver: false`
 * only `flush()` and `resend()` deliver.
 */
export function createWebhookHub(options: WebhookHubOptions): WebhookHub {
  return new Hub(options);
}

class Hub implements WebhookHub {
  private readonly clock: SandboxClock;
  private readonly registry: EndpointRegistry;
  private readonly faults = new WebhookFaultBook();
  private readonly sender: WebhookSender;
  private readonly queue: DeliveryQueue;
  private readonly offsets: readonly number[];
  private readonly autoDeliver: boolean;
  private readonly unsubscribe: () => void;
  private events = new Map<string, Map<string, EventState>>();
  private log: DeliveryAttempt[] = [];
  private readonly totals = { attempted: 0, succeeded: 0, failed: 0 };
  /** Bumped by reset, so that attempts in flight across a reset do not touch the new state. */
  private generation = 0;
  private closed = false;

  constructor(private readonly options: WebhookHubOptions) {
    this.clock = options.clock;
    this.registry = new EndpointRegistry(options.clock, options.staticEndpoints ?? []);
    this.sender = new WebhookSender(options.timeoutMs ?? 30_000);
    this.offsets = RETRY_SCHEDULES[options.retrySchedule ?? 'fast'];
    this.autoDeliver = options.autoDeliver ?? true;
    this.queue = new DeliveryQueue({
      clock: options.clock,
      concurrency: Math.max(1, options.concurrency ?? 1),
      attempt: (delivery) => this.attempt(delivery),
      order: (due) => (this.faults.take('webhook_shuffle') ? shuffled(due) : due),
      useTimers: this.autoDeliver && options.clock.kind === 'real',
    });
    this.unsubscribe =
      this.autoDeliver && options.clock.kind === 'virtual'
        ? options.clock.onChange(() => this.queue.promoteDue())
        : () => {};
  }

  createEndpoint: WebhookHub['createEndpoint'] = (account, input) => this.registry.create(account, input);
  retrieveEndpoint: WebhookHub['retrieveEndpoint'] = (account, id) => this.registry.retrieve(account, id);
  listEndpoints: WebhookHub['listEndpoints'] = (account) => this.registry.list(account);

  updateEndpoint: WebhookHub['updateEndpoint'] = (account, id, update) => {
    const updated = this.registry.update(account, id, update);
    if (updated?.status === 'disabled') {
      this.queue.dropEndpoint(id);
    }
    return updated;
  };

  deleteEndpoint: WebhookHub['deleteEndpoint'] = (account, id) => {
    const deleted = this.registry.delete(account, id);
    if (deleted) {
      this.queue.dropEndpoint(id);
    }
    return deleted;
  };

  publish(account: string, event: SandboxEvent): void {
    if (this.closed) {
      return;
    }
    const targets = this.registry.targets(account, event.type);
    // Most events of a benchmark have no endpoint: they share empty sets, which nothing ever adds to
    // (only endpoints in `targets` are recorded), so keeping them for `resend` costs one small object.
    const state: EventState =
      targets.length === 0
        ? { account, event, targets: NO_TARGETS, succeeded: NO_ENDPOINTS, failed: NO_ENDPOINTS }
        : { account, event, targets: targets.map((t) => t.id), succeeded: new Set(), failed: new Set() };
    this.eventsOf(account).set(event.id, state);
    const now = this.clock.now();
    for (const endpoint of targets) {
      const delay = this.faults.take('webhook_delay');
      const dueAt = now + (delay ? delay.seconds * 1000 : 0);
      const copies = 1 + (this.faults.take('webhook_duplicate')?.count ?? 0);
      for (let i = 0; i < copies; i++) {
        this.queue.add(this.newDelivery(state, endpoint.id, this.offsets, dueAt));
      }
    }
    if (targets.length > 0 && this.autoDeliver) {
      this.queue.kick();
    }
  }

  pendingWebhooks(account: string, eventId: string): number {
    const state = this.events.get(account)?.get(eventId);
    return state ? state.targets.filter((id) => !state.succeeded.has(id)).length : 0;
  }

  deliverySucceeded(account: string, eventId: string): boolean | null {
    const state = this.events.get(account)?.get(eventId);
    if (!state || state.targets.length === 0) {
      return null;
    }
    if (state.targets.every((id) => state.succeeded.has(id))) {
      return true;
    }
    // An endpoint that failed and has not answered 2xx since makes the event undelivered.
    return state.targets.some((id) => state.failed.has(id) && !state.succeeded.has(id)) ? false : null;
  }

  async flush(): Promise<FlushResult> {
    const before = { ...this.totals };
    this.queue.promoteDue();
    // Attempts that fall due while waiting (retries already due on an advanced virtual clock, or a
    // real clock moving on) are run too; the loop ends when nothing due is left.
    while (this.queue.busy()) {
      await this.queue.idle();
      this.queue.promoteDue();
    }
    return {
      attempted: this.totals.attempted - before.attempted,
      succeeded: this.totals.succeeded - before.succeeded,
      failed: this.totals.failed - before.failed,
    };
  }

  deliveries(filter: { event?: string; endpoint?: string } = {}): DeliveryAttempt[] {
    return this.log
      .filter(
        (a) =>
          (filter.event === undefined || a.eventId === filter.event) &&
          (filter.endpoint === undefined || a.endpointId === filter.endpoint),
      )
      .map((a) => ({ ...a }));
  }

  async resend(account: string, eventId: string, endpointId?: string): Promise<FlushResult> {
    const state = this.events.get(account)?.get(eventId);
    if (!state) {
      throw new WebhookResendError(`No such event: '${eventId}'`, 'event');
    }
    let endpoints: EndpointRecord[];
    if (endpointId === undefined) {
      endpoints = this.registry.targets(account, state.event.type);
    } else {
      const endpoint = this.registry.find(account, endpointId);
      if (!endpoint) {
        throw new WebhookResendError(`No such webhook endpoint: '${endpointId}'`, 'endpoint');
      }
      endpoints = [endpoint];
    }
    const now = this.clock.now();
    const deliveries = endpoints.map((e) => this.newDelivery(state, e.id, RESEND_OFFSETS, now));
    for (const delivery of deliveries) {
      this.queue.add(delivery);
    }
    this.queue.promoteDue();
    await this.queue.idle();
    const succeeded = deliveries.filter((d) => d.outcome === 'succeeded').length;
    const attempted = deliveries.reduce((n, d) => n + d.attempts, 0);
    return { attempted, succeeded, failed: attempted - succeeded };
  }

  addFault: WebhookHub['addFault'] = (fault) => this.faults.add(fault);
  clearFaults: WebhookHub['clearFaults'] = () => this.faults.clear();

  reset(): void {
    this.generation += 1;
    this.queue.clear();
    this.sender.abortAll('the sandbox was reset');
    this.registry.reset();
    this.faults.clear();
    this.events = new Map();
    this.log = [];
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.unsubscribe();
    this.queue.close();
    this.sender.abortAll('the webhook hub is closed');
    await this.queue.idle();
    this.sender.destroy();
  }

  private eventsOf(account: string): Map<string, EventState> {
    let events = this.events.get(account);
    if (!events) {
      events = new Map();
      this.events.set(account, events);
    }
    return events;
  }

  private newDelivery(
    state: EventState,
    endpointId: string,
    offsets: readonly number[],
    dueAt: number,
  ): Delivery {
    return {
      seq: this.queue.nextSeq(),
      state,
      endpointId,
      offsets,
      firstDueAt: dueAt,
      dueAt,
      attempts: 0,
      outcome: 'pending',
    };
  }

  /** One POST of one delivery: render, sign with this attempt's time, send, record, decide on a retry. */
  private async attempt(delivery: Delivery): Promise<AttemptResult> {
    const generation = this.generation;
    const endpoint = this.usableEndpoint(delivery);
    if (!endpoint) {
      delivery.outcome = 'dropped';
      return 'done';
    }
    const { state } = delivery;
    delivery.attempts += 1;
    const sentAt = this.clock.now();
    const body = this.render(state, endpoint);
    const stale = this.faults.take('webhook_stale_signature');
    const secret = this.faults.take('webhook_bad_signature') ? generateWebhookSecret() : endpoint.secret;
    const signatureHeader = stripeSignature(
      body,
      [secret],
      this.clock.nowSeconds() - (stale?.age_seconds ?? 0),
    );
    const down = this.faults.take('webhook_endpoint_down');
    const outcome: PostOutcome = down
      ? down.timeout
        ? { status: null, error: 'timeout (fault webhook_endpoint_down)' }
        : { status: down.status ?? 503, error: null }
      : await this.sender.post(endpoint.url, body, signatureHeader);
    if (generation !== this.generation) {
      return 'done';
    }
    const succeeded = isSuccess(outcome);
    this.record({
      eventId: state.event.id,
      eventType: state.event.type,
      endpointId: endpoint.id,
      attempt: delivery.attempts,
      scheduledAt: delivery.dueAt,
      sentAt,
      responseStatus: outcome.status,
      error: outcome.error,
      signatureHeader,
      succeeded,
    });
    const owed = state.targets.includes(endpoint.id);
    if (succeeded) {
      delivery.outcome = 'succeeded';
      if (owed) {
        state.succeeded.add(endpoint.id);
      }
      return 'done';
    }
    if (owed) {
      state.failed.add(endpoint.id);
    }
    // No retry to an endpoint disabled or deleted meanwhile, nor past the end of the schedule.
    if (delivery.offsets[delivery.attempts] === undefined || !this.usableEndpoint(delivery)) {
      delivery.outcome = 'failed';
      return 'done';
    }
    return 'retry';
  }

  private usableEndpoint(delivery: Delivery): EndpointRecord | undefined {
    const endpoint = this.registry.get(delivery.endpointId);
    return endpoint && endpoint.status === 'enabled' ? endpoint : undefined;
  }

  /**
   * The exact bytes sent: the event pretty-printed like Stripe's, with the endpoint's API version (the
   * event's own when the endpoint names none) and the pending count at send time. Spreading keeps the
   * event's key order.
   */
  private render(state: EventState, endpoint: EndpointRecord): string {
    const apiVersion = endpoint.apiVersion ?? (state.event.api_version || this.options.defaultApiVersion);
    const pending = state.targets.filter((id) => !state.succeeded.has(id)).length;
    return JSON.stringify({ ...state.event, api_version: apiVersion, pending_webhooks: pending }, null, 2);
  }

  private record(attempt: DeliveryAttempt): void {
    this.totals.attempted += 1;
    this.totals[attempt.succeeded ? 'succeeded' : 'failed'] += 1;
    this.log.push(attempt);
    if (this.log.length > MAX_LOGGED_ATTEMPTS) {
      this.log.splice(0, this.log.length - MAX_LOGGED_ATTEMPTS);
    }
  }
}
