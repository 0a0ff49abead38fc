import { z } from 'zod';
import { zId } from '../shared.schema.js';
import { ZRefundResponse, type TRefundResponse } from './refund.schema.js';

/** `GET /api/v1/refunds/:id` and `POST /api/v1/refunds/:id/approve` path: a refund id (`rfnd_…`). */
export const ZRefundParams = z.object({ id: zId('refund') });
export type TRefundParams = z.infer<typeof ZRefundParams>;

/** `GET /api/v1/refunds/:id` answer. */
export const ZGetRefundResponse = ZRefundResponse;
export type TGetRefundResponse = TRefundResponse;
