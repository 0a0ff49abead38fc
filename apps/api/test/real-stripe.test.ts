import { randomUUID } from 'node:crypto';
import type { Account, IssuedApiKey, PaymentId, Plan } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/index.js';
import { openPostgresPay } from './helpers.js';

/*
 * The flows every other suite runs against the sandbox, run against Stripe's own test mode: pay with a
 * card that succeeds, one the bank declines, and one that asks for 3-D Secure. Stripe's hosted challenge
 * cannot be answered from here, so that one stops at `requires_action` and its redirect URL. Runs only
 * when STRIPE_TEST_SECRET_KEY holds an `sk_test_` key (never a live one); skipped, saying why, otherwise.
 */

const key = process.env.STRIPE_TEST_SECRET_KEY ?? '';
const enabled = key.startsWith('sk_test_');

if (!enabled) {
  console.log(
    key === ''
      ? '[real-stripe.test] skipped: STRIPE_TEST_SECRET_KEY is not set (an sk_test_ key runs these flows against Stripe test mode)'
      : '[real-stripe.test] skipped: STRIPE_TEST_SECRET_KEY does not start with sk_test_ (only a test-mode key is ever used)',
  );
}

interface PaymentBody {
  readonly id: PaymentId;
  readonly status: string;
  readonly next_action?: { readonly redirect_url: string } | null;
  readonly failure?: { readonly code: string; readonly decline_code?: string | null } | null;
}

(enabled ? describe : describe.skip)('payments against real Stripe test mode (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let tenant: { account: Account; key: IssuedApiKey; plan: Plan };
  const operator = { type: 'cli_operator', id: 'real-stripe-test' } as const;

  beforeAll(async () => {
    database = await createTestDatabase('api_real_stripe');
    pay = await openPostgresPay(database.url, {
      STRIPE_SECRET_KEY: key,
      PAY_RETURN_URL_ORIGINS: 'https://shop.example',
    });
    app = createApp({ pay });
    const account = await pay.services.accounts.createAccount('Real Stripe', operator);
    const apiKey = await pay.services.accounts.createApiKey(
      { accountId: account.id, name: 'svc', role: 'service' },
      operator,
    );
    const plan = await pay.services.plans.createPlan(
      { accountId: account.id, name: 'Pro', amount: 1500, currency: 'usd', interval: 'month' },
      operator,
    );
    tenant = { account, key: apiKey, plan };
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  /** `POST /api/v1/payments` for the plan; a fresh customer per call keeps the flows apart. */
  function payWith(paymentMethodId: string, returnUrl?: string): request.Test {
    return request(app)
      .post('/api/v1/payments')
      .set('Authorization', `Bearer ${tenant.key.secret}`)
      .set('Idempotency-Key', `real-stripe-${randomUUID()}`)
      .send({
        user_id: `real-stripe-${randomUUID()}`,
        plan_id: tenant.plan.id,
        payment_method_id: paymentMethodId,
        ...(returnUrl === undefined ? {} : { return_url: returnUrl }),
      });
  }

  async function rowStatus(id: PaymentId): Promise<string | undefined> {
    return (await pay.store.repos.payments.findById(tenant.account.id, id))?.status;
  }

  it('a card that pays ends succeeded, with a PaymentIntent in Stripe', async () => {
    const res = await payWith('pm_card_visa');
    const body = res.body as PaymentBody;
    expect({ status: res.status, paymentStatus: body.status }).toEqual({
      status: 201,
      paymentStatus: 'succeeded',
    });
    expect(await rowStatus(body.id)).toBe('succeeded');
    const row = await pay.store.repos.payments.findById(tenant.account.id, body.id);
    expect(row?.stripePaymentIntentId).toMatch(/^pi_/);
  });

  it('a card the bank declines gets a 402 with insufficient_funds; the payment failed', async () => {
    const res = await payWith('pm_card_chargeDeclinedInsufficientFunds');
    const body = res.body as PaymentBody;
    expect({ status: res.status, paymentStatus: body.status }).toEqual({
      status: 402,
      paymentStatus: 'failed',
    });
    expect(body.failure).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
    expect(await rowStatus(body.id)).toBe('failed');
  });

  it('a card that needs 3-D Secure answers requires_action with Stripe’s redirect URL', async () => {
    const res = await payWith('pm_card_threeDSecure2Required', 'https://shop.example/done?order=7');
    const body = res.body as PaymentBody;
    expect({ status: res.status, paymentStatus: body.status }).toEqual({
      status: 201,
      paymentStatus: 'requires_action',
    });
    expect(body.next_action?.redirect_url).toMatch(/^https:\/\//);
    expect(await rowStatus(body.id)).toBe('requires_action');
  });
});
