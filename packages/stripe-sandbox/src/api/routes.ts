import { chargeRoutes } from './charges.js';
import { customerRoutes } from './customers.js';
import { eventRoutes } from './events.js';
import { paymentIntentRoutes } from './payment-intents.js';
import { paymentMethodRoutes } from './payment-methods.js';
import { refundRoutes } from './refunds.js';
import type { RouteSpec } from './router.js';
import { webhookEndpointRoutes } from './webhook-endpoints.js';

/** Every `/v1` endpoint the sandbox serves. */
export const API_ROUTES: readonly RouteSpec[] = [
  ...customerRoutes,
  ...paymentMethodRoutes,
  ...paymentIntentRoutes,
  ...chargeRoutes,
  ...refundRoutes,
  ...eventRoutes,
  ...webhookEndpointRoutes,
];
