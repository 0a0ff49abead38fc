import { InternalError } from '../errors.js';
import { PAYMENT_RESULT_KINDS, type PaymentResult } from './payment-results.js';

/*
 * A PaymentResult as stored on its idempotency key (a JSON column) and read back for a replay. The
 * stored form is the result's own JSON (dates as ISO-8601 strings) inside a versioned envelope, so a
 * replay rebuilds exactly the result the first request answered with, dates included.
 */

const VERSION = 1;

/** The JSON-safe form of a {@link PaymentResult}. */
export interface StoredPaymentResult {
  readonly version: typeof VERSION;
  readonly result: unknown;
}

/** The stored form of `result`. */
export function encodePaymentResult(result: PaymentResult): StoredPaymentResult {
  return { version: VERSION, result: JSON.parse(JSON.stringify(result)) as unknown };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reviveDate(value: unknown, field: string): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw corrupt(`${field} is not a date`);
  }
  return date;
}

function corrupt(why: string): InternalError {
  return new InternalError(`A stored payment result cannot be read back: ${why}.`);
}

/** Rebuilds the result {@link encodePaymentResult} stored; throws an InternalError for anything else. */
export function decodePaymentResult(body: unknown): PaymentResult {
  if (!isRecord(body) || body.version !== VERSION || !isRecord(body.result)) {
    throw corrupt('unknown envelope');
  }
  const result = body.result;
  const kinds: readonly unknown[] = PAYMENT_RESULT_KINDS;
  if (!kinds.includes(result.kind) || !isRecord(result.view) || !isRecord(result.view.payment)) {
    throw corrupt('unknown kind or missing payment');
  }
  const payment = result.view.payment;
  if (typeof payment.id !== 'string' || typeof result.view.userId !== 'string') {
    throw corrupt('missing ids');
  }
  // Validated above as far as a replay depends on it; the rest is pay's own JSON, written by encode.
  return {
    ...result,
    view: {
      ...result.view,
      payment: {
        ...payment,
        createdAt: reviveDate(payment.createdAt, 'payment.createdAt'),
        updatedAt: reviveDate(payment.updatedAt, 'payment.updatedAt'),
      },
    },
  } as unknown as PaymentResult;
}
