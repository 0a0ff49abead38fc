import type { ApiKeyAuthenticator, ApiKeyRole } from '@pay/core';
import type { RequestHandler } from 'express';
import { authenticated } from './authenticate.js';
import { recordRoute, routeLabel } from './route-label.js';

/**
 * Lets the request through only when its API key's role suffices for `role` (an admin key passes
 * everywhere). Otherwise the refusal is written to the audit log with the key id, the route pattern and
 * the request id, and the answer is a 403 `forbidden`. Put it after `authenticate()`, first in a
 * route's handlers: `router.post('/refunds/:id/approve', requireRole('admin', authenticator), …)`.
 */
export function requireRole(role: ApiKeyRole, authenticator: ApiKeyAuthenticator): RequestHandler {
  return async (req, res, next) => {
    recordRoute(req, res, () => undefined);
    await authenticator.authorize(authenticated(res), role, {
      operation: `${req.method} ${routeLabel(req, res)}`,
      requestId: res.locals.requestId,
    });
    next();
  };
}
