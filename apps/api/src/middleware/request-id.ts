import { randomBytes } from 'node:crypto';
import type { Logger } from '@pay/core';
import type { RequestHandler } from 'express';

/** The response header carrying the request id (Stripe's name). */
export const REQUEST_ID_HEADER = 'Request-Id';

// An incoming id is echoed into headers and logs: only short, plain tokens are accepted.
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A fresh request id: `req_` and 24 hex characters. */
export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/**
 * Gives every request an id — the caller's `Request-Id` or `X-Request-Id` when it is sane, a new
 * `req_…` otherwise — sends it back in `Request-Id` on every response (errors included, since it is
 * set first), and puts a child logger carrying it on `res.locals.logger`.
 */
export function requestId(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('request-id') ?? req.get('x-request-id');
    const id = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
    res.locals.requestId = id;
    res.locals.logger = logger.child({ requestId: id });
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
