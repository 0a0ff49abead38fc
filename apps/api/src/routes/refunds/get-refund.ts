import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import type { RefundRouteDeps } from './create-refund.js';
import { ZGetRefundResponse, ZRefundParams, type TGetRefundResponse } from './get-refund.schema.js';
import { toRefundResponse } from './refund.schema.js';

/** `GET /refunds/:id`: one of the caller's account's refunds, for any of its keys; another account's is a 404. */
export const getRefundRoute = defineRoute(
  {
    method: 'get',
    path: '/refunds/:id',
    operationId: 'getRefund',
    summary: 'Retrieve a refund',
    description:
      "Any key of the account may read its refunds. Another account's refund is a 404, exactly like a refund that does not exist.",
    tags: ['refunds'],
    auth: 'bearer',
    request: { params: ZRefundParams },
    response: { status: 200, description: 'The refund.', schema: ZGetRefundResponse },
    errors: ['not_found'],
  },
  async ({ params }, res, { refunds }: RefundRouteDeps) => {
    const body: TGetRefundResponse = toRefundResponse(
      await refunds.get(authenticated(res).accountId, params.id),
    );
    return body;
  },
);
