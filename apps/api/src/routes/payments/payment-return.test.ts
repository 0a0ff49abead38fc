import { newId, type PaymentStatus, type PaymentView } from '@pay/core';
import { outcomePage, returnLocation } from './payment-return.js';

function viewWith(status: PaymentStatus): PaymentView {
  const id = newId('payment');
  return {
    userId: 'u-1',
    card: null,
    payment: {
      id,
      accountId: newId('account'),
      customerId: newId('customer'),
      paymentMethodId: null,
      planId: null,
      subscriptionId: null,
      billingReason: 'subscription_create',
      amount: 1500,
      currency: 'usd',
      amountRefunded: 0,
      status,
      stripePaymentIntentId: null,
      stripeIdempotencyKey: `pay:${id}`,
      failureCode: null,
      declineCode: null,
      failureMessage: null,
      description: null,
      returnUrl: null,
      nextActionUrl: null,
      billingPeriodStart: null,
      billingPeriodEnd: null,
      renewalAttempt: null,
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      updatedAt: new Date('2026-01-02T03:04:05.678Z'),
    },
  };
}

describe('returnLocation', () => {
  const view = viewWith('succeeded');
  const added = `payment_id=${view.payment.id}&status=succeeded`;

  it.each([
    ['no query', 'https://shop.example/done', `https://shop.example/done?${added}`],
    ['an empty query', 'https://shop.example/done?', `https://shop.example/done?${added}`],
    ['a query', 'https://shop.example/done?order=42', `https://shop.example/done?order=42&${added}`],
    // The caller's own encoding is kept as it was written: `+`, `%20` and repeated keys mean what they meant.
    [
      'an encoded query',
      'https://shop.example/done?q=a+b&r=a%20b&r=c',
      `https://shop.example/done?q=a+b&r=a%20b&r=c&${added}`,
    ],
    ['a fragment', 'https://shop.example/done?x=1#top', `https://shop.example/done?x=1&${added}#top`],
    ['a loopback port', 'http://localhost:5173/cb', `http://localhost:5173/cb?${added}`],
  ])('adds payment_id and status after %s', (_what, returnUrl, expected) => {
    expect(returnLocation(returnUrl, view)).toBe(expected);
  });
});

describe('outcomePage', () => {
  it.each([
    ['succeeded', 'Your payment succeeded.'],
    ['failed', 'Your payment failed.'],
    ['requires_action', 'Your payment still needs you to confirm it with your bank.'],
  ] as const)('says a %s payment in a sentence, with its id and no script', (status, sentence) => {
    const view = viewWith(status);
    const page = outcomePage(view);
    expect(page).toContain(`<h1>${sentence}</h1>`);
    expect(page).toContain(view.payment.id);
    expect(page).not.toMatch(/<script|on\w+=/i);
  });
});
