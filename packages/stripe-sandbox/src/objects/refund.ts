import { newId } from '../wire/ids.js';
import type { ChargeObject } from './charge.js';

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

/** The statuses a card refund takes here: `requires_action` and `canceled` never happen to card refunds. */
export type RefundStatus = 'pending' | 'succeeded' | 'failed';

/**
 * Stripe's `refund` object (SANDBOX.md §4.5, Appendix A). Card refunds succeed synchronously, except those
 * of the asynchronous-refund test cards (`asyncRefund` in cards.ts). The optional keys appear only on the
 * refunds they concern: `pending_reason` on a refund that started pending, `failure_*` once one failed.
 */
export interface RefundObject {
  readonly id: string;
  readonly object: 'refund';
  readonly amount: number;
  readonly balance_transaction: string | null;
  readonly charge: string;
  readonly created: number;
  readonly currency: string;
  readonly customer: string | null;
  readonly customer_account: null;
  readonly destination_details: {
    readonly card: {
      readonly reference_status: string;
      readonly reference_type: string;
      readonly type: string;
    };
    readonly type: 'card';
  };
  readonly metadata: Readonly<Record<string, string>>;
  readonly payment_intent: string;
  readonly payment_method: string;
  readonly reason: RefundReason | null;
  readonly receipt_number: null;
  readonly source_transfer_reversal: null;
  readonly status: RefundStatus;
  readonly transfer_reversal: null;
  /** Why it is pending (2025-04-30.basil); `processing` is the card network's time, null once it is not. */
  readonly pending_reason?: 'processing' | null;
  /** The `refund_failure` balance transaction that gave the money back to the account. */
  readonly failure_balance_transaction?: string;
  readonly failure_reason?: string;
}

export function newRefund(input: {
  created: number;
  charge: ChargeObject;
  amount: number;
  balanceTransaction: string | null;
  reason: RefundReason | null;
  metadata: Record<string, string>;
  status: 'pending' | 'succeeded';
}): RefundObject {
  const { charge } = input;
  return {
    id: newId('re'),
    object: 'refund',
    amount: input.amount,
    balance_transaction: input.balanceTransaction,
    charge: charge.id,
    created: input.created,
    currency: charge.currency,
    customer: charge.customer,
    customer_account: null,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata: input.metadata,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: input.status,
    transfer_reversal: null,
    ...(input.status === 'pending' ? { pending_reason: 'processing' as const } : {}),
  };
}
