import type { PayError, PayErrorCode } from '@pay/core';
import { z } from 'zod';
import { ERROR_TYPE, STATUS, type ErrorType } from './error-status.js';

const ERROR_CODES = Object.keys(STATUS) as [PayErrorCode, ...PayErrorCode[]];
const ERROR_TYPES = [...new Set(Object.values(ERROR_TYPE))] as [ErrorType, ...ErrorType[]];

/**
 * Every error response body (DESIGN.md §7). The OpenAPI document's `Error` schema is generated from
 * this, and {@link ErrorBody} is its type, so what is documented is what {@link renderPayError} builds.
 */
export const ZErrorBody = z.object({
  error: z.object({
    type: z.enum(ERROR_TYPES),
    code: z.enum(ERROR_CODES),
    message: z.string(),
    param: z.string().describe('The request field at fault, when one is.').optional(),
    request_id: z.string(),
    retryable: z
      .literal(true)
      .describe('Present (and true) when retrying with the same idempotency key may succeed.')
      .optional(),
  }),
});

/** Every error response body (DESIGN.md §7). */
export type ErrorBody = z.output<typeof ZErrorBody>;

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
