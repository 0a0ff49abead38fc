import type { Logger } from '@pay/core';
import { STRIPE_WEBHOOK_PATH, type Pay } from '@pay/runtime';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import './locals.js';
import { createMetrics, measureRequests, metricsHandler, type HttpMetrics } from './metrics.js';
import { accessLog } from './middleware/access-log.js';
import { API_V1_PREFIX, authenticate } from './middleware/authenticate.js';
import { rateLimit } from './middleware/rate-limit.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { rejectCardData } from './middleware/reject-card-data.js';
import { requireJsonBody } from './middleware/require-json-body.js';
import { requestId } from './middleware/request-id.js';
import { recordRoute } from './middleware/route-label.js';
import { healthRouter } from './routes/health.js';
import { apiV1Router } from './routes/v1.js';

/** Options of {@link createApp}. */
export interface AppOptions {
  readonly pay: Pay;
  /** Defaults to `pay.logger`. */
  readonly logger?: Logger;
  /** Defaults to a fresh registry; pass one to read the metrics in tests. */
  readonly metrics?: HttpMetrics;
  /** The largest JSON body accepted (a body-parser size such as `100kb`); larger ones get a 413. */
  readonly bodyLimit?: string | number;
  /** The largest Stripe webhook delivery accepted; `1mb` by default (events carry whole objects). */
  readonly webhookBodyLimit?: string | number;
  /**
   * Mounts more routes: called after the probes, JSON body parsing and the `/api/v1` routes, before the
   * 404 and the error middleware. Bodies sent as `application/json` are already parsed by then, and
   * anything under `/api/v1` has passed `authenticate()` and the rate limit.
   */
  readonly routes?: (app: Express) => void;
}

/**
 * Reads the body of `POST` {@link STRIPE_WEBHOOK_PATH} (that exact spelling) as raw bytes, whatever its
 * content type: the signature covers the bytes as sent, which a JSON parse and re-serialisation would
 * not keep. Mounted before the JSON parser, which then leaves the already-read body alone.
 */
function rawWebhookBody(limit: string | number): RequestHandler {
  const raw = express.raw({ type: () => true, limit });
  return (req, res, next) => {
    if (req.method === 'POST' && req.path === STRIPE_WEBHOOK_PATH) {
      raw(req, res, next);
      return;
    }
    next();
  };
}

/**
 * pay's Express app. Order matters: the request id comes first so every later line and every error
 * body carries it; the probes and metrics answer without a key; everything under `/api/v1` needs one
 * (see UNAUTHENTICATED_ROUTES for the exception); the 404 and the one error middleware come last.
 */
export function createApp(options: AppOptions): Express {
  const logger = options.logger ?? options.pay.logger;
  const metrics = options.metrics ?? createMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId(logger));
  app.use(accessLog);
  app.use(measureRequests(metrics));
  app.use(helmet());
  app.use(rawWebhookBody(options.webhookBodyLimit ?? '1mb'));
  app.use(express.json({ limit: options.bodyLimit ?? '100kb' }));
  app.use(API_V1_PREFIX, requireJsonBody);
  // Card data is refused before anything else reads the request, authentication included (DESIGN.md §2.2).
  app.use(API_V1_PREFIX, rejectCardData);

  app.use(healthRouter(options.pay));
  app.get('/metrics', recordRoute, metricsHandler(metrics));
  const { services } = options.pay;
  app.use(API_V1_PREFIX, authenticate({ authenticator: services.authenticator, metrics }));
  // Counted per API key, so after authenticate(); before any route, so a refused request costs nothing more.
  app.use(API_V1_PREFIX, rateLimit({ limiter: services.rateLimiter, metrics }));
  app.use(API_V1_PREFIX, apiV1Router(services, metrics));
  options.routes?.(app);

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
