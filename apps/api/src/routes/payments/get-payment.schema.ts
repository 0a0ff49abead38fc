import { z } from 'zod';
import { zId } from '../shared.schema.js';
import { ZPaymentResponse, type TPaymentResponse } from './payment.schema.js';

/** `GET /api/v1/payments/:id` path: a payment id (`pay_…`). */
export const ZGetPaymentParams = z.object({ id: zId('payment') });
export type TGetPaymentParams = z.infer<typeof ZGetPaymentParams>;

/** `GET /api/v1/payments/:id` answer. */
export const ZGetPaymentResponse = ZPaymentResponse;
export type TGetPaymentResponse = TPaymentResponse;
