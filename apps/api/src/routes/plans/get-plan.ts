import type { PlanService } from '@pay/core';
import type { Router } from 'express';
import { authenticated } from '../../middleware/authenticate.js';
import { validate, validated } from '../../middleware/validate.js';
import { ZGetPlanParams, type TGetPlanResponse } from './get-plan.schema.js';
import { toPlanResponse } from './plan.schema.js';

const input = validate({ params: ZGetPlanParams });

/** `GET /plans/:id`: one of the caller's account's plans; another account's is a 404 like a missing one. */
export function mountGetPlan(router: Router, plans: PlanService): void {
  router.get('/plans/:id', input, async (_req, res) => {
    const { params } = validated(res, input);
    const body: TGetPlanResponse = toPlanResponse(
      await plans.getPlan(authenticated(res).accountId, params.id),
    );
    res.json(body);
  });
}
