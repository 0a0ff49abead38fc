import {
  ConfigurationError,
  GatewayRateLimitedError,
  GatewayRejectedError,
  GatewayUnavailableError,
  InternalError,
  InvalidStateError,
  UnknownGatewayStateError,
  type PayError,
} from '@pay/core';
import Stripe from 'stripe';
import { unknownFromStripe } from './intent-mapping.js';

/**
 * The error classes the SDK raises for a v1 API call (`generateV1Error`, plus connection failures). The
 * others it defines (webhook signatures, OAuth, the v2 API) never come out of the calls this adapter
 * makes, so meeting one is an unknown error shape.
 */
export const STRIPE_V1_ERROR_TYPES = [
  'StripeCardError',
  'StripeInvalidRequestError',
  'StripeAPIError',
  'StripeAuthenticationError',
  'StripePermissionError',
  'StripeRateLimitError',
  'StripeConnectionError',
  'StripeIdempotencyError',
] as const;

export type StripeV1ErrorType = (typeof STRIPE_V1_ERROR_TYPES)[number];

function isV1ErrorType(type: string): type is StripeV1ErrorType {
  return (STRIPE_V1_ERROR_TYPES as readonly string[]).includes(type);
}

/** Stripe sends no `Retry-After` on its 429s today; a second is its own SDK's first back-off step. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

function retryAfterSeconds(error: Stripe.errors.StripeError): number {
  const header = error.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * The PayError for an error a Stripe call threw (see the port's contract in `@pay/core`). `call` names
 * the call for the log (`paymentIntents.create`). Anything that is not a StripeError (a bug of ours or of
 * the SDK) is returned as it is.
 */
export function toPayError(error: unknown, call: string): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) {
    return error;
  }
  // Ids and codes only: Stripe's raw error may embed a PaymentMethod, which has no business in a log.
  const context: Record<string, unknown> = {
    call,
    stripeErrorType: error.type,
    stripeRequestId: error.requestId ?? null,
    httpStatus: error.statusCode ?? null,
    stripeCode: error.code ?? null,
  };
  const options = { context, cause: error };
  const type = error.type;
  if (!isV1ErrorType(type)) {
    return new UnknownGatewayStateError(`Stripe raised ${type} on ${call}.`, options);
  }
  return mapV1Error(type, error, call, options);
}

function mapV1Error(
  type: StripeV1ErrorType,
  error: Stripe.errors.StripeError,
  call: string,
  options: { context: Record<string, unknown>; cause: unknown },
): PayError {
  switch (type) {
    case 'StripeConnectionError':
    case 'StripeAPIError':
      // No answer, a 5xx, a 409 for a request still running under the key, or a body that is not
      // JSON: Stripe may have acted, so the caller must treat it as maybe-done and retry with the key.
      return new GatewayUnavailableError(
        `Stripe did not answer ${call} (${error.message || type}); retry with the same idempotency key.`,
        options,
      );
    case 'StripeRateLimitError':
      return new GatewayRateLimitedError(
        `Stripe rate-limited ${call}; retry with the same idempotency key.`,
        {
          ...options,
          context: { ...options.context, retryAfterSeconds: retryAfterSeconds(error) },
        },
      );
    case 'StripeInvalidRequestError':
      if (error.code === 'payment_intent_unexpected_state') {
        return new InvalidStateError(error.message, options);
      }
      return new GatewayRejectedError(error.message, {
        ...options,
        ...(error.param === undefined ? {} : { param: error.param }),
        gatewayCode: error.code ?? null,
      });
    case 'StripeCardError':
      // Confirm and attach turn card errors into outcomes first; anywhere else the card is still the
      // user's to fix.
      return new GatewayRejectedError(error.message, {
        ...options,
        ...(error.param === undefined ? {} : { param: error.param }),
        gatewayCode: error.code ?? null,
      });
    case 'StripeIdempotencyError':
      return new InternalError(
        `pay sent one of its Stripe idempotency keys with other parameters on ${call}: a bug, never retry it.`,
        options,
      );
    case 'StripeAuthenticationError':
    case 'StripePermissionError':
      return new ConfigurationError(
        `Stripe refused pay's secret key on ${call}: check STRIPE_SECRET_KEY and its permissions.`,
        options,
      );
    default:
      return unknownFromStripe(type, 'error type', { call });
  }
}

/** Runs a Stripe call, rethrowing its errors as PayErrors. */
export async function callStripe<T>(call: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toPayError(error, call);
  }
}
