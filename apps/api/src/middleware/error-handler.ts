import {
  InternalError,
  isPayError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
  type PayError,
} from '@pay/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { INTERNAL_ERROR_MESSAGE, renderPayError } from '../errors/error-body.js';
import { validationErrorFromZod } from '../errors/from-zod.js';
import { retryAfterOf } from '../errors/retry-after.js';

/** The last route: anything no route answered is a 404 in the error shape. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`Unknown route: ${req.method} ${req.path}`));
};

/** What body-parser and Express's router attach to the errors they raise. */
interface HttpLikeError {
  readonly status?: unknown;
  readonly type?: unknown;
}

/**
 * Maps anything thrown to a PayError. Body-parser's errors get their own messages (theirs may quote
 * the body); anything unknown becomes an `internal_error` whose cause is logged, never sent.
 */
export function toPayError(error: unknown): { payError: PayError; known: boolean } {
  if (isPayError(error)) {
    return { payError: error, known: true };
  }
  if (error instanceof z.ZodError) {
    return { payError: validationErrorFromZod(error), known: true };
  }
  const http = (typeof error === 'object' && error !== null ? error : {}) as HttpLikeError;
  if (http.type === 'entity.too.large' || http.status === 413) {
    return {
      payError: new PayloadTooLargeError('The request body is too large.', { cause: error }),
      known: true,
    };
  }
  if (http.type === 'entity.parse.failed') {
    return {
      payError: new ValidationError('The request body is not valid JSON.', { cause: error }),
      known: true,
    };
  }
  if (typeof http.status === 'number' && http.status >= 400 && http.status < 500) {
    return { payError: new ValidationError('The request could not be read.', { cause: error }), known: true };
  }
  return { payError: new InternalError(INTERNAL_ERROR_MESSAGE, { cause: error }), known: false };
}

/**
 * The one error middleware: renders every error as `{"error": {...}}` with the status from the STATUS
 * table, and logs each server-side failure once, with the request id. 4xx are the client's business
 * and show up in the access log only.
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
  const { requestId, logger } = res.locals;
  const { payError, known } = toPayError(error);
  const { status, body } = renderPayError(payError, requestId);
  if (!known) {
    logger.error('unhandled error', { error, method: req.method, path: req.path });
  } else if (status >= 500) {
    logger.warn('request failed', { error: payError, method: req.method, path: req.path });
  }
  if (res.headersSent) {
    // Too late for an error body: let Express close the connection.
    next(error);
    return;
  }
  const retryAfter = retryAfterOf(payError);
  if (retryAfter !== undefined) {
    res.setHeader('Retry-After', retryAfter);
  }
  res.status(status).json(body);
};
