import { z } from 'zod';
import { ZPageLimit, zId, zListResponse, type TListResponse } from '../shared.schema.js';
import { ZSubscriptionResponse, type TSubscriptionResponse } from './subscription.schema.js';

/**
 * `GET /api/v1/subscriptions` query: `user_id` (required: whose subscriptions), `limit` (1–100, default
 * 10) and `starting_after` (the last subscription id seen).
 */
export const ZListSubscriptionsQuery = z.object({
  user_id: z
    .string()
    .min(1)
    .max(255)
    .describe('The end user whose subscriptions to list, as the caller names it.'),
  limit: ZPageLimit,
  starting_after: zId('subscription').optional(),
});
export type TListSubscriptionsQuery = z.infer<typeof ZListSubscriptionsQuery>;

/** `GET /api/v1/subscriptions` answer: the end user's subscriptions, newest first. */
export const ZListSubscriptionsResponse = zListResponse(ZSubscriptionResponse);
export type TListSubscriptionsResponse = TListResponse<TSubscriptionResponse>;
