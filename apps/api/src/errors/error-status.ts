import type { PayErrorCode } from '@pay/core';

/**
 * The HTTP status of every error code (DESIGN.md §7). A `Record` over the closed union: adding a code
 * to core without a status here does not compile. This is the only place codes meet statuses.
 */
export const STATUS: Record<PayErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  invalid_state: 409,
  idempotency_key_in_use: 409,
  payload_too_large: 413,
  idempotency_key_reused: 422,
  refund_exceeds_captured: 422,
  rate_limited: 429,
  dependency_unavailable: 503,
  // Stripe answered something pay does not know: a bad answer from upstream, not a bug of pay's.
  gateway_unknown_state: 502,
  internal_error: 500,
  illegal_transition: 500,
  transaction_misuse: 500,
  configuration_invalid: 500,
};

/** The family of an error, Stripe-style, so clients can branch on the kind before the exact code. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'api_error';

/** The family of every error code, exhaustive like {@link STATUS}. */
export const ERROR_TYPE: Record<PayErrorCode, ErrorType> = {
  invalid_request: 'invalid_request_error',
  unauthenticated: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'invalid_request_error',
  invalid_state: 'invalid_request_error',
  idempotency_key_in_use: 'idempotency_error',
  payload_too_large: 'invalid_request_error',
  idempotency_key_reused: 'idempotency_error',
  refund_exceeds_captured: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  dependency_unavailable: 'api_error',
  gateway_unknown_state: 'api_error',
  internal_error: 'api_error',
  illegal_transition: 'api_error',
  transaction_misuse: 'api_error',
  configuration_invalid: 'api_error',
};
