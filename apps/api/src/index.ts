import './locals.js';

export { createApp } from './app.js';
export type { AppOptions } from './app.js';
export { createMetrics } from './metrics.js';
export type { HttpMetrics } from './metrics.js';
export { ERROR_TYPE, STATUS } from './errors/error-status.js';
export type { ErrorType } from './errors/error-status.js';
export { INTERNAL_ERROR_MESSAGE, renderPayError } from './errors/error-body.js';
export type { ErrorBody } from './errors/error-body.js';
export { validationErrorFromZod } from './errors/from-zod.js';
export { errorHandler, notFound, toPayError } from './middleware/error-handler.js';
export { newRequestId, REQUEST_ID_HEADER } from './middleware/request-id.js';
export { recordRoute, UNMATCHED_ROUTE } from './middleware/route-label.js';
export { validate, validated } from './middleware/validate.js';
export type { InputSchemas, ValidatedInput, Validator } from './middleware/validate.js';
export type { THealthzResponse, TReadyzResponse } from './routes/health.js';
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
export { ZListPlansQuery } from './routes/plans/list-plans.schema.js';
export type { TListPlansQuery, TListPlansResponse } from './routes/plans/list-plans.schema.js';
export { ZGetPlanParams } from './routes/plans/get-plan.schema.js';
export type { TGetPlanParams, TGetPlanResponse } from './routes/plans/get-plan.schema.js';
export type { TListResponse } from './routes/shared.schema.js';
