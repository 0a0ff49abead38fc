import type { IdempotentRequest, SubscriptionChange, SubscriptionService } from '@pay/core';
import type { Response } from 'express';
import type { PaymentMetrics } from '../../metrics.js';
import { API_V1_PREFIX, authenticated } from '../../middleware/authenticate.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_REQUEST_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  IDEMPOTENT_REPLAYED_RESPONSE_HEADER,
  idempotencyKeyOf,
} from '../idempotency-key.js';
import { countingIdempotencyConflicts } from '../payments/payment-metrics.js';
import { jsonReply, type HeaderSpec, type RouteReply, type SuccessResponse } from '../route.js';
import { toSubscriptionResponse, ZSubscriptionResponse } from './subscription.schema.js';

/** What the subscription routes need. */
export interface SubscriptionRouteDeps {
  readonly subscriptions: SubscriptionService;
}

/**
 * What the changing routes need besides the service: the idempotency counters the payment routes keep
 * (`pay_idempotent_replays_total`, `pay_idempotency_conflicts_total`), which count every POST's key.
 */
export interface SubscriptionChangeDeps extends SubscriptionRouteDeps {
  readonly paymentMetrics: PaymentMetrics;
}

/** The request headers every changing route reads: `Idempotency-Key`. */
export const CHANGE_REQUEST_HEADERS: Readonly<Record<string, HeaderSpec>> = {
  [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_REQUEST_HEADER,
};

/** The errors every changing route may answer besides those its mounting implies. */
export const CHANGE_ERRORS = [
  'not_found',
  'invalid_state',
  'idempotency_key_in_use',
  'idempotency_key_reused',
] as const;

/** The usual answer of a changing route: the subscription after the change. */
export function changedResponse(description: string): SuccessResponse<typeof ZSubscriptionResponse> {
  return {
    status: 200,
    description,
    schema: ZSubscriptionResponse,
    headers: { [IDEMPOTENT_REPLAYED_HEADER]: IDEMPOTENT_REPLAYED_RESPONSE_HEADER },
  };
}

/**
 * The idempotent request of a change to subscription `id`: the key (header or body), the caller's
 * account, and the full path, so the same key sent to another subscription or another action is a 422.
 */
export function changeRequest(
  res: Response,
  action: string,
  id: string,
  bodyKey: string | undefined,
  params: unknown,
): IdempotentRequest {
  return {
    accountId: authenticated(res).accountId,
    key: idempotencyKeyOf(res.req, bodyKey),
    method: 'POST',
    path: `${API_V1_PREFIX}/subscriptions/${id}/${action}`,
    params,
    requestId: res.locals.requestId,
  };
}

/**
 * Runs a change and answers with the subscription after it, marked `Idempotent-Replayed: true` when it
 * is the answer stored for the key; counts replays and idempotency conflicts as payments do.
 */
export async function changeReply(
  response: SuccessResponse<typeof ZSubscriptionResponse>,
  metrics: PaymentMetrics,
  work: Promise<SubscriptionChange>,
): Promise<RouteReply> {
  const { view, replayed } = await countingIdempotencyConflicts(metrics, work);
  if (replayed) {
    metrics.idempotentReplays.inc();
  }
  return jsonReply(
    response,
    toSubscriptionResponse(view),
    replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {},
  );
}
