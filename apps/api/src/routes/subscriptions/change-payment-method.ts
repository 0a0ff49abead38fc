import { IDEMPOTENCY_KEY_HEADER } from '../idempotency-key.js';
import { defineRoute } from '../route.js';
import { ZChangePaymentMethodBody } from './change-payment-method.schema.js';
import { ZSubscriptionParams } from './get-subscription.schema.js';
import {
  CHANGE_ERRORS,
  CHANGE_REQUEST_HEADERS,
  changedResponse,
  changeReply,
  changeRequest,
  type SubscriptionChangeDeps,
} from './subscription-change.js';

const CHANGED = changedResponse(
  'The subscription with its new card. A `past_due` one was retried at once: `recent_payments` shows the retry.',
);

/**
 * `POST /subscriptions/:id/payment-method`: the card renewals go to from now on; a `past_due`
 * subscription is retried with it at once. Idempotent under its key.
 */
export const changeSubscriptionPaymentMethodRoute = defineRoute(
  {
    method: 'post',
    path: '/subscriptions/:id/payment-method',
    operationId: 'changeSubscriptionPaymentMethod',
    summary: 'Change the card of a subscription',
    description:
      'Attaches the card (a Stripe PaymentMethod) to the end user’s customer at Stripe and bills it from ' +
      'now on; a `past_due` subscription is charged again at once. A `canceled` or `expired` one answers ' +
      `409 \`invalid_state\` and nothing changes. The \`${IDEMPOTENCY_KEY_HEADER}\` header is required.`,
    tags: ['subscriptions'],
    auth: 'bearer',
    request: { params: ZSubscriptionParams, body: ZChangePaymentMethodBody },
    requestHeaders: CHANGE_REQUEST_HEADERS,
    response: CHANGED,
    errors: [...CHANGE_ERRORS, 'dependency_unavailable', 'gateway_unknown_state'],
  },
  async ({ params, body }, res, { subscriptions, paymentMetrics }: SubscriptionChangeDeps) => {
    const { idempotency_key: bodyKey, ...rest } = body;
    const request = changeRequest(res, 'payment-method', params.id, bodyKey, rest);
    return changeReply(
      CHANGED,
      paymentMetrics,
      subscriptions.changePaymentMethod(
        { accountId: request.accountId, subscriptionId: params.id, paymentMethodId: rest.payment_method_id },
        request,
      ),
    );
  },
);
