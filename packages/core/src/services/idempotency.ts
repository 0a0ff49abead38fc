import type { IdempotencyKey } from '../domain/entities.js';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from '../errors.js';
import type { Repositories } from '../ports/repositories.js';
import type { IdempotentRequest } from './payment-results.js';

/*
 * pay's own idempotency layer (DESIGN.md §4), after Stripe's and Brandur Leach's design: one row per
 * (account, Idempotency-Key) holding a hash of the request, a lock, the flow's recovery point and, once
 * the flow is done, the response to replay. Generic: the payment flow uses it, and refunds will.
 */

/** How long a key is kept, and so replayed: 24 h, as Stripe keeps its own. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** How long a request may hold a key before another (a retry, the recovery job) may take it over. */
export const DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS = 60_000;

/**
 * The `Retry-After` of a 409: the request holding the key normally answers within a second, and one that
 * died releases it when its lock goes stale.
 */
export const IDEMPOTENCY_RETRY_AFTER_SECONDS = 1;

/** The recovery point of a key whose flow has finished and stored its response. */
export const FINISHED_RECOVERY_POINT = 'finished';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * JSON with object keys in a stable order at every depth, so `{a, b}` and `{b, a}` hash alike. Arrays
 * keep their order (it means something), and values JSON cannot hold go as JSON.stringify sends them.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, inner: unknown) =>
    isPlainObject(inner)
      ? Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((k) => [k, inner[k]]),
        )
      : inner,
  ) as string | undefined;
  return text ?? 'null';
}

/**
 * The SHA-256 (hex) of a request as pay compares them: its method, its path and its parameters in
 * canonical form. The same key sent with another hash is a reuse (422).
 */
export async function hashIdempotentRequest(
  request: Pick<IdempotentRequest, 'method' | 'path' | 'params'>,
): Promise<string> {
  const text = `${request.method.toUpperCase()} ${request.path}\n${canonicalJson(request.params)}`;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * How a request with an idempotency key starts: `new` (the key was inserted, locked by this request),
 * `replay` (a response is stored: answer it again), or `resume` (an earlier request stopped at
 * `key.recoveryPoint` and released or abandoned the key; this one now holds it and continues).
 */
export type IdempotencyStart =
  | { readonly kind: 'new'; readonly key: IdempotencyKey }
  | { readonly kind: 'replay'; readonly key: IdempotencyKey }
  | { readonly kind: 'resume'; readonly key: IdempotencyKey };

/** What {@link startIdempotentRequest} needs besides the request. */
export interface IdempotencyStartOptions {
  readonly now: Date;
  /** A lock older than this is stale: its holder is presumed dead, and the key may be taken over. */
  readonly lockTimeoutMs: number;
  /** {@link hashIdempotentRequest} of the request. */
  readonly paramsHash: string;
  /** What the flow needs to resume without its client, stored with a new key. */
  readonly requestParams: unknown;
}

/**
 * Inserts the request's key, or decides what to do with the one already stored: throws
 * {@link IdempotencyKeyReusedError} (422) when it was used with other parameters or on another
 * endpoint, returns `replay` when its response is stored, throws {@link IdempotencyKeyInUseError} (409,
 * `context.retryAfterSeconds`) while another request holds it, and takes it over (`resume`) when it is
 * free or stale. Run it inside the transaction of the flow's first phase: the insert and the flow's
 * first writes commit together, or neither does. Nothing here is stored for a 409 or a 422.
 */
export async function startIdempotentRequest(
  tx: Repositories,
  request: IdempotentRequest,
  options: IdempotencyStartOptions,
): Promise<IdempotencyStart> {
  const { key, inserted } = await tx.idempotencyKeys.insert({
    accountId: request.accountId,
    key: request.key,
    requestMethod: request.method.toUpperCase(),
    requestPath: request.path,
    paramsHash: options.paramsHash,
    requestParams: options.requestParams,
    now: options.now,
  });
  if (inserted) {
    return { kind: 'new', key };
  }
  if (key.requestMethod !== request.method.toUpperCase() || key.requestPath !== request.path) {
    throw new IdempotencyKeyReusedError(
      `This Idempotency-Key was already used for ${key.requestMethod} ${key.requestPath}; ` +
        'use a new key for a different request.',
      { context: { requestMethod: key.requestMethod, requestPath: key.requestPath } },
    );
  }
  if (key.paramsHash !== options.paramsHash) {
    throw new IdempotencyKeyReusedError(
      'This Idempotency-Key was already used with other parameters; use a new key for a different ' +
        'request, or send the same parameters to get the first answer again.',
    );
  }
  if (key.responseStatus !== null) {
    return { kind: 'replay', key };
  }
  const staleBefore = new Date(options.now.getTime() - options.lockTimeoutMs);
  const locked = await tx.idempotencyKeys.lock(key.id, options.now, staleBefore);
  if (locked === null) {
    throw idempotencyKeyInUse();
  }
  return { kind: 'resume', key: locked };
}

/** The 409 for a key another request holds. */
export function idempotencyKeyInUse(): IdempotencyKeyInUseError {
  return new IdempotencyKeyInUseError(
    'A request with this Idempotency-Key is still running; retry with the same key after it finishes.',
    { retryable: true, context: { retryAfterSeconds: IDEMPOTENCY_RETRY_AFTER_SECONDS } },
  );
}
