const PAY_ERROR = Symbol.for('@pay/core/PayError');

/**
 * Every stable error code pay returns. The code is part of the public API: clients branch on it, and
 * the API maps each to exactly one HTTP status.
 */
export type PayErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'invalid_state'
  | 'illegal_transition'
  | 'idempotency_key_in_use'
  | 'idempotency_key_reused'
  | 'refund_exceeds_captured'
  | 'rate_limited'
  | 'payload_too_large'
  | 'dependency_unavailable'
  | 'transaction_misuse'
  | 'configuration_invalid'
  | 'gateway_unknown_state'
  | 'internal_error';

/** Base class of every error pay raises on purpose. `code` is stable; `message` is for people. */
export abstract class PayError<C extends PayErrorCode = PayErrorCode> extends Error {
  /** What went wrong, for programs to branch on: one of {@link PayErrorCode}, fixed per subclass. */
  abstract readonly code: C;
  /** The request field at fault, when one is. */
  readonly param: string | undefined;
  /** Whether the same request may succeed when retried with the same idempotency key. */
  readonly retryable: boolean;
  /**
   * Details for the log (ids, the gateway's answer, `retryAfterSeconds`). Never sent to API clients, so it
   * may name internals; never put secrets or card data in it.
   */
  readonly context: Readonly<Record<string, unknown>>;
  /** Brand read by {@link isPayError}: a `Symbol.for` key, so it survives two copies of this package. */
  readonly [PAY_ERROR] = true;

