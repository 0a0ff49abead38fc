import type { PaymentService, PlanService } from '@pay/core';
import type { PayServices, WebhookInbox } from '@pay/runtime';
import type { HttpMetrics, PaymentMetrics, WebhookMetrics } from '../metrics.js';
import { Router } from 'express';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.js';
import { API_V1_ROUTES } from './catalog.js';
import type { OpenApiDeps } from './openapi.js';
import { mountRoutes } from './route.js';

/** What the `/api/v1` routes need, together. */
export interface ApiV1Deps extends OpenApiDeps {
  readonly plans: PlanService;
  readonly payments: PaymentService;
  readonly paymentMetrics: PaymentMetrics;
  readonly webhookInbox: WebhookInbox;
  readonly webhookMetrics: WebhookMetrics;
}

/**
 * The routes of `/api/v1`, mounted behind `authenticate()`: every handler may read the caller with
 * `authenticated(res)`.
 */
export function apiV1Router(services: PayServices, metrics: HttpMetrics): Router {
  const router = Router();
  // Built on first request, then kept: the routes cannot change while the app runs.
  let document: OpenApiDocument | undefined;
  const openApiDocument = (): OpenApiDocument => (document ??= buildOpenApiDocument());
  mountRoutes<ApiV1Deps>(router, API_V1_ROUTES, {
    plans: services.plans,
    payments: services.payments,
    paymentMetrics: metrics.payments,
    webhookInbox: services.webhookInbox,
    webhookMetrics: metrics.webhooks,
    openApiDocument,
  });
  return router;
}
