import {
  PAYMENT_RESULT_KINDS,
  REFUND_STATUSES,
  SUBSCRIPTION_STATUSES,
  type PayErrorCode,
  type SubscriptionStatus,
  type WebhookOutcome,
} from '@pay/core';
import { WEBHOOK_REFUSAL_REASONS, type WebhookDelivery } from '@pay/runtime';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { routeLabel } from './middleware/route-label.js';

/** The app's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export interface HttpMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route' | 'status'>;
  /** Requests refused with a 401, by why (see AuthenticationFailure); never by key. */
  readonly authFailures: Counter<'reason'>;
  /** Requests refused with a 429 because their API key was over its limit; never by key. */
  readonly rateLimited: Counter;
  /** What the payment routes answered: outcomes, replays, idempotency conflicts. */
  readonly payments: PaymentMetrics;
  /** Webhook deliveries at the route, and events the workers of this process handled. */
  readonly webhooks: WebhookMetrics;
  /** Renewals the schedulers of this process charged, and subscriptions by status at scrape time. */
  readonly subscriptions: SubscriptionMetrics;
  /** What the refund routes answered, and how much money they gave back. */
  readonly refunds: RefundMetrics;
}

/**
 * A registry with Node's default metrics, the HTTP request counter and duration histogram, and the
 * counter of refused API keys (a rising `unknown_key` rate is someone guessing keys).
 */
export function createMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests, by method, matched route and status',
      labelNames,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, matched route and status',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'api_authentication_failures_total',
      help: 'Requests refused for a missing or bad API key, by reason: missing_header, malformed_header, malformed_key, unknown_key (unknown or revoked)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'api_rate_limited_total',
      help: 'Requests refused with a 429 because their API key was over PAY_RATE_LIMIT requests per minute',
      registers: [registry],
    }),
    payments: createPaymentMetrics(registry),
    webhooks: createWebhookMetrics(registry),
    subscriptions: createSubscriptionMetrics(registry),
    refunds: createRefundMetrics(registry),
  };
}

/** Counts and times every request under its matched route pattern (`unmatched` for 404s). */
export function measureRequests(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.duration.startTimer();
    res.once('finish', () => {
      const labels = { method: req.method, route: routeLabel(req, res), status: String(res.statusCode) };
      metrics.requests.inc(labels);
      stop(labels);
    });
    next();
  };
}

