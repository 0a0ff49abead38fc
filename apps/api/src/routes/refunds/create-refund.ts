import type { AccountId, CreateRefundInput, RefundAttempt, RefundService } from '@pay/core';
import { authenticated } from '../../middleware/authenticate.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_REQUEST_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  IDEMPOTENT_REPLAYED_RESPONSE_HEADER,
  idempotencyKeyOf,
} from '../idempotency-key.js';
import { defineRoute, jsonReply, type RouteReply, type SuccessResponse } from '../route.js';
import {
  ZCreateRefundBody,
  ZCreateRefundResponse,
  type TCreateRefundParams,
} from './create-refund.schema.js';
import { requireRefundAdmin } from './refund-admin.js';
import { countingRefund, type RefundCounters } from './refund-metrics.js';
import { toRefundResponse } from './refund.schema.js';

/** The path an idempotency key of this route is bound to: the same key on another path is a 422. */
export const CREATE_REFUND_PATH = '/api/v1/refunds';

/** What the refund routes need. */
export interface RefundRouteDeps {
  readonly refunds: RefundService;
}

/** What the refund routes that move money need besides the service: the counters they keep. */
export interface RefundWriteDeps extends RefundRouteDeps, RefundCounters {}

/** The `Idempotent-Replayed` header, documented on every answer that may be a replay. */
export const REFUND_REPLAY_HEADERS = { [IDEMPOTENT_REPLAYED_HEADER]: IDEMPOTENT_REPLAYED_RESPONSE_HEADER };

const CREATED: SuccessResponse<typeof ZCreateRefundResponse> = {
  status: 201,
  description:
    'The refund: `succeeded`; `pending` (Stripe settles it later); `requires_approval` (above ' +
    '`PAY_REFUND_APPROVAL_THRESHOLD`: a second admin approves it with `POST /refunds/{id}/approve`); ' +
    'or `failed`, with `failure_reason`.',
  schema: ZCreateRefundResponse,
  headers: REFUND_REPLAY_HEADERS,
};

/** The refund as the answer to a refund request, marked when it is the stored answer to an earlier one. */
export function refundAttemptReply(
  response: SuccessResponse<typeof ZCreateRefundResponse>,
  attempt: RefundAttempt,
): RouteReply {
  const headers = attempt.replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {};
  return jsonReply(response, toRefundResponse(attempt.refund), headers);
}

function toCreateRefundInput(accountId: AccountId, params: TCreateRefundParams): CreateRefundInput {
  return {
    accountId,
    paymentId: params.payment_id,
    ...(params.amount === undefined ? {} : { amount: params.amount }),
    ...(params.reason === undefined ? {} : { reason: params.reason }),
  };
}

/**
 * `POST /refunds`: an admin gives back part or all of what a payment captured; idempotent under its
 * `Idempotency-Key` (DESIGN.md §4), bounded by what remains even under concurrent requests (the service
 * locks the payment), audited in the refund's transaction.
 */
export const createRefundRoute = defineRoute(
  {
    method: 'post',
    path: '/refunds',
    operationId: 'createRefund',
    summary: 'Refund a payment (admin keys only)',
    description:
      'Gives back `amount` (all that remains when left out) of a succeeded payment, through Stripe, with ' +
      'one audit row naming the key, the reason and the payment’s amounts before and after. Several ' +
      'partial refunds may follow one another; together they never exceed what was captured (a 422 ' +
      '`refund_exceeds_captured` otherwise, and nothing is sent to Stripe). A `service` key gets a 403 ' +
      'and the attempt is audited. Above `PAY_REFUND_APPROVAL_THRESHOLD` the refund waits as ' +
      '`requires_approval` for a second admin. ' +
      `The \`${IDEMPOTENCY_KEY_HEADER}\` header is required.`,
    tags: ['refunds'],
    auth: 'bearer',
    request: { body: ZCreateRefundBody },
    requestHeaders: { [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_REQUEST_HEADER },
    response: CREATED,
    errors: [
      'forbidden',
      'not_found',
      'invalid_state',
      'refund_exceeds_captured',
      'idempotency_key_in_use',
      'idempotency_key_reused',
      'dependency_unavailable',
    ],
  },
  async ({ body }, res, deps: RefundWriteDeps) => {
    const { idempotency_key: bodyKey, ...params } = body;
    const attempt = await countingRefund(
      deps,
      (async () => {
        await requireRefundAdmin(res, deps.refunds, 'refund.create', params.payment_id);
        const key = idempotencyKeyOf(res.req, bodyKey);
        const caller = authenticated(res);
        const requestId = res.locals.requestId;
        return deps.refunds.create(
          toCreateRefundInput(caller.accountId, params),
          { type: 'api_key', id: caller.apiKey.id, requestId },
          { accountId: caller.accountId, key, method: 'POST', path: CREATE_REFUND_PATH, params, requestId },
        );
      })(),
    );
    return refundAttemptReply(CREATED, attempt);
  },
);
