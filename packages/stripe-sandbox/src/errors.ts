/*
 * Stripe's error envelope (SANDBOX.md §3.5): one typed class per HTTP status the sandbox answers with,
 * each carrying the envelope's fields. Handlers throw them; the pipeline renders them. Whether an error is
 * stored under an idempotency key depends on when it is thrown (parse vs execute), not on its class.
 */

/** A JSON object as the API renders it. */
export type JsonObject = { [key: string]: unknown };

/** Stripe's error `type`s in the sandbox's subset. */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

/** Optional envelope fields; each appears in the body only when set (captures never show `"param": null`). */
export interface StripeErrorFields {
  code?: string;
  declineCode?: string;
  param?: string;
  /** The failed charge of a card error. */
  charge?: string;
  paymentIntent?: JsonObject;
  paymentMethod?: JsonObject;
  /** Sent as `Stripe-Should-Retry`, which the SDK obeys before anything else. */
  shouldRetry?: boolean;
}

/** Base of every error the API answers with Stripe's envelope. */
export abstract class SandboxApiError extends Error {
  abstract readonly status: number;
  abstract readonly type: StripeErrorType;
  readonly fields: Readonly<StripeErrorFields>;

  constructor(message: string, fields: StripeErrorFields = {}) {
    super(message);
    this.name = new.target.name;
    this.fields = fields;
  }
}

/** 400: malformed parameters or a request the object's state does not allow. */
export class InvalidRequestError extends SandboxApiError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
}

/** 404: an unknown object id (`resource_missing`) or an unknown URL. */
export class ResourceNotFoundError extends SandboxApiError {
  readonly status = 404;
  readonly type = 'invalid_request_error';
}

/** 401: no API key, or one the sandbox does not accept. Never stored under an idempotency key. */
export class AuthenticationError extends SandboxApiError {
  readonly status = 401;
  readonly type = 'invalid_request_error';
}

/** 402: the card was declined or needs authentication off-session. Stored and replayed like a success. */
export class CardError extends SandboxApiError {
  readonly status = 402;
  readonly type = 'card_error';
}

/** 400 `idempotency_error`: a key reused with other parameters or on another endpoint. */
export class IdempotencyError extends SandboxApiError {
  readonly status = 400;
  readonly type = 'idempotency_error';
}

/** 409 `idempotency_key_in_use`: the first request with this key is still running. */
export class IdempotencyKeyInUseError extends SandboxApiError {
  readonly status = 409;
  readonly type = 'invalid_request_error';
}

/** 429 `rate_limit` or `lock_timeout`. The rate limiter runs before idempotency, so nothing is stored. */
export class RateLimitError extends SandboxApiError {
  readonly status = 429;
  readonly type = 'invalid_request_error';
}

/** 5xx `api_error`: an injected fault or a bug in the sandbox. */
export class ApiError extends SandboxApiError {
  readonly type = 'api_error';
  constructor(
    message: string,
    readonly status: 500 | 503 = 500,
    fields: StripeErrorFields = {},
  ) {
    super(message, fields);
  }
}

const SUPPORT = 'Please see https://stripe.com/docs or we can help at https://support.stripe.com/.';

/** `No such payment_intent: 'pi_123'`, code `resource_missing`, `param` the parameter that named it. */
export function resourceMissing(noun: string, id: string, param: string): ResourceNotFoundError {
  return new ResourceNotFoundError(`No such ${noun}: '${id}'`, { code: 'resource_missing', param });
}

/** The 404 for a path or method the sandbox does not serve. */
export function unrecognizedUrl(method: string, path: string): ResourceNotFoundError {
  return new ResourceNotFoundError(`Unrecognized request URL (${method}: ${path}). ${SUPPORT}`);
}

export function parameterMissing(param: string): InvalidRequestError {
  return new InvalidRequestError(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

export function parameterUnknown(param: string): InvalidRequestError {
  return new InvalidRequestError(`Received unknown parameter: ${param}`, {
    code: 'parameter_unknown',
    param,
  });
}

export function invalidInteger(param: string, value: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid integer: ${value}`, { code: 'parameter_invalid_integer', param });
}

/** `Stripe-Should-Retry` for an error, or undefined to send none. */
export function shouldRetryHeader(error: SandboxApiError): string | undefined {
  const retry = error.fields.shouldRetry;
  return retry === undefined ? undefined : String(retry);
}

/** Stripe's documentation page for an error code. */
export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

/**
 * The `{"error": {…}}` body, keys in alphabetical order as Stripe renders them. `requestLogUrl` is
 * omitted for errors that have no account (401).
 */
export function errorEnvelope(error: SandboxApiError, requestLogUrl: string | null): { error: JsonObject } {
  const f = error.fields;
  const body: JsonObject = {};
  if (f.charge !== undefined) {
    body.charge = f.charge;
  }
  if (f.code !== undefined) {
    body.code = f.code;
  }
  if (f.declineCode !== undefined) {
    body.decline_code = f.declineCode;
  }
  if (f.code !== undefined) {
    body.doc_url = docUrl(f.code);
  }
  body.message = error.message;
  if (f.param !== undefined) {
    body.param = f.param;
  }
  if (f.paymentIntent !== undefined) {
    body.payment_intent = f.paymentIntent;
  }
  if (f.paymentMethod !== undefined) {
    body.payment_method = f.paymentMethod;
  }
  if (requestLogUrl !== null) {
    body.request_log_url = requestLogUrl;
  }
  body.type = error.type;
  return { error: body };
}
