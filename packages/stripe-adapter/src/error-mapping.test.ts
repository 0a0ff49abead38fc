import { isPayError } from '@pay/core';
import Stripe from 'stripe';
import { STRIPE_V1_ERROR_TYPES, toPayError } from './error-mapping.js';
import { createStripeGateway } from './stripe-gateway.js';

/*
 * The SDK's errors are built here exactly as its `generateV1Error` builds them from a response, so every
 * class is covered; the integration tests meet the same classes through the sandbox.
 */

function mapped(error: unknown): Record<string, unknown> {
  const result = toPayError(error, 'test.call');
  if (!isPayError(result)) {
    return { passedThrough: result === error };
  }
  return {
    name: result.name,
    code: result.code,
    retryable: result.retryable,
    ...(result.param === undefined ? {} : { param: result.param }),
  };
}

const { errors } = Stripe;

describe('toPayError', () => {
  it.each([
    [
      'StripeConnectionError',
      new errors.StripeConnectionError({ message: 'socket hang up' }),
      'GatewayUnavailableError',
    ],
    ['StripeAPIError', new errors.StripeAPIError({ statusCode: 500 }), 'GatewayUnavailableError'],
    ['StripeRateLimitError', new errors.StripeRateLimitError({ statusCode: 429 }), 'GatewayRateLimitedError'],
    [
      'StripeInvalidRequestError',
      new errors.StripeInvalidRequestError({ statusCode: 400 }),
      'GatewayRejectedError',
    ],
    [
      'StripeCardError',
      new errors.StripeCardError({ statusCode: 402, code: 'card_declined' }),
      'GatewayRejectedError',
    ],
    ['StripeIdempotencyError', new errors.StripeIdempotencyError({ statusCode: 400 }), 'InternalError'],
    [
      'StripeAuthenticationError',
      new errors.StripeAuthenticationError({ statusCode: 401 }),
      'ConfigurationError',
    ],
    ['StripePermissionError', new errors.StripePermissionError({ statusCode: 403 }), 'ConfigurationError'],
  ])('maps %s', (_type, error, name) => {
    expect(mapped(error)).toMatchObject({ name });
  });

  it('covers every class the SDK raises for a v1 call', () => {
    expect([...STRIPE_V1_ERROR_TYPES].sort()).toEqual(
      [
        'StripeAPIError',
        'StripeAuthenticationError',
        'StripeCardError',
        'StripeConnectionError',
        'StripeIdempotencyError',
        'StripeInvalidRequestError',
        'StripePermissionError',
        'StripeRateLimitError',
      ].sort(),
    );
  });

  it('keeps Stripe’s param and code on a refusal, and turns a wrong-state refusal into invalid_state', () => {
    const missing = new errors.StripeInvalidRequestError({
      statusCode: 404,
      code: 'resource_missing',
      param: 'payment_method',
      message: "No such PaymentMethod: 'pm_x'",
    });
    expect(mapped(missing)).toEqual({
      name: 'GatewayRejectedError',
      code: 'invalid_request',
      retryable: false,
      param: 'payment_method',
    });
    const state = new errors.StripeInvalidRequestError({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
    });
    expect(mapped(state)).toMatchObject({ name: 'InvalidStateError', code: 'invalid_state' });
  });

  it('reads Retry-After from a 429 when Stripe sends one', () => {
    const error = toPayError(
      new errors.StripeRateLimitError({ statusCode: 429, headers: { 'retry-after': '7' } }),
      'test.call',
    );
    expect(isPayError(error) && error.context.retryAfterSeconds).toBe(7);
  });

  it('treats an error class no v1 call raises as an unknown shape', () => {
    const error = new errors.StripeSignatureVerificationError('t=1', '{}', { message: 'bad' });
    expect(mapped(error)).toMatchObject({ name: 'UnknownGatewayStateError', code: 'gateway_unknown_state' });
    expect(mapped(new errors.StripeInvalidGrantError({}))).toMatchObject({
      name: 'UnknownGatewayStateError',
    });
  });

  it('passes anything that is not a Stripe error through untouched', () => {
    expect(mapped(new TypeError('bug'))).toEqual({ passedThrough: true });
  });
});

describe('createStripeGateway', () => {
  it('refuses settings that would leave calls without a deadline or retry without end', () => {
    const base = { secretKey: 'sk_test_1', timeoutMs: 1000, maxNetworkRetries: 0 };
    for (const bad of [
      { timeoutMs: 0 },
      { timeoutMs: 1.5 },
      { maxNetworkRetries: -1 },
      { maxNetworkRetries: 9 },
      { secretKey: ' ' },
    ]) {
      expect([bad, mapped(rejection(() => createStripeGateway({ ...base, ...bad })))]).toEqual([
        bad,
        expect.objectContaining({ code: 'configuration_invalid' }),
      ]);
    }
  });
});

function rejection(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
