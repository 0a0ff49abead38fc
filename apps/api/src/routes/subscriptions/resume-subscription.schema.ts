import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';
import { ZSubscriptionResponse, type TSubscriptionResponse } from './subscription.schema.js';

/** `POST /api/v1/subscriptions/:id/resume` body: nothing but, optionally, the idempotency key. */
export const ZResumeSubscriptionBody = z.object({ idempotency_key: ZIdempotencyKey.optional() });
export type TResumeSubscriptionBody = z.infer<typeof ZResumeSubscriptionBody>;

/** `POST /api/v1/subscriptions/:id/resume` answer: the subscription, its cancellation undone. */
export const ZResumeSubscriptionResponse = ZSubscriptionResponse;
export type TResumeSubscriptionResponse = TSubscriptionResponse;
