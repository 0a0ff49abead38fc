import type { PayServices } from '@pay/runtime';
import { Router } from 'express';
import { mountGetPlan } from './plans/get-plan.js';
import { mountListPlans } from './plans/list-plans.js';

/**
 * The routes of `/api/v1`, mounted behind `authenticate()`: every handler may read the caller with
 * `authenticated(res)`.
 */
export function apiV1Router(services: PayServices): Router {
  const router = Router();
  mountListPlans(router, services.plans);
  mountGetPlan(router, services.plans);
  return router;
}
