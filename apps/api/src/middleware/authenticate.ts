import {
  AuthenticationError,
  InternalError,
  isId,
  type ApiKeyAuthenticator,
  type AuthenticatedApiKey,
  type AuthenticationRejection,
} from '@pay/core';
import { STRIPE_WEBHOOK_PATH } from '@pay/runtime';
import type { Request, RequestHandler, Response } from 'express';
import type { HttpMetrics } from '../metrics.js';

/** The prefix of pay's versioned API. Every route under it needs an API key, except those listed below. */
export const API_V1_PREFIX = '/api/v1';

/**
 * A route that takes no API key. `path` is matched exactly, unless it has `:name` segments: then each
 * such segment must pass `params[name]` and every other segment must match exactly.
 */
export interface UnauthenticatedRoute {
  readonly method: string;
  /** The full path, as the route declares it (`/api/v1/payments/:id/return`). */
  readonly path: string;
  /** A check for each `:name` segment of `path`: what an acceptable value looks like. */
  readonly params?: Readonly<Record<string, (segment: string) => boolean>>;
}

/**
 * The routes under {@link API_V1_PREFIX} that take no API key. Matched exactly, method and
 * case-sensitive path, a parameter only when its whole segment is a well-formed value: Express itself
 * routes case-insensitively and ignores a trailing slash, so any other spelling of these paths still
 * needs a key. The exemption can only be narrower than the route.
 */
export const UNAUTHENTICATED_ROUTES: readonly UnauthenticatedRoute[] = [
  // Stripe holds no pay API key: the webhook route authenticates each delivery by its Stripe-Signature.
  { method: 'POST', path: STRIPE_WEBHOOK_PATH },
  // The OpenAPI document is the public contract and holds nothing about any account; tools and people
  // read it before they hold a key.
  { method: 'GET', path: `${API_V1_PREFIX}/openapi.json` },
  // 3-D Secure sends the card holder's browser back here, and it holds no key. The route only asks
  // Stripe how the payment ended and redirects to the URL stored on the payment; payment ids are not
  // guessable (80 random bits).
  {
    method: 'GET',
    path: `${API_V1_PREFIX}/payments/:id/return`,
    params: { id: (segment) => isId('payment', segment) },
  },
];

/**
 * The one message of every 401. It is the same whether the header is missing or malformed, or the key
 * unknown or revoked, so a caller learns nothing about which keys exist.
 */
export const AUTHENTICATION_FAILED_MESSAGE =
  'Invalid or missing API key. Send a valid key as "Authorization: Bearer <key>".';

/** Why a request was refused with a 401: the label of the `api_authentication_failures_total` metric. */
export type AuthenticationFailure = 'missing_header' | 'malformed_header' | AuthenticationRejection;

// RFC 6750: the scheme is case-insensitive, then one or more spaces and the token.
const BEARER = /^Bearer +(\S+) *$/i;

function presentedSecret(
  header: string | undefined,
): { kind: 'secret'; secret: string } | { kind: 'rejected'; reason: AuthenticationFailure } {
  if (header === undefined || header === '') {
    return { kind: 'rejected', reason: 'missing_header' };
  }
  const secret = BEARER.exec(header)?.[1];
  return secret === undefined ? { kind: 'rejected', reason: 'malformed_header' } : { kind: 'secret', secret };
}

function matchesPath(route: UnauthenticatedRoute, path: string): boolean {
  if (route.params === undefined) {
    return route.path === path;
  }
  const expected = route.path.split('/');
  const actual = path.split('/');
  return (
    expected.length === actual.length &&
    expected.every((segment, i) => {
      const value = actual[i] ?? '';
      if (!segment.startsWith(':')) {
        return segment === value;
      }
      const check = route.params?.[segment.slice(1)];
      return check !== undefined && check(value);
    })
  );
}

function isUnauthenticatedRoute(req: Request): boolean {
  const path = `${req.baseUrl}${req.path}`;
  return UNAUTHENTICATED_ROUTES.some((route) => route.method === req.method && matchesPath(route, path));
}

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  readonly authenticator: ApiKeyAuthenticator;
  readonly metrics: HttpMetrics;
}

/**
 * Requires `Authorization: Bearer <key>` on every request it sees (mount it on {@link API_V1_PREFIX}),
 * except {@link UNAUTHENTICATED_ROUTES}. An accepted key's `{ apiKey, accountId, role }` goes on
 * `res.locals.auth`. Anything else is a 401 `unauthenticated` with {@link AUTHENTICATION_FAILED_MESSAGE}
 * and `WWW-Authenticate: Bearer`, counted by reason. The key itself is never logged or echoed.
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  return async (req, res, next) => {
    if (isUnauthenticatedRoute(req)) {
      next();
      return;
    }
    const presented = presentedSecret(req.get('authorization'));
    const result =
      presented.kind === 'secret' ? await options.authenticator.authenticate(presented.secret) : presented;
    if (result.kind !== 'authenticated') {
      options.metrics.authFailures.inc({ reason: result.reason });
      res.locals.logger.debug('API key refused', { reason: result.reason });
      res.setHeader('WWW-Authenticate', 'Bearer realm="pay"');
      throw new AuthenticationError(AUTHENTICATION_FAILED_MESSAGE);
    }
    res.locals.auth = result.caller;
    next();
  };
}

/** The caller `authenticate()` accepted for this request. */
export function authenticated(res: Response): AuthenticatedApiKey {
  const caller = res.locals.auth;
  if (caller === undefined) {
    throw new InternalError('authenticated() called on a route that authenticate() did not guard');
  }
  return caller;
}
