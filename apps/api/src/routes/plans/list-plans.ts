import type { PlanService } from '@pay/core';
import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import { toListResponse } from '../shared.schema.js';
import { ZListPlansQuery, ZListPlansResponse, type TListPlansResponse } from './list-plans.schema.js';
import { toPlanResponse } from './plan.schema.js';

/** `GET /plans`: the caller's account's plans, newest first, one page at a time. */
export const listPlansRoute = defineRoute(
  {
    method: 'get',
    path: '/plans',
    operationId: 'listPlans',
    summary: "List the account's plans, newest first",
    tags: ['plans'],
    auth: 'bearer',
    request: { query: ZListPlansQuery },
    response: { status: 200, description: 'A page of plans.', schema: ZListPlansResponse },
    errors: [],
  },
  async ({ query }, res, { plans }: { readonly plans: PlanService }) => {
    const page = await plans.listPlans(authenticated(res).accountId, {
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    const body: TListPlansResponse = toListResponse(page, toPlanResponse);
    return body;
  },
);
