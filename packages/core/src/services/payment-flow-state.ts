import type { Customer, IdempotencyKey, Payment, PaymentMethod } from '../domain/entities.js';
import { InternalError } from '../errors.js';
import { isId, type PaymentId } from '../ids.js';
import type { Repositories } from '../ports/repositories.js';
import type { CheckedPaymentInput } from './payment-input.js';

/*
 * What the payment flow keeps on its idempotency key to resume without its client, and the rows it
 * works on. Recovery points, in order: `payment_created` (first transaction: key, payment, subscription),
 * `card_attached` (the card is attached at Stripe and recorded), `intent_created` (the PaymentIntent's
 * id is recorded), `finished` (the outcome and the response are stored). The Stripe customer needs no
 * point of its own: its id on the customer row is the record.
 */

/** The payment flow's recovery points, in order. */
export const PAYMENT_RECOVERY_POINTS = Object.freeze([
  'started',
  'payment_created',
  'card_attached',
  'intent_created',
  'finished',
] as const);

/**
 * One of {@link PAYMENT_RECOVERY_POINTS}: the last phase of a payment request that committed, where a retry
 * or recovery resumes.
 */
export type PaymentRecoveryPoint = (typeof PAYMENT_RECOVERY_POINTS)[number];

/** The request as stored on the key: what the flow needs (`input`), and the parameters as sent. */
export interface StoredPaymentRequest {
  readonly version: 1;
  readonly input: {
    readonly userId: string;
    readonly planId: string;
    readonly paymentMethodId: string;
    readonly returnUrl: string | null;
  };
  /**
   * The payment this request creates, and pay's 3-D Secure return address for it, fixed when the key is
   * recorded: whichever process resumes the confirm (the CLI's `pay recover` may not know the API's
   * address) sends Stripe the same `return_url` under the same idempotency key.
   */
  readonly paymentId?: PaymentId;
  readonly threeDSecureReturnUrl?: string;
  readonly params: unknown;
}

/** The stored form of a checked request. */
export function storedRequestOf(
  checked: CheckedPaymentInput,
  params: unknown,
  payment: { readonly id: PaymentId; readonly threeDSecureReturnUrl: string },
): StoredPaymentRequest {
  return {
    version: 1,
    input: {
      userId: checked.userId,
      planId: checked.plan.id,
      paymentMethodId: checked.paymentMethodId,
      returnUrl: checked.returnUrl,
    },
    paymentId: payment.id,
    threeDSecureReturnUrl: payment.threeDSecureReturnUrl,
    params: params ?? null,
  };
}

/** The 3-D Secure return address recorded with the key, when the key was recorded with one. */
export function storedThreeDSecureReturnUrl(key: IdempotencyKey): string | null {
  const stored = key.requestParams as Partial<StoredPaymentRequest> | null;
  const value = stored?.version === 1 ? stored.threeDSecureReturnUrl : undefined;
  return typeof value === 'string' ? value : null;
}

/** The Stripe PaymentMethod (or test token) the stored request names. */
export function storedPaymentMethod(key: IdempotencyKey): string {
  const stored = key.requestParams as Partial<StoredPaymentRequest> | null;
  const value = stored?.version === 1 ? stored.input?.paymentMethodId : undefined;
  if (typeof value !== 'string') {
    throw new InternalError(`Idempotency key ${key.id} holds no payment request to resume.`, {
      context: { idempotencyKeyId: key.id },
    });
  }
  return value;
}

/** The key's recovery point, checked. */
export function recoveryPointOf(key: IdempotencyKey): PaymentRecoveryPoint {
  const point = PAYMENT_RECOVERY_POINTS.find((p) => p === key.recoveryPoint);
  if (point === undefined) {
    throw new InternalError(`Idempotency key ${key.id} is at an unknown recovery point.`, {
      context: { idempotencyKeyId: key.id, recoveryPoint: key.recoveryPoint },
    });
  }
  return point;
}

/** The payment a key created. */
export function paymentIdOf(key: IdempotencyKey): PaymentId {
  const id = key.resourceId;
  if (id === null || !isId('payment', id)) {
    throw new InternalError(`Idempotency key ${key.id} names no payment.`, {
      context: { idempotencyKeyId: key.id },
    });
  }
  return id;
}

/** The rows one run of the flow works on, read fresh at the start of each phase. */
export interface FlowRows {
  readonly payment: Payment;
  readonly customer: Customer;
  readonly card: PaymentMethod | null;
}

/** Reads the payment, its customer and its card. */
export async function loadRows(repos: Repositories, paymentId: PaymentId): Promise<FlowRows> {
  const payment = await repos.payments.findByIdAcrossAccounts(paymentId);
  if (payment === null) {
    throw new InternalError(`Payment ${paymentId} does not exist.`, { context: { paymentId } });
  }
  const [customer, card] = await Promise.all([
    repos.customers.findById(payment.accountId, payment.customerId),
    payment.paymentMethodId === null
      ? Promise.resolve(null)
      : repos.paymentMethods.findById(payment.accountId, payment.paymentMethodId),
  ]);
  if (customer === null) {
    throw new InternalError(`Payment ${paymentId} names a customer that does not exist.`, {
      context: { paymentId },
    });
  }
  return { payment, customer, card };
}
