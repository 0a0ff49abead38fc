import type { IdempotencyKey, Subscription } from '../domain/entities.js';
import { DependencyUnavailableError, InternalError, NotFoundError, isPayError } from '../errors.js';
import { isId, type AccountId } from '../ids.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import {
  FINISHED_RECOVERY_POINT,
  hashIdempotentRequest,
  startIdempotentRequest,
  type IdempotencyStart,
} from './idempotency.js';
import type { IdempotentRequest } from './payment-results.js';
import type { SubscriptionView } from './subscription-results.js';
import { encodeSubscriptionView } from './subscription-view-codec.js';

/*
 * The idempotency of subscription requests (DESIGN.md §4), shared by cancel, resume and the card
 * change: the key is inserted in the same transaction as the request's first writes, so a refusal
 * thrown inside it (404, 409 invalid_state) rolls the key back too and nothing is written.
 */

/** The 404 for a subscription id that is unknown, malformed or another account's (never distinguished). */
export function subscriptionNotFound(id: string): NotFoundError {
  return new NotFoundError(`No such subscription: ${id.slice(0, 64)}.`, { param: 'id' });
}

/**
 * Reads the account's subscription `id` locked until the transaction ends, so a renewal or a webhook
 * cannot move it between this request's check and its write.
 */
export async function lockSubscription(
  tx: Repositories,
  accountId: AccountId,
  id: string,
): Promise<Subscription> {
  if (!isId('subscription', id)) {
    throw subscriptionNotFound(id);
  }
  const subscription = await tx.subscriptions.lockById(id);
  if (subscription === null || subscription.accountId !== accountId) {
    throw subscriptionNotFound(id);
  }
  return subscription;
}

/** What the request stores on its key: the operation and its input, so a resumed request needs no client. */
export interface StoredSubscriptionRequest {
  readonly version: 1;
  readonly operation: 'cancel' | 'resume' | 'change_payment_method';
  readonly subscriptionId: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly params: unknown;
}

/** The first transaction of a subscription request: the key, and whatever `begin` writes with it. */
export async function beginSubscriptionRequest<T>(
  store: Store,
  request: IdempotentRequest,
  options: { readonly now: Date; readonly lockTimeoutMs: number; readonly stored: StoredSubscriptionRequest },
  begin: (tx: Repositories, start: Exclude<IdempotencyStart, { kind: 'replay' }>) => Promise<T>,
): Promise<
  { readonly kind: 'replay'; readonly key: IdempotencyKey } | { readonly kind: 'begun'; readonly value: T }
> {
  const paramsHash = await hashIdempotentRequest(request);
  try {
    return await store.transaction(async (tx) => {
      const start = await startIdempotentRequest(tx, request, {
        now: options.now,
        lockTimeoutMs: options.lockTimeoutMs,
        paramsHash,
        requestParams: options.stored,
      });
      if (start.kind === 'replay') {
        return { kind: 'replay', key: start.key } as const;
      }
      return { kind: 'begun', value: await begin(tx, start) } as const;
    });
  } catch (error) {
    throw unavailableUnlessPayError(error, 'pay could not record the subscription request');
  }
}

/** Stores `view` as the key's answer and frees the key, inside `tx`. */
export async function finishWithView(
  tx: Repositories,
  key: IdempotencyKey,
  view: SubscriptionView,
): Promise<SubscriptionView> {
  await tx.idempotencyKeys.update(key.id, {
    recoveryPoint: FINISHED_RECOVERY_POINT,
    lockedAt: null,
    responseStatus: 200,
    responseBody: encodeSubscriptionView(view),
  });
  return view;
}

/** A PayError as it is; anything else (a database error) as a retryable 503. */
export function unavailableUnlessPayError(error: unknown, what: string): unknown {
  return isPayError(error)
    ? error
    : new DependencyUnavailableError(`${what}; retry with the same Idempotency-Key.`, { cause: error });
}

/** Guards the invariant that a request and its idempotency key name one account. */
export function assertSameAccount(accountId: AccountId, request: IdempotentRequest): void {
  if (accountId !== request.accountId) {
    throw new InternalError('A subscription request and its idempotency key name different accounts.');
  }
}