  constructor(
    message: string,
    options: { param?: string; retryable?: boolean; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.param = options.param;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** True for any PayError, even one thrown by a second copy of `@pay/core` in the same process. */
export function isPayError(value: unknown): value is PayError {
  return (
    typeof value === 'object' && value !== null && (value as { [PAY_ERROR]?: unknown })[PAY_ERROR] === true
  );
}

/** The request is malformed or breaks a documented rule of its fields. Nothing was written. */
export class ValidationError extends PayError<'invalid_request'> {
  /** Stable code `invalid_request`; the API answers 400 and names the field in `param`. */
  readonly code = 'invalid_request';
}

/** No API key, or one that is unknown, malformed or revoked. */
export class AuthenticationError extends PayError<'unauthenticated'> {
  /** Stable code `unauthenticated`; the API answers 401. */
  readonly code = 'unauthenticated';
}

/** The API key's role may not perform this operation. */
export class ForbiddenError extends PayError<'forbidden'> {
  /** Stable code `forbidden`; the API answers 403. */
  readonly code = 'forbidden';
}

/** The object does not exist, or belongs to another account (never distinguished, to leak nothing). */
export class NotFoundError extends PayError<'not_found'> {
  /** Stable code `not_found`; the API answers 404. */
  readonly code = 'not_found';
}

/** The object is not in a state that allows the operation. */
export class InvalidStateError extends PayError<'invalid_state'> {
  /** Stable code `invalid_state`; the API answers 409. */
  readonly code = 'invalid_state';
}

/** A state machine was asked for a transition its table does not allow: a bug, not a user error. */
export class IllegalTransitionError extends PayError<'illegal_transition'> {
  /** Stable code `illegal_transition`; the API answers 500, as for any bug. */
  readonly code = 'illegal_transition';
}

/** A request with this idempotency key is still running; retry after it finishes. */
export class IdempotencyKeyInUseError extends PayError<'idempotency_key_in_use'> {
  /** Stable code `idempotency_key_in_use`; the API answers 409 with `Retry-After`. */
  readonly code = 'idempotency_key_in_use';
}

/** The idempotency key was used before with other parameters or on another endpoint. */
export class IdempotencyKeyReusedError extends PayError<'idempotency_key_reused'> {
  /** Stable code `idempotency_key_reused`; the API answers 422. Retrying cannot help: use a new key. */
  readonly code = 'idempotency_key_reused';
}

/** The refund asks for more than remains refundable on the payment. */
export class RefundExceedsCapturedError extends PayError<'refund_exceeds_captured'> {
  /** Stable code `refund_exceeds_captured`; the API answers 422. */
  readonly code = 'refund_exceeds_captured';
}

/** Too many requests for this API key; retry after the advertised delay. */
export class RateLimitedError extends PayError<'rate_limited'> {
  /** Stable code `rate_limited`; the API answers 429 with `Retry-After` from `context.retryAfterSeconds`. */
  readonly code = 'rate_limited';
}

/** The request body exceeds the size limit. */
export class PayloadTooLargeError extends PayError<'payload_too_large'> {
  /** Stable code `payload_too_large`; the API answers 413. */
  readonly code = 'payload_too_large';
}

/** A dependency (database, Stripe) failed or did not answer; retry with the same idempotency key. */
export class DependencyUnavailableError extends PayError<'dependency_unavailable'> {
  /** Stable code `dependency_unavailable`; the API answers 503 and, unlike other 5xx, shows the message. */
  readonly code = 'dependency_unavailable';
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

/**
 * Code used a store the wrong way round, such as querying PGlite's root client inside a transaction
 * (one connection: it would wait for itself forever). A bug, never a user error.
 */
export class TransactionMisuseError extends PayError<'transaction_misuse'> {
  /** Stable code `transaction_misuse`; the API answers 500, as for any bug. */
  readonly code = 'transaction_misuse';
}

/** A configuration value is missing or malformed; the message names the variable. */
export class ConfigurationError extends PayError<'configuration_invalid'> {
  /**
   * Stable code `configuration_invalid`; mostly at startup, else 500 (Stripe refusing pay's key mid-request).
   */
  readonly code = 'configuration_invalid';
}

/**
 * A call to the payment gateway (Stripe) ended without an answer: a network error, a timeout, a 5xx, a
 * 409 for a request still running there, or a connection dropped after Stripe committed. Whether Stripe
 * acted is unknown (`ambiguous`), so the payment stays `pending` at its recovery point, never `failed`
 * (DESIGN.md §3): retrying with the same idempotency key is safe, and the recovery job resolves it.
 */
export class GatewayUnavailableError extends DependencyUnavailableError {
  /** Always true: Stripe may or may not have done what was asked. */
  readonly ambiguous = true;
}

/**
 * Stripe refused the call because of its rate limit (HTTP 429). Its limiter runs before its idempotency
 * layer, so nothing was done there; retry with the same idempotency key after
 * `context.retryAfterSeconds` (sent as `Retry-After`).
 */
export class GatewayRateLimitedError extends DependencyUnavailableError {
  /** Always false: a rate-limited call never ran. */
  readonly ambiguous = false;
}

/**
 * Stripe refused a request the user caused: an unknown or unusable payment method, an amount Stripe does
 * not take. Nothing happened there. `param` names Stripe's parameter at fault and `gatewayCode` is
 * Stripe's error code (`resource_missing`, `amount_too_small`, …), when it sent them.
 */
export class GatewayRejectedError extends PayError<'invalid_request'> {
  /** Stable code `invalid_request`, as for a {@link ValidationError}: the API answers 400. */
  readonly code = 'invalid_request';
  /** Stripe's own error code (`resource_missing`, `amount_too_small`, …); null when Stripe sent none. */
  readonly gatewayCode: string | null;

  constructor(
    message: string,
    options: {
      param?: string;
      gatewayCode?: string | null;
      context?: Record<string, unknown>;
      cause?: unknown;
    },
  ) {
    const { gatewayCode, ...rest } = options;
    super(message, rest);
    this.gatewayCode = gatewayCode ?? null;
  }
}

/**
 * The gateway answered with a status, object or error this version of pay does not know (a new Stripe
 * status, a PaymentIntent in a state pay never puts one in, an error of an unexpected shape). pay does not
 * guess (STYLE.md anti-pattern 5): the payment stays where it was, the error is logged, and the answer
 * is in `context` for whoever reads the log.
 */
export class UnknownGatewayStateError extends PayError<'gateway_unknown_state'> {
  /** Stable code `gateway_unknown_state`; the API answers 502: upstream said something pay does not know. */
  readonly code = 'gateway_unknown_state';
}

/** A broken invariant that no request can cause. */
export class InternalError extends PayError<'internal_error'> {
  /** Stable code `internal_error`; the API answers 500 with a generic message (details only in the log). */
  readonly code = 'internal_error';
}

/** Exhaustiveness guard for switches over closed unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
