import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import { toListResponse } from '../shared.schema.js';
import type { PaymentRouteDeps } from './create-payment.js';
import {
  ZListPaymentsQuery,
  ZListPaymentsResponse,
  type TListPaymentsResponse,
} from './list-payments.schema.js';
import { toPaymentResponse } from './payment.schema.js';

/** `GET /payments`: the caller's account's payments, or one end user's, newest first, a page at a time. */
export const listPaymentsRoute = defineRoute(
  {
    method: 'get',
    path: '/payments',
    operationId: 'listPayments',
    summary: "List the account's payments, newest first",
    description: 'With `user_id`, only that end user’s payments; an end user pay does not know has none.',
    tags: ['payments'],
    auth: 'bearer',
    request: { query: ZListPaymentsQuery },
    response: { status: 200, description: 'A page of payments.', schema: ZListPaymentsResponse },
    errors: [],
  },
  async ({ query }, res, { payments }: PaymentRouteDeps) => {
    const page = await payments.list(authenticated(res).accountId, {
      limit: query.limit,
      startingAfter: query.starting_after,
      ...(query.user_id === undefined ? {} : { userId: query.user_id }),
    });
    const body: TListPaymentsResponse = toListResponse(page, (view) => toPaymentResponse(view));
    return body;
  },
);
