import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';
import { zId } from '../shared.schema.js';
import { ZPaymentResponse, type TPaymentResponse } from './payment.schema.js';

/** The longest `return_url` taken: browsers and Stripe handle far longer, but no honest one needs more. */
export const MAX_RETURN_URL_LENGTH = 2048;

// A Stripe PaymentMethod id (`pm_1N…`) or test token (`pm_card_visa`): Stripe's id alphabet.
const PAYMENT_METHOD_ID = /^pm_[A-Za-z0-9_]{1,252}$/;

/**
 * An absolute http(s) URL without credentials. Whether its origin is one the operator allowed
 * (`PAY_RETURN_URL_ORIGINS`) is the payment service's rule; this is only its shape.
 */
function isReturnUrlShape(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === ''
  );
}

/** `POST /api/v1/payments` body. Money is not in it: the plan sets the amount and currency. */
export const ZCreatePaymentBody = z.object({
  user_id: z
    .string()
    .min(1)
    .max(255)
    .describe("The caller's opaque id of its end user; pay creates the customer on first use."),
  plan_id: zId('plan').describe('One of the account’s plans (`pln_…`): its amount is charged.'),
  payment_method_id: z
    .string()
    .regex(PAYMENT_METHOD_ID, 'expected a Stripe PaymentMethod id (pm_…)')
    .describe('A Stripe PaymentMethod id or test token (`pm_card_visa`). Never card data.'),
  return_url: z
    .string()
    .max(MAX_RETURN_URL_LENGTH)
    .refine(isReturnUrlShape, 'expected an absolute https URL without credentials')
    .meta({
      format: 'uri',
      description:
        'Where the card holder goes after 3-D Secure, with `payment_id` and `status` added to its query. ' +
        'Its origin must be listed in `PAY_RETURN_URL_ORIGINS` (https, or http for a listed loopback origin).',
    })
    .optional(),
  idempotency_key: ZIdempotencyKey.optional(),
});
export type TCreatePaymentBody = z.infer<typeof ZCreatePaymentBody>;

/** The parameters an idempotency key is bound to: the body without the key itself. */
export type TCreatePaymentParams = Omit<TCreatePaymentBody, 'idempotency_key'>;

/** `POST /api/v1/payments` answer, 201 or 402: the payment. */
export const ZCreatePaymentResponse = ZPaymentResponse;
export type TCreatePaymentResponse = TPaymentResponse;
