import { newPayment, payErrorFields, rejectionOf, startHarness, type Harness } from './harness.js';

/* The customer pay makes once per user, and the card it keeps: brand, last4, expiry — never a number. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('creating the customer', () => {
  it('makes one Stripe customer per key, whatever the retries, tagged with pay’s ids only', async () => {
    const key = h.newKey();
    const gateway = h.gateway(key);
    const p = newPayment();
    const input = {
      accountId: p.accountId,
      customerId: p.customerId,
      email: 'ada@example.com',
      idempotencyKey: p.keys.customer,
    };
    const first = await gateway.createCustomer(input);
    const second = await gateway.createCustomer(input);
    expect(second).toEqual(first);
    expect(first.stripeCustomerId).toMatch(/^cus_/);
    expect(h.count(key, 'customer')).toBe(1);
    const raw = await h.stripe(key).customers.retrieve(first.stripeCustomerId);
    expect(raw).toMatchObject({
      email: 'ada@example.com',
      metadata: { pay_account_id: p.accountId, pay_customer_id: p.customerId },
    });
  });
});

describe('attaching a card', () => {
  async function customer(key: string) {
    const p = newPayment();
    const { stripeCustomerId } = await h.gateway(key).createCustomer({
      accountId: p.accountId,
      customerId: p.customerId,
      idempotencyKey: p.keys.customer,
    });
    return { p, stripeCustomerId };
  }

  it('returns brand, last4 and expiry of a test token, and nothing that looks like a card number', async () => {
    const key = h.newKey();
    const { p, stripeCustomerId } = await customer(key);
    const outcome = await h.gateway(key).attachPaymentMethod({
      stripeCustomerId,
      paymentMethod: 'pm_card_visa',
      idempotencyKey: p.keys.attach,
    });
    if (outcome.kind !== 'attached') {
      throw new Error(`expected attached, got ${JSON.stringify(outcome)}`);
    }
    expect(outcome.card).toEqual({
      stripePaymentMethodId: expect.stringMatching(/^pm_(?!card_)/),
      brand: 'visa',
      last4: '4242',
      expMonth: expect.any(Number),
      expYear: expect.any(Number),
    });
    expect(Object.keys(outcome.card).sort()).toEqual([
      'brand',
      'expMonth',
      'expYear',
      'last4',
      'stripePaymentMethodId',
    ]);
    expect(JSON.stringify(outcome)).not.toMatch(/\d{13,19}/);
    const attached = await h.stripe(key).paymentMethods.retrieve(outcome.card.stripePaymentMethodId);
    expect(attached.customer).toBe(stripeCustomerId);
  });

  it('attaches once per key: a retried attach of a test token makes no second card', async () => {
    const key = h.newKey();
    const { p, stripeCustomerId } = await customer(key);
    const input = { stripeCustomerId, paymentMethod: 'pm_card_mastercard', idempotencyKey: p.keys.attach };
    const first = await h.gateway(key).attachPaymentMethod(input);
    const second = await h.gateway(key).attachPaymentMethod(input);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ kind: 'attached', card: { brand: 'mastercard', last4: '4444' } });
    expect(h.count(key, 'payment_method')).toBe(1);
  });

  it('refuses an unknown payment method as the user’s error, naming the parameter', async () => {
    const key = h.newKey();
    const { p, stripeCustomerId } = await customer(key);
    const error = await rejectionOf(
      h.gateway(key).attachPaymentMethod({
        stripeCustomerId,
        paymentMethod: 'pm_doesnotexist',
        idempotencyKey: p.keys.attach,
      }),
    );
    expect(payErrorFields(error)).toEqual({
      name: 'GatewayRejectedError',
      code: 'invalid_request',
      retryable: false,
      param: 'payment_method',
      gatewayCode: 'resource_missing',
    });
  });

  it('reports a card the issuer refuses at attach as a declined outcome', async () => {
    const strict = await startHarness({ declineOnAttach: true });
    try {
      const key = strict.newKey();
      const p = newPayment();
      const gateway = strict.gateway(key);
      const { stripeCustomerId } = await gateway.createCustomer({
        accountId: p.accountId,
        customerId: p.customerId,
        idempotencyKey: p.keys.customer,
      });
      const outcome = await gateway.attachPaymentMethod({
        stripeCustomerId,
        paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds',
        idempotencyKey: p.keys.attach,
      });
      expect(outcome).toEqual({
        kind: 'declined',
        decline: {
          code: 'card_declined',
          declineCode: 'insufficient_funds',
          message: 'Your card has insufficient funds.',
        },
      });
    } finally {
      await strict.close();
    }
  });
});
