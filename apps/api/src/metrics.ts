import { PAYMENT_RESULT_KINDS, type WebhookOutcome } from '@pay/core';
import { WEBHOOK_REFUSAL_REASONS, type WebhookDelivery } from '@pay/runtime';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
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
