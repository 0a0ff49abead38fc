import type { JsonObject } from '../errors.js';
import { newId, withRandomSuffix } from '../wire/ids.js';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';
export type RequestThreeDSecure = 'automatic' | 'any' | 'challenge';

/** `processing` of a card payment in `processing` (SANDBOX.md §4.3: only under the `processing` fault). */
export interface CardProcessing {
  readonly card: Readonly<Record<string, never>>;
  readonly type: 'card';
}

/** The one `processing` value the sandbox shows (shared, never mutated). */
export const CARD_PROCESSING: CardProcessing = { card: {}, type: 'card' };

/** `last_payment_error` (all keys optional in the SDK; present only when set). */
export type LastPaymentError = JsonObject;

/** Stripe's `payment_intent` object (SANDBOX.md §4.3, Appendix A). `charges` is gone since 2022-11-15. */
export interface PaymentIntentObject {
  readonly id: string;
  readonly object: 'payment_intent';
  readonly allowed_payment_method_types: readonly string[] | null;
  readonly amount: number;
  readonly amount_capturable: number;
  readonly amount_details: JsonObject;
  readonly amount_received: number;
  readonly application: null;
  readonly application_fee_amount: number | null;
  readonly automatic_payment_methods: {
    readonly allow_redirects: 'always' | 'never';
    readonly enabled: boolean;
  } | null;
  readonly canceled_at: number | null;
  readonly cancellation_reason: string | null;
  readonly capture_method: CaptureMethod;
  readonly client_secret: string;
  readonly confirmation_method: 'automatic' | 'manual';
  readonly created: number;
  readonly currency: string;
  readonly customer: string | null;
  readonly customer_account: null;
  readonly description: string | null;
  readonly excluded_payment_method_types: null;
  readonly last_payment_error: LastPaymentError | null;
  readonly latest_charge: string | null;
  readonly livemode: false;
  readonly managed_payments: null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly next_action: JsonObject | null;
  readonly on_behalf_of: null;
  readonly payment_method: string | null;
  readonly payment_method_configuration_details: { readonly id: string; readonly parent: null } | null;
  readonly payment_method_options: {
    readonly card: {
      readonly installments: null;
      readonly mandate_options: null;
      readonly network: null;
      readonly request_three_d_secure: RequestThreeDSecure;
    };
  };
  readonly payment_method_types: readonly string[];
  readonly payment_record: null;
  /** Set while `status` is `processing`, null otherwise. */
  readonly processing: CardProcessing | null;
  readonly receipt_email: string | null;
  readonly review: null;
  readonly setup_future_usage: 'on_session' | 'off_session' | null;
  readonly shipping: JsonObject | null;
  readonly source: null;
  readonly statement_descriptor: string | null;
  readonly statement_descriptor_suffix: string | null;
  readonly status: PaymentIntentStatus;
  readonly transfer_data: null;
  readonly transfer_group: string | null;
}

export interface NewPaymentIntent {
  created: number;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  captureMethod: CaptureMethod;
  confirmationMethod: 'automatic' | 'manual';
  /** Explicit method types; null means dynamic payment methods (the default since 2023-08-16). */
  paymentMethodTypes: string[] | null;
  allowRedirects: 'always' | 'never';
  requestThreeDSecure: RequestThreeDSecure;
  receiptEmail: string | null;
  setupFutureUsage: 'on_session' | 'off_session' | null;
  shipping: JsonObject | null;
  statementDescriptor: string | null;
  statementDescriptorSuffix: string | null;
  transferGroup: string | null;
  applicationFeeAmount: number | null;
}

// Constant parts shared by every intent that has them: stored objects are never mutated.
const AMOUNT_DETAILS = { tip: {} };
const CARD_ONLY: readonly string[] = ['card'];
const DEFAULT_CONFIGURATION = { id: 'pmc_sandbox_default', parent: null };
const AUTOMATIC = {
  always: { allow_redirects: 'always', enabled: true },
  never: { allow_redirects: 'never', enabled: true },
} as const;
const CARD_OPTIONS = {
  automatic: {
    card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
  },
  any: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'any' } },
  challenge: {
    card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'challenge' },
  },
} as const;

/** `payment_method_options` for a `request_three_d_secure` value (shared, never mutated). */
export function cardOptions(request: RequestThreeDSecure): PaymentIntentObject['payment_method_options'] {
  return CARD_OPTIONS[request];
}

export function newPaymentIntent(input: NewPaymentIntent): PaymentIntentObject {
  const id = newId('pi');
  const dynamic = input.paymentMethodTypes === null;
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: input.paymentMethodTypes,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: AMOUNT_DETAILS,
    amount_received: 0,
    application: null,
    application_fee_amount: input.applicationFeeAmount,
    automatic_payment_methods: dynamic ? AUTOMATIC[input.allowRedirects] : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: input.captureMethod,
    client_secret: withRandomSuffix(`${id}_secret_`, 25),
    confirmation_method: input.confirmationMethod,
    created: input.created,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: dynamic ? DEFAULT_CONFIGURATION : null,
    payment_method_options: CARD_OPTIONS[input.requestThreeDSecure],
    payment_method_types: input.paymentMethodTypes ?? CARD_ONLY,
    payment_record: null,
    processing: null,
    receipt_email: input.receiptEmail,
    review: null,
    setup_future_usage: input.setupFutureUsage,
    shipping: input.shipping,
    source: null,
    statement_descriptor: input.statementDescriptor,
    statement_descriptor_suffix: input.statementDescriptorSuffix,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: input.transferGroup,
  };
}
