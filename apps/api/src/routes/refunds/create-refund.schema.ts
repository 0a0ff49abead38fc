import { MAX_REFUND_REASON_LENGTH } from '@pay/core';
import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';
import { zId } from '../shared.schema.js';
import { ZRefundResponse, type TRefundResponse } from './refund.schema.js';

/**
 * `POST /api/v1/refunds` body. Strict like every input (validate()): a client that sends `status` or
 * `amount_refunded` gets a 400 naming them, never a refund shaped by them.
 */
export const ZCreateRefundBody = z.object({
  payment_id: zId('payment').describe('One of the account’s payments (`pay_…`), which must have succeeded.'),
  amount: z
    .number()
    .int()
    .positive()
    .describe(
      'Minor units (cents for usd) to give back, at most what remains refundable; all that remains when ' +
        'left out.',
    )
    .optional(),
  reason: z
    .string()
    .max(MAX_REFUND_REASON_LENGTH)
    .describe(
      'Why, for the audit log. `duplicate`, `fraudulent` and `requested_by_customer` are also sent to ' +
        'Stripe as its reason.',
    )
    .optional(),
  idempotency_key: ZIdempotencyKey.optional(),
});
export type TCreateRefundBody = z.infer<typeof ZCreateRefundBody>;

/** The parameters an idempotency key is bound to: the body without the key itself. */
export type TCreateRefundParams = Omit<TCreateRefundBody, 'idempotency_key'>;

/** `POST /api/v1/refunds` answer, 201: the refund. */
export const ZCreateRefundResponse = ZRefundResponse;
export type TCreateRefundResponse = TRefundResponse;
