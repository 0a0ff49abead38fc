import type { PlanService } from '@pay/core';
import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import { ZGetPlanParams, ZGetPlanResponse, type TGetPlanResponse } from './get-plan.schema.js';
import { toPlanResponse } from './plan.schema.js';

/** `GET /plans/:id`: one of the caller's account's plans; another account's is a 404 like a missing one. */
export const getPlanRoute = defineRoute(
  {
    method: 'get',
    path: '/plans/:id',
    operationId: 'getPlan',
    summary: 'Retrieve a plan',
    description: "Another account's plan is a 404, exactly like a plan that does not exist.",
    tags: ['plans'],
    auth: 'bearer',
    request: { params: ZGetPlanParams },
    response: { status: 200, description: 'The plan.', schema: ZGetPlanResponse },
    errors: ['not_found'],
  },
  async ({ params }, res, { plans }: { readonly plans: PlanService }) => {
    const body: TGetPlanResponse = toPlanResponse(
      await plans.getPlan(authenticated(res).accountId, params.id),
    );
    return body;
  },
);
