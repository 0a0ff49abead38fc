import { IDEMPOTENCY_KEY_HEADER } from '../idempotency-key.js';
import { defineRoute } from '../route.js';
import { ZSubscriptionParams } from './get-subscription.schema.js';
import { ZCancelSubscriptionBody } from './cancel-subscription.schema.js';
import {
  CHANGE_ERRORS,
  CHANGE_REQUEST_HEADERS,
  changedResponse,
  changeReply,
  changeRequest,
  type SubscriptionChangeDeps,
} from './subscription-change.js';

const CANCELED = changedResponse(
  'The subscription: `canceled` (now), or still `active`/`past_due` with `cancel_at_period_end: true`.',
);

/** `POST /subscriptions/:id/cancel`: cancels now or at the end of the period; idempotent under its key. */
export const cancelSubscriptionRoute = defineRoute(
  {
    method: 'post',
    path: '/subscriptions/:id/cancel',
    operationId: 'cancelSubscription',
    summary: 'Cancel a subscription',
    description:
      'Now (`at_period_end: false`, the default), or at the end of the current period. An `active` or ' +
      '`past_due` subscription may be canceled; any other (`incomplete`, `canceled`, `expired`) answers ' +
      `409 \`invalid_state\` and nothing changes. The \`${IDEMPOTENCY_KEY_HEADER}\` header is required.`,
    tags: ['subscriptions'],
    auth: 'bearer',
    request: { params: ZSubscriptionParams, body: ZCancelSubscriptionBody },
    requestHeaders: CHANGE_REQUEST_HEADERS,
    response: CANCELED,
    errors: [...CHANGE_ERRORS],
  },
  async ({ params, body }, res, { subscriptions, paymentMetrics }: SubscriptionChangeDeps) => {
    const { idempotency_key: bodyKey, ...rest } = body;
    const request = changeRequest(res, 'cancel', params.id, bodyKey, rest);
    return changeReply(
      CANCELED,
      paymentMetrics,
      subscriptions.cancel(
        { accountId: request.accountId, subscriptionId: params.id, atPeriodEnd: rest.at_period_end },
        request,
      ),
    );
  },
);
