import {
  paymentResultStatus,
  type AccountId,
  type CardTestingGuard,
  type CreatePaymentInput,
  type PaymentAttempt,
  type PaymentService,
} from '@pay/core';
import { ERROR_TYPE } from '../../errors/error-status.js';
import type { PaymentMetrics } from '../../metrics.js';
import { authenticated } from '../../middleware/authenticate.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_REQUEST_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  IDEMPOTENT_REPLAYED_RESPONSE_HEADER,
  idempotencyKeyOf,
} from '../idempotency-key.js';
import { defineRoute, errorReply, jsonReply, type RouteReply, type SuccessResponse } from '../route.js';
import {
  ZCreatePaymentBody,
  ZCreatePaymentResponse,
  type TCreatePaymentParams,
} from './create-payment.schema.js';
import { countingIdempotencyConflicts, countPaymentAttempt } from './payment-metrics.js';
import { toPaymentResponse } from './payment.schema.js';

/** The path an idempotency key of this route is bound to: the same key on another path is a 422. */
export const CREATE_PAYMENT_PATH = '/api/v1/payments';

const REPLAY_HEADERS = { [IDEMPOTENT_REPLAYED_HEADER]: IDEMPOTENT_REPLAYED_RESPONSE_HEADER };

const CREATED: SuccessResponse<typeof ZCreatePaymentResponse> = {
  status: 201,
  description:
    'The payment: `succeeded`; `processing` (the outcome follows by webhook); or `requires_action`, ' +
    'with `next_action.redirect_url` where the card holder completes 3-D Secure.',
  schema: ZCreatePaymentResponse,
  headers: REPLAY_HEADERS,
};

const DECLINED: SuccessResponse<typeof ZCreatePaymentResponse> = {
  status: 402,
  description: 'The card was declined: the failed payment, with `failure` saying why.',
  schema: ZCreatePaymentResponse,
  headers: REPLAY_HEADERS,
};

/** What the payment routes need. */
export interface PaymentRouteDeps {
  readonly payments: PaymentService;
}

/** What creating a payment needs besides the service: the counters it keeps. */
export interface CreatePaymentDeps extends PaymentRouteDeps {
  readonly paymentMetrics: PaymentMetrics;
  /** Refuses an end user whose payments keep being declined (card testing). */
  readonly cardTesting: CardTestingGuard;
}

function toCreatePaymentInput(accountId: AccountId, params: TCreatePaymentParams): CreatePaymentInput {
  return {
    accountId,
    userId: params.user_id,
    planId: params.plan_id,
    paymentMethodId: params.payment_method_id,
    ...(params.return_url === undefined ? {} : { returnUrl: params.return_url }),
  };
}

/**
 * The answer to a payment attempt, from its result alone, so a replay is the same answer byte for byte:
 * 201 or 402 with the payment, or the stored error body of a `rejected` result (with the request id of
 * the request that got it first).
 */
function attemptReply({ result, replayed }: PaymentAttempt): RouteReply {
  const headers = replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {};
  const status = paymentResultStatus(result);
  switch (result.kind) {
    case 'rejected': {
      const { code, message, param } = result.error;
      return errorReply(
        status,
        {
          error: {
            type: ERROR_TYPE[code],
            code,
            message,
            ...(param === undefined ? {} : { param }),
            request_id: result.requestId,
          },
        },
        headers,
      );
    }
    case 'declined':
      return jsonReply(DECLINED, toPaymentResponse(result.view, { decline: result.decline }), headers);
    case 'requires_action':
      return jsonReply(CREATED, toPaymentResponse(result.view, { redirectUrl: result.redirectUrl }), headers);
    case 'succeeded':
    case 'processing':
      return jsonReply(CREATED, toPaymentResponse(result.view), headers);
  }
}

/**
 * `POST /payments`: charges the plan's amount to the card for the caller's end user, starting the
 * subscription; idempotent under its `Idempotency-Key` (DESIGN.md §4).
 */
export const createPaymentRoute = defineRoute(
  {
    method: 'post',
    path: '/payments',
    operationId: 'createPayment',
    summary: 'Take a subscription payment',
    description:
      'Charges the plan to the card (a Stripe PaymentMethod) of the caller’s end user, creating the ' +
      'customer on first use, and starts the subscription when the payment succeeds. A card that needs ' +
      '3-D Secure answers `requires_action`: send the card holder to `next_action.redirect_url`; pay ' +
      'records the outcome when Stripe sends them back, then redirects them to `return_url`. ' +
      `The \`${IDEMPOTENCY_KEY_HEADER}\` header is required. An end user whose payments were declined ` +
      '`PAY_DECLINE_LIMIT` times within `PAY_DECLINE_WINDOW_MINUTES` gets a 429 `rate_limited` until the ' +
      'declines leave the window (card testing).',
    tags: ['payments'],
    auth: 'bearer',
    request: { body: ZCreatePaymentBody },
    requestHeaders: { [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_REQUEST_HEADER },
    response: CREATED,
    replies: [DECLINED],
    errors: [
      'not_found',
      'idempotency_key_in_use',
      'idempotency_key_reused',
      'dependency_unavailable',
      'gateway_unknown_state',
    ],
  },
  async ({ body }, res, { payments, paymentMetrics, cardTesting }: CreatePaymentDeps) => {
    const { idempotency_key: bodyKey, ...params } = body;
    const key = idempotencyKeyOf(res.req, bodyKey);
    const { accountId } = authenticated(res);
    const endUser = { accountId, userId: params.user_id };
    // Before anything is written or sent to Stripe: a refused attempt is a 429 and nothing else.
    await cardTesting.check(endUser);
    const attempt = await countingIdempotencyConflicts(
      paymentMetrics,
      payments.create(toCreatePaymentInput(accountId, params), {
        accountId,
        key,
        method: 'POST',
        path: CREATE_PAYMENT_PATH,
        params,
        requestId: res.locals.requestId,
      }),
    );
    countPaymentAttempt(paymentMetrics, attempt);
    if (attempt.result.kind === 'declined' && !attempt.replayed) {
      await cardTesting.recordDecline(endUser);
    }
    return attemptReply(attempt);
  },
);
