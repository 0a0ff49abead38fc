import { ValidationError } from '@pay/core';
import { STRIPE_WEBHOOK_PATH } from '@pay/runtime';
import type { RequestHandler } from 'express';

/**
 * Refuses a request body that express.json() did not read: another Content-Type (`text/plain`), or JSON
 * in a charset it does not decode (`application/json; charset=utf-16`). Without this such a body would
 * reach the route as no body at all — its fields unchecked, and a request such as
 * `{"at_period_end": true}` acted on as if it had said nothing. Stripe's webhook is read raw by its own
 * parser, whatever its Content-Type.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && req.originalUrl.split('?')[0] === STRIPE_WEBHOOK_PATH) {
    next();
    return;
  }
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  // express.json() sets req.body only when it parsed the body (Express 5 leaves it undefined otherwise);
  // JSON is UTF-8 (RFC 8259 §8.1): another charset could decode the bytes to an empty body, read as `{}`.
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i
    .exec(req.headers['content-type'] ?? '')?.[1]
    ?.toLowerCase();
  const utf8 = charset === undefined || charset === 'utf-8' || charset === 'utf8';
  if (hasBody && (req.is('application/json') === false || req.body === undefined || !utf8)) {
    next(
      new ValidationError(
        `The request body must be JSON in UTF-8, sent with Content-Type: application/json (got ${
          req.headers['content-type'] === undefined
            ? 'none'
            : JSON.stringify(req.headers['content-type'].slice(0, 100))
        }).`,
      ),
    );
    return;
  }
  next();
};
