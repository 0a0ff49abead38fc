import { ValidationError } from '@pay/core';
import { STRIPE_WEBHOOK_PATH } from '@pay/runtime';
import type { RequestHandler } from 'express';

/**
 * Refuses a request body that is not JSON: express.json() reads only `application/json`, so without
 * this a body sent as `text/plain` (say) would reach the route as no body at all — its fields unchecked,
 * and a request such as `{"at_period_end": true}` acted on as if it had said nothing. Stripe's webhook
 * is read raw by its own parser, whatever its Content-Type.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && req.originalUrl.split('?')[0] === STRIPE_WEBHOOK_PATH) {
    next();
    return;
  }
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && req.is('application/json') === false) {
    next(
      new ValidationError(
        `The request body must be JSON, sent with Content-Type: application/json (got ${
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
