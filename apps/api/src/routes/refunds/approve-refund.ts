import { API_V1_PREFIX, authenticated } from '../../middleware/authenticate.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_REQUEST_HEADER,
  idempotencyKeyOf,
} from '../idempotency-key.js';
import { defineRoute, type SuccessResponse } from '../route.js';
import { REFUND_REPLAY_HEADERS, refundAttemptReply, type RefundWriteDeps } from './create-refund.js';
import { ZRefundParams } from './get-refund.schema.js';
import { ZApproveRefundBody } from './approve-refund.schema.js';
import { requireRefundAdmin } from './refund-admin.js';
import { countingRefund } from './refund-metrics.js';
import { ZRefundResponse } from './refund.schema.js';

const APPROVED: SuccessResponse<typeof ZRefundResponse> = {
  status: 200,
  description:
    'The approved refund, as Stripe answered: `succeeded`, `pending` (settled later) or `failed`, with ' +
    '`failure_reason`.',
  schema: ZRefundResponse,
  headers: REFUND_REPLAY_HEADERS,
};

/**
 * `POST /refunds/:id/approve`: the second admin of the four-eyes rule lets a refund above the threshold
 * go to Stripe. The admin who asked for it may not approve it (403, audited by the service).
 */
export const approveRefundRoute = defineRoute(
  {
    method: 'post',
    path: '/refunds/:id/approve',
    operationId: 'approveRefund',
    summary: 'Approve a refund waiting for a second admin (admin keys only)',
    description:
      'Sends a `requires_approval` refund to Stripe. The approving key must be an admin key other than ' +
      'the one that asked for the refund (four eyes), else a 403, audited; a refund that is not ' +
      'waiting for approval is a 409 `invalid_state`; what remains refundable is checked again. The body ' +
      `holds nothing but, optionally, \`idempotency_key\` (or send the \`${IDEMPOTENCY_KEY_HEADER}\` header); ` +
      'any other field is a 400.',
    tags: ['refunds'],
    auth: 'bearer',
    request: { params: ZRefundParams, body: ZApproveRefundBody },
    requestHeaders: { [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_REQUEST_HEADER },
    response: APPROVED,
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
  async ({ params, body }, res, deps: RefundWriteDeps) => {
    const attempt = await countingRefund(
      deps,
      (async () => {
        await requireRefundAdmin(res, deps.refunds, 'refund.approve', params.id);
        const key = idempotencyKeyOf(res.req, body.idempotency_key);
        const caller = authenticated(res);
        const requestId = res.locals.requestId;
        return deps.refunds.approve(
          { accountId: caller.accountId, refundId: params.id },
          { type: 'api_key', id: caller.apiKey.id, requestId },
          {
            accountId: caller.accountId,
            key,
            method: 'POST',
            // The refund's own path: the same key used to approve another refund is a reuse (422).
            path: `${API_V1_PREFIX}/refunds/${params.id}/approve`,
            params: {},
            requestId,
          },
        );
      })(),
    );
    return refundAttemptReply(APPROVED, attempt);
  },
);
