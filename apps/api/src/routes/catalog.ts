import { API_V1_PREFIX } from '../middleware/authenticate.js';
import { PROBE_ROUTES } from './health.js';
import { openApiRoute } from './openapi.js';
import { createPaymentRoute } from './payments/create-payment.js';
import { getPaymentRoute } from './payments/get-payment.js';
import { listPaymentsRoute } from './payments/list-payments.js';
import { paymentReturnRoute } from './payments/payment-return.js';
import { getPlanRoute } from './plans/get-plan.js';
import { listPlansRoute } from './plans/list-plans.js';
import { approveRefundRoute } from './refunds/approve-refund.js';
import { createRefundRoute } from './refunds/create-refund.js';
import { getRefundRoute } from './refunds/get-refund.js';
import type { RouteSpec } from './route.js';
import { cancelSubscriptionRoute } from './subscriptions/cancel-subscription.js';
import { changeSubscriptionPaymentMethodRoute } from './subscriptions/change-payment-method.js';
import { getSubscriptionRoute } from './subscriptions/get-subscription.js';
import { listSubscriptionsRoute } from './subscriptions/list-subscriptions.js';
import { resumeSubscriptionRoute } from './subscriptions/resume-subscription.js';
import { receiveStripeWebhookRoute } from './webhooks/receive-stripe-webhook.js';

/** Every route of `/api/v1`, in mounting order. A route added here is mounted and documented. */
export const API_V1_ROUTES = [
  listPlansRoute,
  getPlanRoute,
  createPaymentRoute,
  listPaymentsRoute,
  getPaymentRoute,
  paymentReturnRoute,
  receiveStripeWebhookRoute,
  openApiRoute,
  listSubscriptionsRoute,
  getSubscriptionRoute,
  cancelSubscriptionRoute,
  resumeSubscriptionRoute,
  changeSubscriptionPaymentMethodRoute,
  createRefundRoute,
  getRefundRoute,
  approveRefundRoute,
] as const;

/** A group of routes mounted under one prefix. */
export interface RouteGroup {
  /** Where the group's router is mounted (`''` for the root). */
  readonly prefix: string;
  readonly routes: readonly { readonly spec: RouteSpec }[];
}

/** Every route pay serves through the registry, by mount prefix: what the OpenAPI document describes. */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  { prefix: '', routes: PROBE_ROUTES },
  { prefix: API_V1_PREFIX, routes: API_V1_ROUTES },
];
