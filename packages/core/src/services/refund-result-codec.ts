import type { Payment, Refund } from '../domain/entities.js';
import { InternalError } from '../errors.js';

/*
 * The answer to a refund request as stored on its idempotency key (a JSON column) and read back for a
 * replay: the refund and its payment as they were answered, in a versioned envelope, dates as
 * ISO-8601 strings (like payment-result-codec.ts).
 */

const VERSION = 1;

/** The JSON-safe form of an answered refund. */
export interface StoredRefundResult {
  readonly version: typeof VERSION;
  readonly refund: unknown;
  readonly payment: unknown;
}

/** The stored form of a refund and its payment. */
export function encodeRefundResult(result: {
  readonly refund: Refund;
  readonly payment: Payment;
}): StoredRefundResult {
  return {
    version: VERSION,
    refund: JSON.parse(JSON.stringify(result.refund)) as unknown,
    payment: JSON.parse(JSON.stringify(result.payment)) as unknown,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(why: string): InternalError {
  return new InternalError(`A stored refund result cannot be read back: ${why}.`);
}

function reviveDate(value: unknown, field: string): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw corrupt(`${field} is not a date`);
  }
  return date;
}

function reviveNullableDate(value: unknown, field: string): Date | null {
  return value === null || value === undefined ? null : reviveDate(value, field);
}

/** Rebuilds what {@link encodeRefundResult} stored; throws an InternalError for anything else. */
export function decodeRefundResult(body: unknown): { refund: Refund; payment: Payment } {
  if (!isRecord(body) || body.version !== VERSION || !isRecord(body.refund) || !isRecord(body.payment)) {
    throw corrupt('unknown envelope');
  }
  const { refund, payment } = body;
  if (typeof refund.id !== 'string' || typeof payment.id !== 'string' || refund.paymentId !== payment.id) {
    throw corrupt('missing ids');
  }
  // Validated as far as a replay depends on it; the rest is pay's own JSON, written by encode.
  return {
    refund: {
      ...refund,
      createdAt: reviveDate(refund.createdAt, 'refund.createdAt'),
      updatedAt: reviveDate(refund.updatedAt, 'refund.updatedAt'),
    } as unknown as Refund,
    payment: {
      ...payment,
      billingPeriodStart: reviveNullableDate(payment.billingPeriodStart, 'payment.billingPeriodStart'),
      billingPeriodEnd: reviveNullableDate(payment.billingPeriodEnd, 'payment.billingPeriodEnd'),
      createdAt: reviveDate(payment.createdAt, 'payment.createdAt'),
      updatedAt: reviveDate(payment.updatedAt, 'payment.updatedAt'),
    } as unknown as Payment,
  };
}
