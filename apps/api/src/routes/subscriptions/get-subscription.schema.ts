import { z } from 'zod';
import { zId } from '../shared.schema.js';
import { ZSubscriptionResponse, type TSubscriptionResponse } from './subscription.schema.js';

/** The path of every `/api/v1/subscriptions/:id…` route: a subscription id (`subs_…`). */
export const ZSubscriptionParams = z.object({ id: zId('subscription') });
export type TSubscriptionParams = z.infer<typeof ZSubscriptionParams>;

/** `GET /api/v1/subscriptions/:id` answer. */
export const ZGetSubscriptionResponse = ZSubscriptionResponse;
export type TGetSubscriptionResponse = TSubscriptionResponse;
