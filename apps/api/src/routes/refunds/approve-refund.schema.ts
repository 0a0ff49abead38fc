import { z } from 'zod';
import { ZIdempotencyKey } from '../idempotency-key.js';

/**
 * `POST /api/v1/refunds/:id/approve` body: nothing but, optionally, the idempotency key; no body at all is
 * the same as `{}` (approving needs no input). Strict by hand: the route helper makes only bare objects strict.
 */
export const ZApproveRefundBody = z.strictObject({ idempotency_key: ZIdempotencyKey.optional() }).default({});
export type TApproveRefundBody = z.infer<typeof ZApproveRefundBody>;
