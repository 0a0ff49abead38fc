import { z } from 'zod';
import { zId } from '../shared.schema.js';

/**
 * `GET /api/v1/payments/:id/return` path: a payment id. The query Stripe appends (`payment_intent`,
 * `redirect_status`, …) is not declared, so it is neither validated nor read: pay asks Stripe instead.
 */
export const ZPaymentReturnParams = z.object({ id: zId('payment') });
export type TPaymentReturnParams = z.infer<typeof ZPaymentReturnParams>;

/** The query parameters pay adds to the caller's `return_url`. */
export const RETURN_QUERY = { paymentId: 'payment_id', status: 'status' } as const;
