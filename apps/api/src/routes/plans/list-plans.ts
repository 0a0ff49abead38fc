import type { PlanService } from '@pay/core';
import type { Router } from 'express';
import { authenticated } from '../../middleware/authenticate.js';
import { validate, validated } from '../../middleware/validate.js';
import { toListResponse } from '../shared.schema.js';
import { ZListPlansQuery, type TListPlansResponse } from './list-plans.schema.js';
import { toPlanResponse } from './plan.schema.js';

const input = validate({ query: ZListPlansQuery });

/** `GET /plans`: the caller's account's plans, newest first, one page at a time. */
export function mountListPlans(router: Router, plans: PlanService): void {
  router.get('/plans', input, async (_req, res) => {
    const { query } = validated(res, input);
    const page = await plans.listPlans(authenticated(res).accountId, {
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    const body: TListPlansResponse = toListResponse(page, toPlanResponse);
    res.json(body);
  });
}
