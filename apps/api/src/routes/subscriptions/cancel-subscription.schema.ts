import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';
import { ZSubscriptionResponse, type TSubscriptionResponse } from './subscription.schema.js';

/** `POST /api/v1/subscriptions/:id/cancel` body. */
export const ZCancelSubscriptionBody = z.object({
  at_period_end: z
    .boolean()
    .default(false)
    .describe(
      'false (the default): `canceled` now, nothing more is charged. true: no further renewal, and ' +
        '`canceled` when the current period ends; `resume` undoes it until then.',
    ),
  idempotency_key: ZIdempotencyKey.optional(),
});
export type TCancelSubscriptionBody = z.infer<typeof ZCancelSubscriptionBody>;

/** The parameters an idempotency key is bound to: the body (defaults applied) without the key itself. */
export type TCancelSubscriptionParams = Omit<TCancelSubscriptionBody, 'idempotency_key'>;

/** `POST /api/v1/subscriptions/:id/cancel` answer: the subscription after the change. */
export const ZCancelSubscriptionResponse = ZSubscriptionResponse;
export type TCancelSubscriptionResponse = TSubscriptionResponse;
