import { CURRENCIES, REFUND_STATUSES, type Refund } from '@pay/core';
import { refundJson } from '@pay/runtime';
import { z } from 'zod';

/**
 * A refund as the API shows it: its amount in minor units of the payment's currency, `created` an
 * ISO-8601 UTC time, and who asked for it and who approved it (API key ids, or CLI operators) for the
 * four-eyes trail. The account is implied by the key, so it is not repeated.
 */
export const ZRefundResponse = z.object({
  id: z.string(),
  object: z.literal('refund'),
  payment_id: z.string(),
  amount: z.number().int().positive(),
  currency: z.enum(CURRENCIES),
  status: z
    .enum(REFUND_STATUSES)
    .describe(
      '`requires_approval` (above the four-eyes threshold: nothing sent to Stripe until a second admin ' +
        'approves), `pending` (Stripe settles it later, see the refund webhooks), `succeeded`, `failed` ' +
        '(its amount may be refunded again), `canceled`.',
    ),
  reason: z.string().nullable().describe('Why, as the admin wrote it.'),
  failure_reason: z.string().nullable().describe("Stripe's reason, when the refund failed."),
  created: z.iso.datetime(),
  requested_by: z
    .string()
    .nullable()
    .describe('Who asked for it: an API key id or a CLI operator; null for a refund made in Stripe.'),
  approved_by: z.string().nullable().describe('The second admin who approved it, when it needed one.'),
});
export type TRefundResponse = z.infer<typeof ZRefundResponse>;

/** The API's view of a refund: the shape the CLI's `--json` shares (`refundJson`). */
export function toRefundResponse(refund: Refund): TRefundResponse {
  return refundJson(refund);
}
