import { IDEMPOTENCY_KEY_HEADER } from '../idempotency-key.js';
import { defineRoute } from '../route.js';
import { ZSubscriptionParams } from './get-subscription.schema.js';
import { ZResumeSubscriptionBody } from './resume-subscription.schema.js';
import {
  CHANGE_ERRORS,
  CHANGE_REQUEST_HEADERS,
  changedResponse,
  changeReply,
  changeRequest,
  type SubscriptionChangeDeps,
} from './subscription-change.js';

const RESUMED = changedResponse('The subscription, renewing again: `cancel_at_period_end: false`.');

/** `POST /subscriptions/:id/resume`: undoes a pending cancellation at period end; idempotent under its key. */
export const resumeSubscriptionRoute = defineRoute(
  {
    method: 'post',
    path: '/subscriptions/:id/resume',
    operationId: 'resumeSubscription',
    summary: 'Undo a pending cancellation',
    description:
      'Only a subscription canceled at period end, before that end, can be resumed; any other answers ' +
      `409 \`invalid_state\` and nothing changes. The \`${IDEMPOTENCY_KEY_HEADER}\` header is required.`,
    tags: ['subscriptions'],
    auth: 'bearer',
    request: { params: ZSubscriptionParams, body: ZResumeSubscriptionBody },
    requestHeaders: CHANGE_REQUEST_HEADERS,
    response: RESUMED,
    errors: [...CHANGE_ERRORS],
  },
  async ({ params, body }, res, { subscriptions, paymentMetrics }: SubscriptionChangeDeps) => {
    const { idempotency_key: bodyKey, ...rest } = body;
    const request = changeRequest(res, 'resume', params.id, bodyKey, rest);
    return changeReply(
      RESUMED,
      paymentMetrics,
      subscriptions.resume({ accountId: request.accountId, subscriptionId: params.id }, request),
    );
  },
);