/** `GET /metrics` in Prometheus' text format. */
export function metricsHandler(metrics: HttpMetrics): RequestHandler {
  return async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/**
 * `pay_gateway_call_duration_seconds{call,outcome}`: how long each call the payment flow makes to
 * Stripe took (`call`: create_intent, confirm_intent, …), and whether it got an answer. A rising
 * `error` share or a tail near PAY_STRIPE_TIMEOUT_MS is Stripe (or the way to it) struggling.
 */
export function createGatewayCallHistogram(registry: Registry): Histogram<'call' | 'outcome'> {
  return new Histogram({
    name: 'pay_gateway_call_duration_seconds',
    help: 'Duration of calls to the payment gateway (Stripe) in seconds, by call and outcome (ok, error)',
    labelNames: ['call', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
}

/**
 * pay's client-side limit on requests to Stripe (`PAY_STRIPE_RATE_LIMIT`):
 * `pay_stripe_limiter_wait_seconds`, how long each request sent waited for its token (0 for most: a
 * tail near PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS is a queue at the limit), and
 * `pay_stripe_limiter_shed_total{endpoint}`, requests never sent because the wait would have been
 * longer (each a 503 with `Retry-After` to a client, or a retry for a background job). Both stay empty
 * while the limit is off.
 */
export interface StripeLimiterMetrics {
  readonly wait: Histogram;
  readonly shed: Counter<'endpoint'>;
}

/** The limiter's histogram and counter, registered in `registry`. */
export function createStripeLimiterMetrics(registry: Registry): StripeLimiterMetrics {
  return {
    wait: new Histogram({
      name: 'pay_stripe_limiter_wait_seconds',
      help: "Seconds a request to Stripe waited for pay's own rate limit (PAY_STRIPE_RATE_LIMIT) before it was sent",
      buckets: [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 1.75, 2, 2.25, 2.5, 3, 5, 10, 30, 60,
      ],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'pay_stripe_limiter_shed_total',
      help: "Requests to Stripe never sent because pay's own rate limit would have held them past PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS, by endpoint",
      labelNames: ['endpoint'] as const,
      registers: [registry],
    }),
  };
}

/** Records one request at the limiter: what createPay's `observeStripeLimiter` is given in the API process. */
export function observeStripeLimiterOutcome(
  metrics: StripeLimiterMetrics,
  endpoint: string,
  waitedSeconds: number,
  outcome: 'sent' | 'shed',
): void {
  if (outcome === 'sent') {
    metrics.wait.observe(waitedSeconds);
  } else {
    metrics.shed.inc({ endpoint });
  }
}

/**
 * The payment routes' counters: `pay_payments_total{outcome}` (a first answer per payment request, by
 * result kind), `pay_idempotent_replays_total` (stored answers sent again) and
 * `pay_idempotency_conflicts_total{code}` (`idempotency_key_in_use`, 409, and `idempotency_key_reused`,
 * 422: a client retrying too eagerly, or reusing keys).
 */
export interface PaymentMetrics {
  readonly payments: Counter<'outcome'>;
  readonly idempotentReplays: Counter;
  readonly idempotencyConflicts: Counter<'code'>;
}

/** The payment counters, registered in `registry`, every series present from the start at 0. */
function createPaymentMetrics(registry: Registry): PaymentMetrics {
  const metrics: PaymentMetrics = {
    payments: new Counter({
      name: 'pay_payments_total',
      help: 'Payment requests answered for the first time (replays excluded), by outcome: succeeded, processing, requires_action, declined, rejected',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    idempotentReplays: new Counter({
      name: 'pay_idempotent_replays_total',
      help: 'Requests answered with the response stored for their Idempotency-Key',
      registers: [registry],
    }),
    idempotencyConflicts: new Counter({
      name: 'pay_idempotency_conflicts_total',
      help: 'Requests refused for their Idempotency-Key, by code: idempotency_key_in_use (409), idempotency_key_reused (422)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
  // Every series exists from the start at 0, so a rate over it is defined before the first payment.
  for (const outcome of PAYMENT_RESULT_KINDS) {
    metrics.payments.inc({ outcome }, 0);
  }
  for (const code of ['idempotency_key_in_use', 'idempotency_key_reused'] as const) {
    metrics.idempotencyConflicts.inc({ code }, 0);
  }
  return metrics;
}

/** The `result` label of `pay_webhook_events_total`: what the route and the workers did with an event. */
export const WEBHOOK_EVENT_RESULTS = [
  'received',
  'verified',
  'rejected',
  'duplicate',
  'processed',
  'ignored',
  'failed',
  'dead',
] as const;
export type WebhookEventResult = (typeof WEBHOOK_EVENT_RESULTS)[number];

/**
 * `pay_webhook_events_total{result,reason}`: deliveries `received` at the route, `verified` and stored,
 * `duplicate` (already stored: nothing changed), `rejected` with a `reason` (a rising
 * `signature_mismatch` is a wrong secret or a forger); and events the workers `processed`, `ignored`
 * (types pay does not handle), `failed` (to be retried) or sent to the dead letters (`dead`).
 * `pay_webhook_lag_seconds`: from Stripe's `created` to applied, for every event a worker finished.
 */
export interface WebhookMetrics {
  readonly events: Counter<'result' | 'reason'>;
  readonly lag: Histogram;
}

function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const metrics: WebhookMetrics = {
    events: new Counter({
      name: 'pay_webhook_events_total',
      help: 'Stripe webhook events, by result: received, verified, rejected (with reason), duplicate; processed, ignored, failed, dead (workers)',
      labelNames: ['result', 'reason'] as const,
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'pay_webhook_lag_seconds',
      help: "Seconds from a Stripe event's created time to pay having applied (or ignored) it",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers: [registry],
    }),
  };
  for (const result of WEBHOOK_EVENT_RESULTS) {
    if (result !== 'rejected') {
      metrics.events.inc({ result }, 0);
    }
  }
  for (const reason of WEBHOOK_REFUSAL_REASONS) {
    metrics.events.inc({ result: 'rejected', reason }, 0);
  }
  return metrics;
}

/**
 * Counts what became of a delivery: verified (and maybe duplicate) or rejected. `received` is counted
 * before, so a delivery that could not be stored (a 503) still shows as received and nothing else.
 */
export function countWebhookDelivery(metrics: WebhookMetrics, delivery: WebhookDelivery): void {
  if (delivery.kind === 'rejected') {
    metrics.events.inc({ result: 'rejected', reason: delivery.reason });
    return;
  }
  metrics.events.inc({ result: 'verified' });
  if (!delivery.inserted) {
    metrics.events.inc({ result: 'duplicate' });
  }
}

/**
 * Counts one event a worker handled, and its lag when it is done with (`processed` or `ignored`):
 * what createPay's `observeWebhook` is given in the API process.
 */
export function observeWebhookOutcome(metrics: WebhookMetrics, outcome: WebhookOutcome): void {
  metrics.events.inc({ result: outcome.status });
  if (outcome.status === 'processed' || outcome.status === 'ignored') {
    metrics.lag.observe(Math.max(0, outcome.lagSeconds));
  }
}

/**
 * The refund routes' counters: `pay_refunds_total{outcome}`, a first answer per refund request (create
 * or approve) by the refund's status, or by the error code that refused it (`forbidden`,
 * `refund_exceeds_captured`, …: a rising `forbidden` is a service key trying admin operations); and
 * `pay_refunded_amount_total{currency}`, minor units of refunds answered `succeeded`. Replays are
 * counted once, as `pay_idempotent_replays_total`. Refunds a webhook settles later (`pending` →
 * `succeeded`) are the workers' to count, not the routes'.
 */
export interface RefundMetrics {
  readonly refunds: Counter<'outcome'>;
  readonly refundedAmount: Counter<'currency'>;
}

/** The error codes a refund request is commonly refused with: their series exist from the start. */
const REFUND_REFUSALS: readonly PayErrorCode[] = [
  'invalid_request',
  'forbidden',
  'not_found',
  'invalid_state',
  'refund_exceeds_captured',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'dependency_unavailable',
];

function createRefundMetrics(registry: Registry): RefundMetrics {
  const metrics: RefundMetrics = {
    refunds: new Counter({
      name: 'pay_refunds_total',
      help: 'Refund requests (create, approve) answered for the first time, by outcome: the refund status (requires_approval, pending, succeeded, failed, canceled) or the error code that refused it',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refundedAmount: new Counter({
      name: 'pay_refunded_amount_total',
      help: 'Minor units given back by refund requests answered succeeded, by currency',
      labelNames: ['currency'] as const,
      registers: [registry],
    }),
  };
  for (const outcome of [...REFUND_STATUSES, ...REFUND_REFUSALS]) {
    metrics.refunds.inc({ outcome }, 0);
  }
  return metrics;
}

/** The `outcome` label of `pay_renewals_total`: what the renewal scheduler tells createPay's `observeRenewal`. */
export const RENEWAL_OUTCOMES = ['attempted', 'succeeded', 'failed'] as const;
export type RenewalObservation = (typeof RENEWAL_OUTCOMES)[number];

/** Where the subscriptions gauge reads its numbers: `services.subscriptions` in the API. */
export interface SubscriptionCounts {
  countByStatus(): Promise<Record<SubscriptionStatus, number>>;
}

/**
 * `pay_renewals_total{outcome}`: renewal charges (first tries and dunning retries) a scheduler of this
 * process `attempted`, and how many `succeeded` or `failed` (a rising failed share is cards expiring or
 * a decline wave). `pay_subscriptions{status}`: every account's subscriptions by status, counted in the
 * database at scrape time, so every API process reports the same numbers.
 */
export interface SubscriptionMetrics {
  readonly renewals: Counter<'outcome'>;
  readonly statuses: Gauge<'status'>;
  /** Set by {@link countSubscriptionsAtScrape}; until then the gauge has no series. */
  counts: SubscriptionCounts | undefined;
}

function createSubscriptionMetrics(registry: Registry): SubscriptionMetrics {
  const metrics: SubscriptionMetrics = {
    renewals: new Counter({
      name: 'pay_renewals_total',
      help: 'Subscription renewal charges by this process, by outcome: attempted, succeeded, failed (dunning retries included)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    statuses: new Gauge({
      name: 'pay_subscriptions',
      help: 'Subscriptions of every account by status: incomplete, active, past_due, canceled, expired',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const counts = metrics.counts;
        if (counts === undefined) {
          return;
        }
        try {
          const byStatus = await counts.countByStatus();
          for (const status of SUBSCRIPTION_STATUSES) {
            this.set({ status }, byStatus[status]);
          }
        } catch {
          // A database that cannot answer must not fail the whole scrape (the HTTP and process metrics
          // still matter then): the series vanish instead of showing stale numbers, so absent() fires.
          this.reset();
        }
      },
    }),
    counts: undefined,
  };
  for (const outcome of RENEWAL_OUTCOMES) {
    metrics.renewals.inc({ outcome }, 0);
  }
  return metrics;
}

/** Makes `pay_subscriptions{status}` count `counts` at every scrape. */
export function countSubscriptionsAtScrape(metrics: SubscriptionMetrics, counts: SubscriptionCounts): void {
  metrics.counts = counts;
}

/** Counts one renewal observation: what createPay's `observeRenewal` is given in the API process. */
export function observeRenewalOutcome(metrics: SubscriptionMetrics, outcome: RenewalObservation): void {
  metrics.renewals.inc({ outcome });
}
