import type Stripe from 'stripe';
import { confirmWith, harness, type Harness, idOf } from './harness.js';

/*
 * SANDBOX.md §8.14 and Appendix A: every object carries the keys the pinned SDK requires. The typed
 * assignments below are the type-level half: `tsc -p tsconfig.json` checks this file against the SDK.
 */

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

const REQUIRED: Record<string, string[]> = {
  payment_intent: [
    'id',
    'object',
    'allowed_payment_method_types',
    'amount',
    'amount_capturable',
    'amount_received',
    'application',
    'application_fee_amount',
    'automatic_payment_methods',
    'canceled_at',
    'cancellation_reason',
    'capture_method',
    'client_secret',
    'confirmation_method',
    'created',
    'currency',
    'customer',
    'customer_account',
    'description',
    'excluded_payment_method_types',
    'last_payment_error',
    'latest_charge',
    'livemode',
    'managed_payments',
    'metadata',
    'next_action',
    'on_behalf_of',
    'payment_method',
    'payment_method_configuration_details',
    'payment_method_options',
    'payment_method_types',
    'payment_record',
    'processing',
    'receipt_email',
    'review',
    'setup_future_usage',
    'shipping',
    'source',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'status',
    'transfer_group',
  ],
  charge: [
    'id',
    'object',
    'amount',
    'amount_captured',
    'amount_refunded',
    'application',
    'application_fee',
    'application_fee_amount',
    'balance_transaction',
    'billing_details',
    'calculated_statement_descriptor',
    'captured',
    'created',
    'currency',
    'customer',
    'description',
    'disputed',
    'failure_balance_transaction',
    'failure_code',
    'failure_message',
    'fraud_details',
    'livemode',
    'metadata',
    'on_behalf_of',
    'outcome',
    'paid',
    'payment_intent',
    'payment_method',
    'payment_method_details',
    'receipt_email',
    'receipt_number',
    'receipt_url',
    'refunded',
    'review',
    'shipping',
    'source',
    'source_transfer',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'status',
    'transfer_data',
    'transfer_group',
  ],
  refund: [
    'id',
    'object',
    'amount',
    'balance_transaction',
    'charge',
    'created',
    'currency',
    'customer',
    'customer_account',
    'metadata',
    'payment_intent',
    'payment_method',
    'reason',
    'receipt_number',
    'source_transfer_reversal',
    'status',
    'transfer_reversal',
  ],
  customer: [
    'id',
    'object',
    'balance',
    'created',
    'default_source',
    'description',
    'email',
    'invoice_settings',
    'livemode',
    'metadata',
    'shipping',
    'address',
    'currency',
    'delinquent',
    'name',
    'phone',
    'preferred_locales',
    'tax_exempt',
    'test_clock',
  ],
  payment_method: [
    'id',
    'object',
    'billing_details',
    'created',
    'customer',
    'customer_account',
    'livemode',
    'metadata',
    'type',
    'card',
  ],
  event: [
    'id',
    'object',
    'api_version',
    'created',
    'data',
    'livemode',
    'pending_webhooks',
    'request',
    'type',
  ],
};

/** Keys allowed beyond the required ones: optional keys the API returns. */
const OPTIONAL: Record<string, string[]> = {
  payment_intent: ['amount_details', 'transfer_data'],
  charge: [],
  refund: ['destination_details'],
  customer: ['discount', 'invoice_prefix', 'next_invoice_sequence'],
  payment_method: ['allow_redisplay'],
  event: [],
};

function expectShape(object: object, type: string): void {
  const keys = Object.keys(object);
  for (const key of REQUIRED[type] ?? []) {
    expect(keys).toContain(key);
  }
  const allowed = new Set([...(REQUIRED[type] ?? []), ...(OPTIONAL[type] ?? [])]);
  expect(keys.filter((k) => !allowed.has(k))).toEqual([]);
  expect(keys.slice(0, 2)).toEqual(['id', 'object']);
}

it('renders every object with the pinned SDK key set', async () => {
  const stripe = h.stripe();
  const customer: Stripe.Customer = await stripe.customers.create({ email: 'shape@example.com' });
  const pi: Stripe.PaymentIntent = await confirmWith(stripe, 'pm_card_visa', {
    customer: customer.id,
    capture_method: 'automatic',
  });
  const charge: Stripe.Charge = await stripe.charges.retrieve(idOf(pi.latest_charge));
  const refund: Stripe.Refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 100 });
  const pm: Stripe.PaymentMethod = await stripe.paymentMethods.retrieve(idOf(pi.payment_method));
  const event: Stripe.Event = (await stripe.events.list({ limit: 1 })).data[0] as Stripe.Event;
  const declined = await confirmWith(stripe, 'pm_card_chargeDeclined').catch(
    (e: Stripe.errors.StripeCardError) => e,
  );
  const failedIntent = (declined as Stripe.errors.StripeCardError).payment_intent as Stripe.PaymentIntent;

  for (const [object, type] of [
    [customer, 'customer'],
    [pi, 'payment_intent'],
    [failedIntent, 'payment_intent'],
    [charge, 'charge'],
    [refund, 'refund'],
    [pm, 'payment_method'],
    [event, 'event'],
  ] as const) {
    expectShape(object, type);
  }
  expect(pi).not.toHaveProperty('charges');
  const lastError = failedIntent.last_payment_error as object;
  const allowed = [
    'advice_code',
    'charge',
    'code',
    'decline_code',
    'doc_url',
    'message',
    'network_advice_code',
    'network_decline_code',
    'param',
    'payment_intent',
    'payment_method',
    'payment_method_type',
    'request_log_url',
    'setup_intent',
    'source',
    'type',
  ];
  expect(Object.keys(lastError).filter((k) => !allowed.includes(k))).toEqual([]);
});
