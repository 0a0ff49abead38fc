import { randomUUID } from 'node:crypto';
import { parseId, type PaymentId, type Plan } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import type { TPaymentResponse } from '../src/routes/payments/payment.schema.js';
import {
  openPaymentsHarness,
  paymentRowsOf,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
  summary,
} from './helpers.js';

const API_BASE_URL = 'https://pay.example.test';
const RETURN_URL = 'https://shop.example/thanks?order=42';

/** 3-D Secure: the challenge, and the card holder's way back through pay to the caller's page. */
describe('payments: the 3-D Secure return (PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let sandbox: TestSandbox;
  let acme: TestTenant;

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_payment_return', { API_BASE_URL });
    ({ pay, app, sandbox, acme } = harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** Takes a payment with a card that needs 3-D Secure; answers the 201 and the intent's id. */
  async function startChallenge(card: string, returnUrl: string | null = RETURN_URL) {
    const res = await request(app)
      .post('/api/v1/payments')
      .set('Authorization', `Bearer ${acme.key.secret}`)
      .set('Idempotency-Key', `pay-test-${randomUUID()}`)
      .send({
        user_id: `holder-${randomUUID()}`,
        plan_id: (acme.plans[0] as Plan).id,
        payment_method_id: card,
        ...(returnUrl === null ? {} : { return_url: returnUrl }),
      });
    const body = res.body as TPaymentResponse;
    const paymentId = parseId('payment', body.id);
    const payment = await pay.store.repos.payments.findById(acme.account.id, paymentId);
    const intentId = payment?.stripePaymentIntentId ?? '';
    return { res, body, paymentId, intentId };
  }

  /** The browser coming back, with what Stripe appends to the URL (which pay must not believe). */
  const comeBack = (paymentId: string, intentId: string, claimed = 'succeeded') =>
    request(app).get(
      `/api/v1/payments/${paymentId}/return?payment_intent=${intentId}&payment_intent_client_secret=${intentId}_secret_x&redirect_status=${claimed}`,
    );

  const statusOf = async (paymentId: PaymentId) =>
    (await pay.store.repos.payments.findById(acme.account.id, paymentId))?.status;

  const subscriptionStatusOf = async (paymentId: PaymentId) => {
    const payment = await pay.store.repos.payments.findById(acme.account.id, paymentId);
    const id = payment?.subscriptionId;
    return id === null || id === undefined
      ? undefined
      : (await pay.store.repos.subscriptions.findById(acme.account.id, id))?.status;
  };

  it('answers requires_action with the challenge page, and sends Stripe pay’s return address', async () => {
    const { res, body, paymentId, intentId } = await startChallenge('pm_card_threeDSecure2Required');
    expect(summary(res)).toEqual({
      status: 201,
      body: expect.objectContaining({
        status: 'requires_action',
        failure: null,
        next_action: { type: 'redirect_to_url', redirect_url: expect.stringMatching(/^https?:\/\//) },
      }),
    });
    expect(intentId).toMatch(/^pi_/);
    const stored = await pay.store.repos.payments.findById(acme.account.id, paymentId);
    expect(stored).toMatchObject({
      status: 'requires_action',
      nextActionUrl: body.next_action?.redirect_url,
      returnUrl: RETURN_URL,
    });
    // Stripe brings the card holder back to pay, never straight to the caller's page.
    const returnUrls = sandbox
      .requests({ method: 'POST' })
      .map((r) => r.params?.return_url)
      .filter((url) => url !== undefined);
    expect(returnUrls).toContain(`${API_BASE_URL}/api/v1/payments/${paymentId}/return`);
    expect(returnUrls).not.toContain(RETURN_URL);
  });

  it('records a completed challenge and redirects to return_url with payment_id and status', async () => {
    const { paymentId, intentId } = await startChallenge('pm_card_threeDSecure2Required');
    sandbox.authenticate(intentId, 'succeed');
    const res = await comeBack(paymentId, intentId);
    expect({ status: res.status, location: res.headers.location, text: res.text }).toEqual({
      status: 303,
      location: `https://shop.example/thanks?order=42&payment_id=${paymentId}&status=succeeded`,
      text: '',
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await statusOf(paymentId)).toBe('succeeded');
    expect(await subscriptionStatusOf(paymentId)).toBe('active');

    // A second visit (a reload) changes nothing and sends the browser to the same place.
    const rows = await paymentRowsOf(pay, acme.account.id);
    const again = await comeBack(paymentId, intentId);
    expect([again.status, again.headers.location]).toEqual([303, res.headers.location]);
    expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);

    const read = await request(app)
      .get(`/api/v1/payments/${paymentId}`)
      .set('Authorization', `Bearer ${acme.key.secret}`);
    expect(read.body).toMatchObject({ status: 'succeeded', next_action: null, failure: null });
  });

  it('records a failed challenge as a failed payment and says so on the way back', async () => {
    const { paymentId, intentId } = await startChallenge('pm_card_threeDSecure2Required');
    sandbox.authenticate(intentId, 'fail');
    const res = await comeBack(paymentId, intentId, 'succeeded');
    expect([res.status, res.headers.location]).toEqual([
      303,
      `https://shop.example/thanks?order=42&payment_id=${paymentId}&status=failed`,
    ]);
    expect(await statusOf(paymentId)).toBe('failed');
    expect(await subscriptionStatusOf(paymentId)).toBe('expired');
    const read = await request(app)
      .get(`/api/v1/payments/${paymentId}`)
      .set('Authorization', `Bearer ${acme.key.secret}`);
    expect(read.body).toMatchObject({ status: 'failed', failure: { code: expect.any(String) } });
  });

  it('believes Stripe, not the query: an unfinished challenge stays requires_action', async () => {
    const { paymentId, intentId } = await startChallenge('pm_card_threeDSecure2Required');
    const res = await comeBack(paymentId, intentId, 'succeeded');
    expect([res.status, res.headers.location]).toEqual([
      303,
      `https://shop.example/thanks?order=42&payment_id=${paymentId}&status=requires_action`,
    ]);
    expect(await statusOf(paymentId)).toBe('requires_action');
  });

  it('shows a small page with the outcome when the payment has no return_url', async () => {
    const { paymentId, intentId } = await startChallenge('pm_card_threeDSecure2Required', null);
    sandbox.authenticate(intentId, 'succeed');
    const res = await comeBack(paymentId, intentId);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('succeeded');
    expect(res.text).toContain(paymentId);
    expect(res.text).not.toContain('<script');
    expect(await statusOf(paymentId)).toBe('succeeded');
  });

  it('charges after a completed challenge on a card that then declines: failed', async () => {
    const { paymentId, intentId } = await startChallenge('pm_card_threeDSecureRequiredChargeDeclined');
    sandbox.authenticate(intentId, 'succeed');
    const res = await comeBack(paymentId, intentId);
    expect([res.status, res.headers.location]).toEqual([
      303,
      `https://shop.example/thanks?order=42&payment_id=${paymentId}&status=failed`,
    ]);
    expect(await statusOf(paymentId)).toBe('failed');
  });

  it('answers an unknown payment with a 404 and a malformed id with a 400, without a key or Stripe', async () => {
    const calls = sandbox.requests().length;
    const unknown = await request(app).get(`/api/v1/payments/pay_${'0'.repeat(26)}/return`);
    expect(summary(unknown)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    // A malformed id is not the keyless route at all: it needs a key like any other path.
    const malformed = await request(app).get('/api/v1/payments/pay_123/return');
    expect(malformed.status).toBe(401);
    const malformedWithKey = await request(app)
      .get('/api/v1/payments/pay_123/return')
      .set('Authorization', `Bearer ${acme.key.secret}`);
    expect(summary(malformedWithKey)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', param: 'id' } },
    });
    expect(sandbox.requests().length).toBe(calls);
  });
});
