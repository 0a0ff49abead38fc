import type { PayErrorCode } from '@pay/core';
import { z } from 'zod';
import { ERROR_TYPE, STATUS } from './error-status.js';
import { validationErrorFromZod } from './from-zod.js';

describe('STATUS', () => {
  it('maps every code to the status of DESIGN.md §7', () => {
    const expected: Record<PayErrorCode, number> = {
      invalid_request: 400,
      unauthenticated: 401,
      forbidden: 403,
      not_found: 404,
      invalid_state: 409,
      idempotency_key_in_use: 409,
      payload_too_large: 413,
      idempotency_key_reused: 422,
      refund_exceeds_captured: 422,
      rate_limited: 429,
      dependency_unavailable: 503,
      gateway_unknown_state: 502,
      internal_error: 500,
      illegal_transition: 500,
      transaction_misuse: 500,
      configuration_invalid: 500,
    };
    expect(STATUS).toEqual(expected);
  });

  it('gives every 5xx the api_error type and no 4xx that type', () => {
    for (const [code, status] of Object.entries(STATUS) as [PayErrorCode, number][]) {
      expect([code, ERROR_TYPE[code] === 'api_error']).toEqual([code, status >= 500]);
    }
  });
});

describe('validationErrorFromZod', () => {
  const ZBody = z.object({ items: z.array(z.object({ price: z.string() })) }).strict();

  it("names nested fields in Stripe's spelling", () => {
    const result = ZBody.safeParse({ items: [{ price: 'p_1' }, { price: 2 }] });
    expect(result.success).toBe(false);
    const error = validationErrorFromZod(result.error as z.ZodError, 'body');
    expect(error.param).toBe('items[1][price]');
    expect(error.message).toBe(
      "Invalid body parameter 'items[1][price]': Invalid input: expected string, received number",
    );
  });

  it('counts the other failures', () => {
    const result = z.object({ a: z.string(), b: z.string() }).safeParse({});
    const error = validationErrorFromZod(result.error as z.ZodError);
    expect(error.message).toMatch(/^Invalid request 'a': .* \(and 1 more\)$/);
  });

  it('has no param when the whole input is wrong', () => {
    const error = validationErrorFromZod(ZBody.safeParse('text').error as z.ZodError, 'body');
    expect(error.param).toBeUndefined();
    expect(error.message).toBe('Invalid request body: Invalid input: expected object, received string');
  });
});
