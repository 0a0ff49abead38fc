import { authenticated } from '../../middleware/authenticate.js';
import { defineRoute } from '../route.js';
import type { PaymentRouteDeps } from './create-payment.js';
import { ZGetPaymentParams, ZGetPaymentResponse, type TGetPaymentResponse } from './get-payment.schema.js';
import { toPaymentResponse } from './payment.schema.js';

/** `GET /payments/:id`: one of the caller's account's payments; another account's is a 404 like a missing one. */
export const getPaymentRoute = defineRoute(
  {
    method: 'get',
    path: '/payments/:id',
    operationId: 'getPayment',
    summary: 'Retrieve a payment',
    description: "Another account's payment is a 404, exactly like a payment that does not exist.",
    tags: ['payments'],
    auth: 'bearer',
    request: { params: ZGetPaymentParams },
    response: { status: 200, description: 'The payment.', schema: ZGetPaymentResponse },
    errors: ['not_found'],
  },
  async ({ params }, res, { payments }: PaymentRouteDeps) => {
    const body: TGetPaymentResponse = toPaymentResponse(
      await payments.get(authenticated(res).accountId, params.id),
    );
    return body;
  },
);
