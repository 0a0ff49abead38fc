import { GATEWAY_INTENT_STATUSES, isPayError, newId, type GatewayIntent } from '@pay/core';
import type Stripe from 'stripe';
import { confirmOutcomeOf, mapIntentStatus, toGatewayIntent, type IntentFields } from './intent-mapping.js';

const DECLINE: Stripe.PaymentIntent.LastPaymentError = {
  type: 'card_error',
  code: 'card_declined',
  decline_code: 'insufficient_funds',
  message: 'Your card has insufficient funds.',
};

function intent(fields: Partial<IntentFields> = {}): IntentFields {
  return {
    id: 'pi_1',
    status: 'requires_confirmation',
    amount: 2000,
    amount_received: 0,
    currency: 'usd',
    customer: 'cus_1',
    payment_method: 'pm_1',
    metadata: {},
    next_action: null,
    last_payment_error: null,
    created: 1_767_225_600,
    ...fields,
  };
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isPayError(error) ? error.code : String(error);
  }
  return 'no error';
}

describe('mapIntentStatus', () => {
  it.each([
    ['requires_payment_method', null, 'pending'],
    ['requires_payment_method', DECLINE, 'failed'],
    ['requires_confirmation', null, 'pending'],
    ['requires_action', null, 'requires_action'],
    ['processing', null, 'processing'],
    ['succeeded', null, 'succeeded'],
    ['canceled', null, 'canceled'],
  ] as const)('maps %s (last error %p) to %s', (status, lastError, expected) => {
    expect(mapIntentStatus(intent({ status, last_payment_error: lastError }))).toBe(expected);
  });

  it('refuses requires_capture, a state pay never puts an intent in, rather than guess', () => {
    expect(codeOf(() => mapIntentStatus(intent({ status: 'requires_capture' })))).toBe(
      'gateway_unknown_state',
    );
  });

  it('refuses a status this SDK does not know rather than guess', () => {
    expect(codeOf(() => mapIntentStatus(intent({ status: 'requires_reauthorization' })))).toBe(
      'gateway_unknown_state',
    );
  });
});

describe('toGatewayIntent', () => {
  it('reads pay’s ids back from the metadata and ignores ids that are not pay’s', () => {
    const paymentId = newId('payment');
    const accountId = newId('account');
    expect(
      toGatewayIntent(intent({ metadata: { pay_payment_id: paymentId, pay_account_id: accountId } })),
    ).toMatchObject({
      paymentId,
      accountId,
    });
    expect(toGatewayIntent(intent({ metadata: { pay_payment_id: 'order_7' } }))).toMatchObject({
      paymentId: null,
      accountId: null,
    });
  });

  it('takes the ids of expanded customers and payment methods', () => {
    const mapped = toGatewayIntent(
      intent({
        customer: { id: 'cus_9' } as Stripe.Customer,
        payment_method: { id: 'pm_9' } as Stripe.PaymentMethod,
      }),
    );
    expect(mapped).toMatchObject({ stripeCustomerId: 'cus_9', stripePaymentMethodId: 'pm_9' });
  });

  it('gives the redirect URL of a 3-D Secure redirect, and none for Stripe.js-only actions', () => {
    const redirect = toGatewayIntent(
      intent({
        status: 'requires_action',
        next_action: {
          type: 'redirect_to_url',
          redirect_to_url: { return_url: 'https://r', url: 'https://3ds' },
        },
      }),
    );
    expect(redirect.redirectUrl).toBe('https://3ds');
    const sdk = toGatewayIntent(
      intent({ status: 'requires_action', next_action: { type: 'use_stripe_sdk', use_stripe_sdk: {} } }),
    );
    expect(sdk.redirectUrl).toBeNull();
  });

  it('turns an issuer decline without a reason into a null decline code', () => {
    const mapped = toGatewayIntent(
      intent({ status: 'requires_payment_method', last_payment_error: { ...DECLINE, decline_code: '' } }),
    );
    expect(mapped.failure).toEqual({ code: 'card_declined', declineCode: null, message: DECLINE.message });
  });

  it('refuses a currency pay does not know, and a failure without a code', () => {
    expect(codeOf(() => toGatewayIntent(intent({ currency: 'xyz' })))).toBe('gateway_unknown_state');
    expect(
      codeOf(() =>
        toGatewayIntent(
          intent({ status: 'requires_payment_method', last_payment_error: { type: 'card_error' } }),
        ),
      ),
    ).toBe('gateway_unknown_state');
  });
});

describe('confirmOutcomeOf', () => {
  const base = toGatewayIntent(intent());
  const as = (status: GatewayIntent['status'], more: Partial<GatewayIntent> = {}): GatewayIntent => ({
    ...base,
    status,
    ...more,
  });

  it('has one outcome per status a confirmation can end in', () => {
    const decline = { code: 'card_declined', declineCode: null, message: 'Your card was declined.' };
    const kinds = GATEWAY_INTENT_STATUSES.filter((s) => s !== 'pending').map(
      (s) => confirmOutcomeOf(as(s, s === 'failed' ? { failure: decline } : {})).kind,
    );
    expect(kinds).toEqual(['requires_action', 'processing', 'succeeded', 'declined', 'canceled']);
  });

  it('refuses a confirmation that left the intent unconfirmed', () => {
    expect(codeOf(() => confirmOutcomeOf(as('pending')))).toBe('gateway_unknown_state');
  });
});
