import { z } from 'zod';
import { ZRefundResponse } from '../refunds/refund.schema.js';
import { zId } from '../shared.schema.js';
import { ZPaymentResponse } from './payment.schema.js';

/** `GET /api/v1/payments/:id` path: a payment id (`pay_…`). */
export const ZGetPaymentParams = z.object({ id: zId('payment') });
export type TGetPaymentParams = z.infer<typeof ZGetPaymentParams>;

/**
 * `GET /api/v1/payments/:id` answer: the payment with its refunds, newest first (made through pay or in
 * Stripe's dashboard), in the shape `GET /refunds/:id` answers.
 */
export const ZGetPaymentResponse = ZPaymentResponse.extend({
  refunds: z.array(ZRefundResponse).describe('The payment’s refunds, newest first, whatever their status.'),
});
export type TGetPaymentResponse = z.infer<typeof ZGetPaymentResponse>;
