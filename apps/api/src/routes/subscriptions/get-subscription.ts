import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import {
  ZGetSubscriptionResponse,
  ZSubscriptionParams,
  type TGetSubscriptionResponse,
} from './get-subscription.schema.js';
import type { SubscriptionRouteDeps } from './subscription-change.js';
import { toSubscriptionResponse } from './subscription.schema.js';

/** `GET /subscriptions/:id`: one of the caller's account's subscriptions; another account's is a 404. */
export const getSubscriptionRoute = defineRoute(
  {
    method: 'get',
    path: '/subscriptions/:id',
    operationId: 'getSubscription',
    summary: 'Retrieve a subscription',
    description:
      'With its plan, status, billing period, next billing time, card (brand and last 4 digits) and ' +
      "latest payments. Another account's subscription is a 404, exactly like one that does not exist.",
    tags: ['subscriptions'],
    auth: 'bearer',
    request: { params: ZSubscriptionParams },
    response: { status: 200, description: 'The subscription.', schema: ZGetSubscriptionResponse },
    errors: ['not_found'],
  },
  async ({ params }, res, { subscriptions }: SubscriptionRouteDeps) => {
    const body: TGetSubscriptionResponse = toSubscriptionResponse(
      await subscriptions.get(authenticated(res).accountId, params.id),
    );
    return body;
  },
);
