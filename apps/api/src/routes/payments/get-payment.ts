import type { RefundService } from '@pay/core';
import { authenticated } from '../../middleware/authenticate.js';
import { toRefundResponse } from '../refunds/refund.schema.js';
import { defineRoute } from '../route.js';
import type { PaymentRouteDeps } from './create-payment.js';
import { ZGetPaymentParams, ZGetPaymentResponse, type TGetPaymentResponse } from './get-payment.schema.js';
import { toPaymentResponse } from './payment.schema.js';

/** What reading a payment needs: its refunds come from the refund service. */
export interface GetPaymentDeps extends PaymentRouteDeps {
  readonly refunds: RefundService;
}

/** `GET /payments/:id`: one of the caller's account's payments; another account's is a 404 like a missing one. */
export const getPaymentRoute = defineRoute(
  {
    method: 'get',
    path: '/payments/:id',
    operationId: 'getPayment',
    summary: 'Retrieve a payment and its refunds',
    description: "Another account's payment is a 404, exactly like a payment that does not exist.",
    tags: ['payments'],
    auth: 'bearer',
    request: { params: ZGetPaymentParams },
    response: { status: 200, description: 'The payment, with its refunds.', schema: ZGetPaymentResponse },
    errors: ['not_found'],
  },
  async ({ params }, res, { payments, refunds }: GetPaymentDeps) => {
    const { accountId } = authenticated(res);
    // The payment first: its 404 must come before anything is said about refunds.
    const view = await payments.get(accountId, params.id);
    const body: TGetPaymentResponse = {
      ...toPaymentResponse(view),
      refunds: (await refunds.listByPayment(accountId, view.payment.id)).map(toRefundResponse),
    };
    return body;
  },
);
