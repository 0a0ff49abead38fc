import { randomUUID } from 'node:crypto';
import { parseId, type Plan } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import type { HttpMetrics } from '../src/index.js';
import { IDEMPOTENCY_KEY_DOCS_URL } from '../src/routes/idempotency-key.js';
import type { TPaymentResponse } from '../src/routes/payments/payment.schema.js';
import {
  eventually,
  openPaymentsHarness,
  paymentRowsOf,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
  summary,
  monthlyPlan as monthly,
  newIdempotencyKey as newKey,
  paymentBody,
} from './helpers.js';

/** RELIABILITY.md A2, A3, A4 and A6 on the real flow: PostgreSQL, the stripe SDK, the sandbox. */
describe('payments: the Idempotency-Key (PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    // A failed Stripe call is answered at once, not after the SDK's retries.
    harness = await openPaymentsHarness('api_payments_idem', { PAY_STRIPE_MAX_NETWORK_RETRIES: '0' });
    ({ pay, app, metrics, sandbox, acme, other } = harness);
  });

  afterEach(() => sandbox.faults.clear());

  afterAll(async () => {
    await harness?.close();
  });

  const authorized = (t: TestTenant) =>
    request(app).post('/api/v1/payments').set('Authorization', `Bearer ${t.key.secret}`);
  const post = (t: TestTenant, body: object, key: string) =>
    authorized(t).set('Idempotency-Key', key).send(body);
  const stripeCalls = () => sandbox.requests().length;
  const replays = async () => (await metrics.payments.idempotentReplays.get()).values[0]?.value ?? 0;
  const conflicts = async (code: string) =>
    (await metrics.payments.idempotencyConflicts.get()).values.find((v) => v.labels.code === code)?.value ??
    0;

  /** A replay: the same status and bytes, marked, and not one call to Stripe. */
  async function expectReplay(first: request.Response, again: () => Promise<request.Response>) {
    const calls = stripeCalls();
    const replaysBefore = await replays();
    const res = await again();
    expect({ status: res.status, text: res.text }).toEqual({ status: first.status, text: first.text });
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(stripeCalls()).toBe(calls);
    expect(await replays()).toBe(replaysBefore + 1);
    return res;
  }

  describe('replays (A6)', () => {
    it('answers a success again, byte for byte, without calling Stripe', async () => {
      const key = newKey();
      const first = await post(acme, paymentBody(acme), key);
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const rows = await paymentRowsOf(pay, acme.account.id);
      await expectReplay(first, () => post(acme, paymentBody(acme), key));
      expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
    });

    it('answers a decline again, the same 402, without calling Stripe', async () => {
      const key = newKey();
      const declined = paymentBody(acme, { payment_method_id: 'pm_card_chargeDeclinedInsufficientFunds' });
      const first = await post(acme, declined, key);
      expect(first.status).toBe(402);
      const rows = await paymentRowsOf(pay, acme.account.id);
      await expectReplay(first, () => post(acme, declined, key));
      await expectReplay(first, () => post(acme, declined, key));
      expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
    });

    it("answers Stripe's refusal of the payment method again, with the first request's id", async () => {
      const key = newKey();
      const unknownCard = paymentBody(acme, { payment_method_id: 'pm_does_not_exist' });
      const first = await post(acme, unknownCard, key);
      expect(summary(first)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: expect.any(String),
            ...((first.body as { error: { param?: string } }).error.param === undefined
              ? {}
              : { param: expect.any(String) }),
            request_id: first.headers['request-id'],
          },
        },
      });
      const again = await expectReplay(first, () => post(acme, unknownCard, key));
      expect(again.headers['request-id']).not.toBe(first.headers['request-id']);
    });

    it('is one key whether sent as the header or as the body field', async () => {
      const key = newKey();
      const first = await authorized(acme).send(paymentBody(acme, { idempotency_key: key }));
      expect(first.status).toBe(201);
      await expectReplay(first, () => post(acme, paymentBody(acme), key));
      await expectReplay(first, () => post(acme, paymentBody(acme, { idempotency_key: key }), key));
    });
  });

  describe('validation failures are not stored (A6)', () => {
    it.each([
      ['an unknown field', { note: 'x' }],
      ['an unknown plan', { plan_id: `pln_${'0'.repeat(26)}` }],
      ['a return_url not allowed', { return_url: 'https://evil.example/' }],
    ])('lets a corrected retry with the same key succeed after %s', async (_what, broken) => {
      const key = newKey();
      const refused = await post(acme, paymentBody(acme, broken), key);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(await pay.store.repos.idempotencyKeys.find(acme.account.id, key)).toBeNull();
      const fixed = await post(acme, paymentBody(acme), key);
      expect(fixed.status).toBe(201);
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    });
  });

  describe('the same key with other parameters (A2)', () => {
    it.each([
      ['another plan', (t: TestTenant) => paymentBody(t, { plan_id: (t.plans[1] as Plan).id })],
      ['another user', (t: TestTenant) => paymentBody(t, { user_id: 'bob' })],
      ['another card', (t: TestTenant) => paymentBody(t, { payment_method_id: 'pm_card_mastercard' })],
      ['a return_url', (t: TestTenant) => paymentBody(t, { return_url: 'https://shop.example/done' })],
    ])(
      'is a 422 for %s: nothing written, Stripe not called, the first answer kept',
      async (_what, changed) => {
        const key = newKey();
        const first = await post(acme, paymentBody(acme), key);
        expect(first.status).toBe(201);
        const rows = await paymentRowsOf(pay, acme.account.id);
        const calls = stripeCalls();
        const reusedBefore = await conflicts('idempotency_key_reused');

        const res = await post(acme, changed(acme), key);
        expect(summary(res)).toEqual({
          status: 422,
          body: {
            error: {
              type: 'idempotency_error',
              code: 'idempotency_key_reused',
              message: expect.any(String),
              ...((res.body as { error: { param?: string } }).error.param === undefined
                ? {}
                : { param: expect.any(String) }),
              request_id: res.headers['request-id'],
            },
          },
        });
        expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
        expect(stripeCalls()).toBe(calls);
        expect(await conflicts('idempotency_key_reused')).toBe(reusedBefore + 1);
        await expectReplay(first, () => post(acme, paymentBody(acme), key));
      },
    );
  });

  describe('the same key in two accounts (A4)', () => {
    it('makes two independent payments, each invisible to the other account', async () => {
      const key = newKey();
      const ours = await post(acme, paymentBody(acme), key);
      const theirs = await post(other, paymentBody(other), key);
      expect([ours.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.headers['idempotent-replayed']).toBeUndefined();
      const [oursId, theirsId] = [ours.body as TPaymentResponse, theirs.body as TPaymentResponse].map(
        (p) => p.id,
      );
      expect(oursId).not.toBe(theirsId);
      expect((theirs.body as TPaymentResponse).amount).toBe(monthly(other).amount);
      const read = (t: TestTenant, id: string | undefined) =>
        request(app).get(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${t.key.secret}`);
      expect((await read(acme, theirsId)).status).toBe(404);
      expect((await read(other, oursId)).status).toBe(404);
      expect((await read(acme, oursId)).status).toBe(200);
    });
  });

  describe('the key itself (A3)', () => {
    const key20 = 'k'.repeat(20);
    const refusedKeys: [string, (r: request.Test) => request.Test, object][] = [
      ['no key', (r) => r, {}],
      ['an empty header', (r) => r.set('Idempotency-Key', ''), {}],
      ['19 characters', (r) => r.set('Idempotency-Key', 'k'.repeat(19)), {}],
      ['256 characters', (r) => r.set('Idempotency-Key', 'k'.repeat(256)), {}],
      ['a space inside', (r) => r.set('Idempotency-Key', `${key20} x`), {}],
      ['a tab inside', (r) => r.set('Idempotency-Key', `${key20}\tx`), {}],
      ['a non-ASCII character', (r) => r.set('Idempotency-Key', `${key20}é`), {}],
      [
        'a header and a different body key',
        (r) => r.set('Idempotency-Key', `${key20}-a`),
        { idempotency_key: `${key20}-b` },
      ],
    ];

    it.each(refusedKeys)(
      'refuses %s: 400 linking the docs, nothing written, Stripe not called',
      async (_what, withKey, extra) => {
        const rows = await paymentRowsOf(pay, acme.account.id);
        const calls = stripeCalls();
        const res = await withKey(authorized(acme)).send(paymentBody(acme, extra));
        expect(summary(res)).toEqual({
          status: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'invalid_request',
              message: expect.stringContaining(IDEMPOTENCY_KEY_DOCS_URL),
              param: 'Idempotency-Key',
              request_id: res.headers['request-id'],
            },
          },
        });
        expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
        expect(stripeCalls()).toBe(calls);
      },
    );

    it.each([
      ['too short', 'k'.repeat(19)],
      ['with a control character', `${key20}\u0000`],
      ['with a space', `${key20} x`],
    ])('refuses a body idempotency_key %s, naming the field', async (_what, key) => {
      const calls = stripeCalls();
      const res = await authorized(acme).send(paymentBody(acme, { idempotency_key: key }));
      expect(summary(res)).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            param: 'idempotency_key',
            message: expect.stringContaining(IDEMPOTENCY_KEY_DOCS_URL),
          },
        },
      });
      expect(stripeCalls()).toBe(calls);
    });

    it('takes keys of exactly 20 and 255 characters, and the same key in both places', async () => {
      const short = `${randomUUID().slice(0, 8)}${'a'.repeat(12)}`;
      await post(acme, paymentBody(acme), short).expect(201);
      const long = `${randomUUID()}${'b'.repeat(219)}`;
      expect(long).toHaveLength(255);
      await post(acme, paymentBody(acme), long).expect(201);
      const both = newKey();
      await post(acme, paymentBody(acme, { idempotency_key: both }), both).expect(201);
      expect(await pay.store.repos.idempotencyKeys.find(acme.account.id, both)).not.toBeNull();
    });
  });

  describe('while the first request runs', () => {
    it('answers the same key with a 409 and Retry-After, then the first request finishes alone', async () => {
      const key = newKey();
      // Hold the first request at Stripe long enough for a second one to arrive.
      sandbox.faults.add({
        kind: 'delay',
        ms: 3_000,
        times: 1,
        match: { path: '/v1/payment_intents/*/confirm' },
      });
      const inUseBefore = await conflicts('idempotency_key_in_use');
      const first = post(acme, paymentBody(acme, { user_id: 'patient' }), key).then((res) => res);
      await eventually(() => pay.store.repos.idempotencyKeys.find(acme.account.id, key), 'the first request');
      const second = await post(acme, paymentBody(acme, { user_id: 'patient' }), key);
      expect(summary(second)).toEqual({
        status: 409,
        body: {
          error: {
            type: 'idempotency_error',
            code: 'idempotency_key_in_use',
            message: expect.any(String),
            request_id: second.headers['request-id'],
            retryable: true,
          },
        },
      });
      expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
      expect(await conflicts('idempotency_key_in_use')).toBe(inUseBefore + 1);
      expect((await first).status).toBe(201);
      const payments = (await pay.store.repos.payments.list(acme.account.id, { limit: 100 })).data;
      const customer = await pay.store.repos.customers.findByUserId(acme.account.id, 'patient');
      expect(payments.filter((p) => p.customerId === customer?.id)).toHaveLength(1);
    });
  });

  describe('when Stripe does not answer', () => {
    it('answers a retryable 503, leaves the payment pending, and a retry with the key completes it once', async () => {
      const key = newKey();
      const intentsBefore = sandbox.ledger.count('payment_intent');
      sandbox.faults.add({
        kind: 'error_before',
        status: 503,
        match: { path: '/v1/payment_intents/*/confirm' },
      });
      const res = await post(acme, paymentBody(acme, { user_id: 'unlucky' }), key);
      expect(summary(res)).toEqual({
        status: 503,
        body: {
          error: {
            type: 'api_error',
            code: 'dependency_unavailable',
            message: expect.any(String),
            request_id: res.headers['request-id'],
            retryable: true,
          },
        },
      });
      const customer = await pay.store.repos.customers.findByUserId(acme.account.id, 'unlucky');
      const pending = (await pay.store.repos.payments.list(acme.account.id, { limit: 100 })).data.filter(
        (p) => p.customerId === customer?.id,
      );
      expect(pending.map((p) => p.status)).toEqual(['pending']);

      sandbox.faults.clear();
      const retry = await post(acme, paymentBody(acme, { user_id: 'unlucky' }), key);
      expect(summary(retry)).toMatchObject({
        status: 201,
        body: { id: pending[0]?.id, status: 'succeeded' },
      });
      const paymentId = parseId('payment', (retry.body as TPaymentResponse).id);
      expect(await pay.store.repos.payments.findById(acme.account.id, paymentId)).toMatchObject({
        status: 'succeeded',
      });
      // K1: one intent for the payment, however many times it was asked for.
      expect(sandbox.ledger.count('payment_intent') - intentsBefore).toBe(1);
    });
  });
});
