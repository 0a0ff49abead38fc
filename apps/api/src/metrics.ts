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
