import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import { toListResponse } from '../shared.schema.js';
import {
  ZListSubscriptionsQuery,
  ZListSubscriptionsResponse,
  type TListSubscriptionsResponse,
} from './list-subscriptions.schema.js';
import type { SubscriptionRouteDeps } from './subscription-change.js';
import { toSubscriptionResponse } from './subscription.schema.js';

/** `GET /subscriptions?user_id=…`: one end user's subscriptions in the caller's account, newest first. */
export const listSubscriptionsRoute = defineRoute(
  {
    method: 'get',
    path: '/subscriptions',
    operationId: 'listSubscriptions',
    summary: "List an end user's subscriptions, newest first",
    description: 'An end user pay does not know (or another account’s) has none: an empty list, not a 404.',
    tags: ['subscriptions'],
    auth: 'bearer',
    request: { query: ZListSubscriptionsQuery },
    response: { status: 200, description: 'A page of subscriptions.', schema: ZListSubscriptionsResponse },
    errors: [],
  },
  async ({ query }, res, { subscriptions }: SubscriptionRouteDeps) => {
    const page = await subscriptions.listByUser(authenticated(res).accountId, query.user_id, {
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    const body: TListSubscriptionsResponse = toListResponse(page, toSubscriptionResponse);
    return body;
  },
);
