import type { Decline } from '../cards.js';
import type { JsonObject } from '../errors.js';
import { flatAscii, newId } from '../wire/ids.js';
import type { PaymentIntentObject } from './payment-intent.js';
import type { PaymentMethodObject } from './payment-method.js';

/** Stripe's `charge` object (SANDBOX.md §4.4, Appendix A). Made only by confirming a PaymentIntent. */
export interface ChargeObject {
  readonly id: string;
  readonly object: 'charge';
  readonly amount: number;
  readonly amount_captured: number;
  readonly amount_refunded: number;
  readonly application: null;
  readonly application_fee: null;
  readonly application_fee_amount: number | null;
  readonly balance_transaction: string | null;
  readonly billing_details: PaymentMethodObject['billing_details'];
  readonly calculated_statement_descriptor: string | null;
  readonly captured: boolean;
  readonly created: number;
  readonly currency: string;
  readonly customer: string | null;
  readonly description: string | null;
  readonly disputed: boolean;
  readonly failure_balance_transaction: null;
  readonly failure_code: string | null;
  readonly failure_message: string | null;
  readonly fraud_details: JsonObject;
  readonly livemode: false;
  readonly metadata: Readonly<Record<string, string>>;
  readonly on_behalf_of: null;
  readonly outcome: JsonObject;
  readonly paid: boolean;
  readonly payment_intent: string;
  readonly payment_method: string;
  readonly payment_method_details: JsonObject;
  readonly receipt_email: string | null;
  readonly receipt_number: null;
  readonly receipt_url: string | null;
  readonly refunded: boolean;
  readonly review: null;
  readonly shipping: JsonObject | null;
  readonly source: null;
  readonly source_transfer: null;
  readonly statement_descriptor: string | null;
  readonly statement_descriptor_suffix: string | null;
  readonly status: 'succeeded' | 'pending' | 'failed';
  readonly transfer_data: null;
  readonly transfer_group: string | null;
}

const APPROVED_OUTCOME = {
  advice_code: null,
  network_advice_code: null,
  network_decline_code: null,
  network_status: 'approved_by_network',
  reason: null,
  risk_level: 'normal',
  risk_score: 32,
  seller_message: 'Payment complete.',
  type: 'authorized',
};

function declinedOutcome(decline: Decline): JsonObject {
  const reason = decline.declineCode ?? decline.code;
  return {
    advice_code: null,
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'declined_by_network',
    reason,
    risk_level: 'normal',
    risk_score: 32,
    seller_message:
      reason === 'generic_decline'
        ? 'The bank did not return any further details with this decline.'
        : `The bank returned the decline code \`${reason}\`.`,
    type: 'issuer_declined',
  };
}

// Constant parts shared by every charge: stored objects are never mutated, and a benchmark keeps many.
const DISABLED = { status: 'disabled' };
const UNAVAILABLE = { status: 'unavailable' };
const NETWORK_TOKEN_UNUSED = { used: false };
const NO_FRAUD_DETAILS = {};

/** The 3-D Secure result on a charge made after a successful challenge. */
export const THREE_D_SECURE_RESULT: JsonObject = {
  authentication_flow: 'challenge',
  electronic_commerce_indicator: '05',
  exemption_indicator: null,
  result: 'authenticated',
  result_reason: null,
  transaction_id: null,
  version: '2.2.0',
};

export interface NewCharge {
  created: number;
  intent: PaymentIntentObject;
  paymentMethod: PaymentMethodObject;
  /** Null for an approved charge. */
  decline: Decline | null;
  /** Captured now (automatic capture) or only authorised (manual). */
  captured: boolean;
  /** The balance transaction id, when the capture settled synchronously. */
  balanceTransaction: string | null;
  threeDSecure: JsonObject | null;
}

export function newCharge(input: NewCharge): ChargeObject {
  const { intent, paymentMethod: pm, decline } = input;
  const id = newId('ch');
  const ok = decline === null;
  const card = pm.card;
  return {
    id,
    object: 'charge',
    amount: intent.amount,
    amount_captured: ok && input.captured ? intent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: intent.application_fee_amount,
    balance_transaction: ok ? input.balanceTransaction : null,
    billing_details: pm.billing_details,
    calculated_statement_descriptor: 'SANDBOX',
    captured: ok && input.captured,
    created: input.created,
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: ok ? null : decline.code,
    failure_message: ok ? null : decline.message,
    fraud_details: NO_FRAUD_DETAILS,
    livemode: false,
    metadata: intent.metadata,
    on_behalf_of: null,
    outcome: ok ? APPROVED_OUTCOME : declinedOutcome(decline),
    paid: ok,
    payment_intent: intent.id,
    payment_method: pm.id,
    payment_method_details: {
      card: {
        amount_authorized: ok ? intent.amount : null,
        authorization_code: ok ? '123456' : null,
        brand: card.brand,
        checks: card.checks,
        country: card.country,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        extended_authorization: DISABLED,
        fingerprint: card.fingerprint,
        funding: card.funding,
        incremental_authorization: UNAVAILABLE,
        installments: null,
        last4: card.last4,
        mandate: null,
        multicapture: UNAVAILABLE,
        network: card.brand,
        network_token: NETWORK_TOKEN_UNUSED,
        network_transaction_id: ok ? '000000000000000' : null,
        overcapture: { maximum_amount_capturable: intent.amount, status: 'unavailable' },
        regulated_status: 'unregulated',
        three_d_secure: input.threeDSecure,
        wallet: null,
      },
      type: 'card',
    },
    receipt_email: intent.receipt_email,
    receipt_number: null,
    receipt_url: ok ? flatAscii(`https://pay.stripe.com/receipts/sandbox/${id}`) : null,
    refunded: false,
    review: null,
    shipping: intent.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: intent.statement_descriptor,
    statement_descriptor_suffix: intent.statement_descriptor_suffix,
    status: ok ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: intent.transfer_group,
  };
}
