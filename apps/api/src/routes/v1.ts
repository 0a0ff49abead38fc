import type {
  CardTestingGuard,
  PaymentService,
  PlanService,
  RefundService,
  SubscriptionService,
} from '@pay/core';
import type { PayServices, WebhookInbox } from '@pay/runtime';
import {
  countSubscriptionsAtScrape,
  type HttpMetrics,
  type PaymentMetrics,
  type RefundMetrics,
  type WebhookMetrics,
} from '../metrics.js';
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
  readonly cardTesting: CardTestingGuard;
  readonly webhookInbox: WebhookInbox;
  readonly webhookMetrics: WebhookMetrics;
  readonly subscriptions: SubscriptionService;
  readonly refunds: RefundService;
  readonly refundMetrics: RefundMetrics;
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
    cardTesting: services.cardTesting,
    webhookInbox: services.webhookInbox,
    webhookMetrics: metrics.webhooks,
    openApiDocument,
    subscriptions: services.subscriptions,
    refunds: services.refunds,
    refundMetrics: metrics.refunds,
  });
  // The gauge asks the database at scrape time, so it needs the service this router is built with.
  countSubscriptionsAtScrape(metrics.subscriptions, services.subscriptions);
  return router;
}
