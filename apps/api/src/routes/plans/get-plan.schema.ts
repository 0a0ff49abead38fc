import { z } from 'zod';
import { zId } from '../shared.schema.js';
import { ZPlanResponse, type TPlanResponse } from './plan.schema.js';

/** `GET /api/v1/plans/:id` path: a plan id (`pln_…`). */
export const ZGetPlanParams = z.object({ id: zId('plan') });
export type TGetPlanParams = z.infer<typeof ZGetPlanParams>;

/** `GET /api/v1/plans/:id` answer. */
export const ZGetPlanResponse = ZPlanResponse;
export type TGetPlanResponse = TPlanResponse;
