import { CURRENCIES, PLAN_INTERVALS, type Plan } from '@pay/core';
import { z } from 'zod';

/** A plan as the API shows it: amounts in minor units, `created` an ISO-8601 UTC time. */
export const ZPlanResponse = z.object({
  id: z.string(),
  object: z.literal('plan'),
  name: z.string(),
  amount: z.number().int().positive(),
  currency: z.enum(CURRENCIES),
  interval: z.enum(PLAN_INTERVALS),
  active: z.boolean(),
  created: z.iso.datetime(),
});
export type TPlanResponse = z.infer<typeof ZPlanResponse>;

/** The API's view of a plan. The account is implied by the key, so it is not repeated. */
export function toPlanResponse(plan: Plan): TPlanResponse {
  return {
    id: plan.id,
    object: 'plan',
    name: plan.name,
    amount: plan.amount,
    currency: plan.currency,
    interval: plan.interval,
    active: plan.active,
    created: plan.createdAt.toISOString(),
  };
}
