import type { AuthenticatedApiKey, Logger } from '@pay/core';

/*
 * What pay's middleware keeps on `res.locals`, typed through Express's declaration-merging hook so that
 * handlers read `res.locals.requestId` without casts.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express declares Locals in this global namespace; merging is the only way to type it.
  namespace Express {
    interface Locals {
      /** This request's id, also sent back as the `Request-Id` header. */
      requestId: string;
      /** The app's logger with `requestId` on every line. */
      logger: Logger;
      /** The matched route pattern (`/v1/payments/:id`), recorded by route middleware for metrics. */
      route?: string;
      /** The caller, once `authenticate()` accepted its API key: read it with `authenticated(res)`. */
      auth?: AuthenticatedApiKey;
      /** Input parsed by `validate()`: read it with `validated(res, validator)`. */
      validated?: { body?: unknown; params?: unknown; query?: unknown };
    }
  }
}

export {};
