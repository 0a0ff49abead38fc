import './locals.js';

export { createApp } from './app.js';
export type { AppOptions } from './app.js';
export {
  countWebhookDelivery,
  createMetrics,
  observeWebhookOutcome,
  WEBHOOK_EVENT_RESULTS,
} from './metrics.js';
export type { HttpMetrics, WebhookEventResult, WebhookMetrics } from './metrics.js';
export { ERROR_TYPE, STATUS } from './errors/error-status.js';
export type { ErrorType } from './errors/error-status.js';
export { INTERNAL_ERROR_MESSAGE, renderPayError } from './errors/error-body.js';
export type { ErrorBody } from './errors/error-body.js';
export { ZErrorBody } from './errors/error-body.js';
export { validationErrorFromZod } from './errors/from-zod.js';
export { errorHandler, notFound, toPayError } from './middleware/error-handler.js';
export { newRequestId, REQUEST_ID_HEADER } from './middleware/request-id.js';
export { recordRoute, UNMATCHED_ROUTE } from './middleware/route-label.js';
export { strictInput, validate, validated } from './middleware/validate.js';
export type { InputSchemas, ValidatedInput, Validator } from './middleware/validate.js';
export { ZHealthzResponse, ZReadyzResponse } from './routes/health.js';
export type { THealthzResponse, TReadyzResponse } from './routes/health.js';
export { buildOpenApiDocument } from './openapi/document.js';
export type { JsonObject, OpenApiDocument, OpenApiDocumentOptions } from './openapi/document.js';
export { API_V1_ROUTES, ROUTE_GROUPS } from './routes/catalog.js';
export type { RouteGroup } from './routes/catalog.js';
export { defineRoute, impliedErrors, mountRoutes } from './routes/route.js';
export type {
  DeepReadonly,
  HttpMethod,
  ResponseBody,
  RouteDefinition,
  RouteHandler,
  RouteSpec,
  SuccessResponse,
} from './routes/route.js';
export {
  API_V1_PREFIX,
  AUTHENTICATION_FAILED_MESSAGE,
  UNAUTHENTICATED_ROUTES,
  authenticate,
  authenticated,
} from './middleware/authenticate.js';
export type { AuthenticateOptions, AuthenticationFailure } from './middleware/authenticate.js';
export { requireRole } from './middleware/require-role.js';
export { apiV1Router } from './routes/v1.js';
export { ZPlanResponse } from './routes/plans/plan.schema.js';
export type { TPlanResponse } from './routes/plans/plan.schema.js';
export { ZListPlansQuery, ZListPlansResponse } from './routes/plans/list-plans.schema.js';
export type { TListPlansQuery, TListPlansResponse } from './routes/plans/list-plans.schema.js';
export { ZGetPlanParams, ZGetPlanResponse } from './routes/plans/get-plan.schema.js';
export type { TGetPlanParams, TGetPlanResponse } from './routes/plans/get-plan.schema.js';
export { zListResponse } from './routes/shared.schema.js';
export type { TListResponse } from './routes/shared.schema.js';
export {
  CARD_DATA_EXEMPT_ROUTES,
  SEND_PAYMENT_METHOD_INSTEAD,
  rejectCardData,
} from './middleware/reject-card-data.js';
export { receiveStripeWebhookRoute } from './routes/webhooks/receive-stripe-webhook.js';
export type { WebhookRouteDeps } from './routes/webhooks/receive-stripe-webhook.js';
export {
  STRIPE_SIGNATURE_HEADER,
  ZReceiveStripeWebhookResponse,
  ZStripeEventBody,
} from './routes/webhooks/receive-stripe-webhook.schema.js';
export type { TReceiveStripeWebhookResponse } from './routes/webhooks/receive-stripe-webhook.schema.js';
