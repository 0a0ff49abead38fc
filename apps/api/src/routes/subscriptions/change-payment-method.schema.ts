import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';
import { ZCreatePaymentBody } from '../payments/create-payment.schema.js';
import { ZSubscriptionResponse, type TSubscriptionResponse } from './subscription.schema.js';

/** `POST /api/v1/subscriptions/:id/payment-method` body: the new card, as a Stripe PaymentMethod id. */
export const ZChangePaymentMethodBody = z.object({
  // The same field as a payment's: a PaymentMethod id or test token, never card data.
  payment_method_id: ZCreatePaymentBody.shape.payment_method_id,
  idempotency_key: ZIdempotencyKey.optional(),
});
export type TChangePaymentMethodBody = z.infer<typeof ZChangePaymentMethodBody>;

/** The parameters an idempotency key is bound to: the body without the key itself. */
export type TChangePaymentMethodParams = Omit<TChangePaymentMethodBody, 'idempotency_key'>;

/** `POST /api/v1/subscriptions/:id/payment-method` answer: the subscription with its new card. */
export const ZChangePaymentMethodResponse = ZSubscriptionResponse;
export type TChangePaymentMethodResponse = TSubscriptionResponse;
