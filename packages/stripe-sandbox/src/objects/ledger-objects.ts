import { newId } from '../wire/ids.js';
import type { ChargeObject } from './charge.js';

/**
 * A balance transaction, kept only so that `expand[]=balance_transaction` has something to show
 * (SANDBOX.md §3.8); the sandbox has no fees, payouts or balance.
 */
export interface BalanceTransactionObject {
  readonly id: string;
  readonly object: 'balance_transaction';
  readonly amount: number;
  readonly available_on: number;
  readonly created: number;
  readonly currency: string;
  readonly description: string | null;
  readonly exchange_rate: null;
  readonly fee: 0;
  readonly fee_details: readonly never[];
  readonly net: number;
  readonly reporting_category: BalanceTransactionType;
  readonly source: string;
  readonly status: 'available';
  readonly type: BalanceTransactionType;
}

/** `refund_failure`: a failed refund's money coming back to the account (Stripe's type and category). */
export type BalanceTransactionType = 'charge' | 'refund' | 'refund_failure';

export function newBalanceTransaction(input: {
  created: number;
  amount: number;
  currency: string;
  source: string;
  type: BalanceTransactionType;
}): BalanceTransactionObject {
  return {
    id: newId('txn'),
    object: 'balance_transaction',
    amount: input.amount,
    available_on: input.created,
    created: input.created,
    currency: input.currency,
    description: null,
    exchange_rate: null,
    fee: 0,
    fee_details: [],
    net: input.amount,
    reporting_category: input.type,
    source: input.source,
    status: 'available',
    type: input.type,
  };
}

/** Stripe's `dispute` object, minimal (SANDBOX.md §4.6, phase 2). */
export interface DisputeObject {
  readonly id: string;
  readonly object: 'dispute';
  readonly amount: number;
  readonly balance_transactions: readonly never[];
  readonly charge: string;
  readonly created: number;
  readonly currency: string;
  readonly evidence_details: {
    readonly due_by: number;
    readonly has_evidence: false;
    readonly past_due: false;
    readonly submission_count: 0;
  };
  readonly is_charge_refundable: false;
  readonly livemode: false;
  readonly metadata: Readonly<Record<string, string>>;
  readonly payment_intent: string;
  readonly reason: string;
  readonly status: 'needs_response';
}

export function newDispute(created: number, charge: ChargeObject, reason: string): DisputeObject {
  return {
    id: newId('dp'),
    object: 'dispute',
    amount: charge.amount_captured,
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    evidence_details: {
      due_by: created + 7 * 86_400,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    reason,
    status: 'needs_response',
  };
}
