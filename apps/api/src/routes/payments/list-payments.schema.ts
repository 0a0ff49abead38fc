import { z } from 'zod';
import { ZPageLimit, zId, zListResponse, type TListResponse } from '../shared.schema.js';
import { ZPaymentResponse, type TPaymentResponse } from './payment.schema.js';

/**
 * `GET /api/v1/payments` query: `user_id` (one end user's payments), `limit` (1–100, default 10) and
 * `starting_after` (the last payment id seen).
 */
export const ZListPaymentsQuery = z.object({
  user_id: z.string().min(1).max(255).describe("Only this end user's payments.").optional(),
  limit: ZPageLimit,
  starting_after: zId('payment').optional(),
});
export type TListPaymentsQuery = z.infer<typeof ZListPaymentsQuery>;

/** `GET /api/v1/payments` answer: the account's payments, newest first. */
export const ZListPaymentsResponse = zListResponse(ZPaymentResponse);
export type TListPaymentsResponse = TListResponse<TPaymentResponse>;
