import type { PayError, PayErrorCode } from '@pay/core';
import { ERROR_TYPE, STATUS, type ErrorType } from './error-status.js';

/** Every error response body (DESIGN.md §7). */
export interface ErrorBody {
  readonly error: {
    readonly type: ErrorType;
    readonly code: PayErrorCode;
    readonly message: string;
    /** The request field at fault, when one is. */
    readonly param?: string;
    readonly request_id: string;
    /** Present (and true) when retrying with the same idempotency key may succeed. */
    readonly retryable?: true;
  };
}

/** The message a client sees for a 5xx that is a bug: the details are in the log, under the request id. */
export const INTERNAL_ERROR_MESSAGE = 'An internal error occurred. Quote the request id when reporting it.';

/**
 * The status and body for `error`. A 5xx that is a bug (anything but `dependency_unavailable`, whose
 * message is written for clients) gets the generic message: its own may hold internals.
 */
export function renderPayError(error: PayError, requestId: string): { status: number; body: ErrorBody } {
  const status = STATUS[error.code];
  const exposeMessage = status < 500 || error.code === 'dependency_unavailable';
  return {
    status,
    body: {
      error: {
        type: ERROR_TYPE[error.code],
        code: error.code,
        message: exposeMessage ? error.message : INTERNAL_ERROR_MESSAGE,
        ...(error.param === undefined ? {} : { param: error.param }),
        request_id: requestId,
        ...(error.retryable ? { retryable: true as const } : {}),
      },
    },
  };
}
