import type { IdempotencyKey } from '../domain/entities.js';
import { DependencyUnavailableError, isPayError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { logFieldsOf } from './payment-log-fields.js';

/** What a flow that stopped is called in its log lines and its 503. */
export interface PausedFlow {
  /** The subject of the log lines: `payment flow`, `refund`, `card change`. */
  readonly name: string;
  /** The log field naming the key's resource: `paymentId`, `refundId`, `subscriptionId`. */
  readonly resourceField: string;
  /** What could not be recorded, for the 503's message: `the payment’s progress`. */
  readonly progress: string;
}

/**
 * Releases a flow's idempotency key at its last recovery point (the object stays where that point left
 * it) and returns the error to throw: a dependency's own retryable error, a DependencyUnavailableError
 * for a database error (the client retries with the same key), or the PayError as it is (a state pay
 * does not know, a bug). The release is best effort: if it fails too, the lock goes stale after the
 * timeout and a retry or the recovery job takes the key over.
 */
export async function releaseKey(
  deps: { readonly store: Store; readonly logger: Logger },
  key: IdempotencyKey,
  error: unknown,
  flow: PausedFlow,
): Promise<unknown> {
  // Twice: after a lost database connection the first statement on a fresh one can still fail with the
  // old session's error, and a key left locked answers the client's retries 409 until it goes stale.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await deps.store.repos.idempotencyKeys.update(key.id, { lockedAt: null });
      break;
    } catch (releaseError) {
      if (attempt === 1 && releaseError instanceof DependencyUnavailableError) {
        continue;
      }
      deps.logger.error('could not release an idempotency key; it will go stale', {
        idempotencyKeyId: key.id,
        error: logFieldsOf(releaseError),
      });
      break;
    }
  }
  const fields = {
    idempotencyKeyId: key.id,
    [flow.resourceField]: key.resourceId,
    error: logFieldsOf(error),
  };
  if (error instanceof DependencyUnavailableError) {
    deps.logger.warn(`${flow.name} paused: a dependency did not answer; retry with the same key`, fields);
    return error;
  }
  if (!isPayError(error)) {
    deps.logger.error(`${flow.name} paused by an unexpected error (the database?)`, fields);
    return new DependencyUnavailableError(
      `pay could not record ${flow.progress}; retry with the same Idempotency-Key.`,
      { cause: error },
    );
  }
  deps.logger.error(`${flow.name} stopped`, { ...fields, code: error.code });
  return error;
}
