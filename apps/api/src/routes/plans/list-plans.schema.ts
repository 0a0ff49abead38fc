import { z } from 'zod';
import { ZPageLimit, zId, zListResponse, type TListResponse } from '../shared.schema.js';
import { ZPlanResponse, type TPlanResponse } from './plan.schema.js';

/** `GET /api/v1/plans` query: `limit` (1–100, default 10) and `starting_after` (the last plan id seen). */
export const ZListPlansQuery = z.object({
  limit: ZPageLimit,
  starting_after: zId('plan').optional(),
});
export type TListPlansQuery = z.infer<typeof ZListPlansQuery>;

/** `GET /api/v1/plans` answer: the account's plans, newest first. */
export const ZListPlansResponse = zListResponse(ZPlanResponse);
export type TListPlansResponse = TListResponse<TPlanResponse>;
