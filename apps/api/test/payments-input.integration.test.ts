import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import {
  openPaymentsHarness,
  paymentRowsOf,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
  summary,
  monthlyPlan as monthly,
  newIdempotencyKey as newKey,
  paymentBody,
  postPayment,
} from './helpers.js';

/**
 * RELIABILITY.md P6 and E3/E8 for POST /payments: bad input gets a 4xx with the stable error shape, and
 * nothing is written, nothing is sent to Stripe and nothing is stored under the idempotency key.
 */
describe('payments: bad input (PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_payments_input');
    ({ pay, app, sandbox, acme, other } = harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const post = (t: TestTenant, body: object, key?: string) => postPayment(app, t, body, key);

  describe('bad input: a 4xx, nothing written, nothing sent to Stripe, nothing stored under the key', () => {
    let rowsBefore: Awaited<ReturnType<typeof paymentRowsOf>>;
    let stripeCallsBefore: number;
    beforeEach(async () => {
      rowsBefore = await paymentRowsOf(pay, acme.account.id);
      stripeCallsBefore = sandbox.requests().length;
    });

    const expectNothingWritten = async (key: string) => {
      expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rowsBefore);
      expect(sandbox.requests().length).toBe(stripeCallsBefore);
      expect(await pay.store.repos.idempotencyKeys.find(acme.account.id, key)).toBeNull();
    };

    const badBodies: [string, () => object, number, string, string | undefined][] = [
      ['an unknown field', () => paymentBody(acme, { note: 'hi' }), 400, 'invalid_request', 'note'],
      ['money in the body', () => paymentBody(acme, { amount: 15.5 }), 400, 'invalid_request', 'amount'],
      [
        'a status (mass assignment)',
        () => paymentBody(acme, { status: 'succeeded' }),
        400,
        'invalid_request',
        'status',
      ],
      [
        'an account_id',
        () => paymentBody(acme, { account_id: other.account.id }),
        400,
        'invalid_request',
        'account_id',
      ],
      [
        'amount_refunded',
        () => paymentBody(acme, { amount_refunded: 0 }),
        400,
        'invalid_request',
        'amount_refunded',
      ],
      ['livemode', () => paymentBody(acme, { livemode: true }), 400, 'invalid_request', 'livemode'],
      ['a float user_id', () => paymentBody(acme, { user_id: 12.5 }), 400, 'invalid_request', 'user_id'],
      ['a number plan_id', () => paymentBody(acme, { plan_id: 7 }), 400, 'invalid_request', 'plan_id'],
      [
        'a null payment_method_id',
        () => paymentBody(acme, { payment_method_id: null }),
        400,
        'invalid_request',
        'payment_method_id',
      ],
      [
        'no user_id',
        () => ({ plan_id: monthly(acme).id, payment_method_id: 'pm_card_visa' }),
        400,
        'invalid_request',
        'user_id',
      ],
      ['an empty user_id', () => paymentBody(acme, { user_id: '' }), 400, 'invalid_request', 'user_id'],
      [
        'a 256-character user_id',
        () => paymentBody(acme, { user_id: 'u'.repeat(256) }),
        400,
        'invalid_request',
        'user_id',
      ],
      [
        'a Stripe price as plan_id',
        () => paymentBody(acme, { plan_id: 'price_1Nabc' }),
        400,
        'invalid_request',
        'plan_id',
      ],
      [
        'a card token',
        () => paymentBody(acme, { payment_method_id: 'tok_visa' }),
        400,
        'invalid_request',
        'payment_method_id',
      ],
      [
        'an unknown plan',
        () => paymentBody(acme, { plan_id: `pln_${'0'.repeat(26)}` }),
        404,
        'not_found',
        'plan_id',
      ],
      [
        "another account's plan",
        () => paymentBody(acme, { plan_id: monthly(other).id }),
        404,
        'not_found',
        'plan_id',
      ],
      [
        'a card number',
        () => paymentBody(acme, { user_id: '4242424242424242' }),
        400,
        'invalid_request',
        'user_id',
      ],
      ['a card field', () => paymentBody(acme, { card_number: 'x' }), 400, 'invalid_request', 'card_number'],
      ['an array body', () => [paymentBody(acme)], 400, 'invalid_request', undefined],
      [
        'an oversized body',
        () => paymentBody(acme, { user_id: 'u'.repeat(200_000) }),
        413,
        'payload_too_large',
        undefined,
      ],
    ];

    it.each(badBodies)('refuses %s', async (_what, makeBody, status, code, param) => {
      const key = newKey();
      const res = await post(acme, makeBody(), key);
      expect(summary(res)).toEqual({
        status,
        body: {
          error: {
            type: 'invalid_request_error',
            code,
            message: expect.any(String),
            ...(param === undefined ? {} : { param }),
            request_id: res.headers['request-id'],
          },
        },
      });
      await expectNothingWritten(key);
    });

    it.each([
      ['javascript:', 'javascript:alert(1)'],
      ['data:', 'data:text/html,<p>hi</p>'],
      ['an origin not allowed', 'https://evil.example/return'],
      ['a look-alike subdomain', 'https://shop.example.evil.example/return'],
      ['plain http on a non-loopback origin', 'http://shop.example/return'],
      ['a userinfo trick', 'https://shop.example@evil.example/return'],
      ['an IDN look-alike', 'https://shоp.example/return'],
      ['a relative URL', '/return'],
      ['an overlong URL', `https://shop.example/${'a'.repeat(2048)}`],
    ])('refuses a return_url that is %s with a 400 naming return_url', async (_what, returnUrl) => {
      const key = newKey();
      const res = await post(acme, paymentBody(acme, { return_url: returnUrl }), key);
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: expect.any(String),
            param: 'return_url',
            request_id: res.headers['request-id'],
          },
        },
      });
      await expectNothingWritten(key);
    });

    it('refuses a body that is not JSON', async () => {
      const key = newKey();
      const res = await request(app)
        .post('/api/v1/payments')
        .set('Authorization', `Bearer ${acme.key.secret}`)
        .set('Idempotency-Key', key)
        .set('Content-Type', 'application/json')
        .send('{"user_id": ');
      expect(summary(res)).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      await expectNothingWritten(key);
    });

    it('needs a key: 401 before anything else', async () => {
      const key = newKey();
      const res = await request(app)
        .post('/api/v1/payments')
        .set('Idempotency-Key', key)
        .send(paymentBody(acme));
      expect(res.status).toBe(401);
      await expectNothingWritten(key);
    });
  });
});
