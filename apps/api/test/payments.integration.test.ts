import { parseId } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import type { HttpMetrics } from '../src/index.js';
import { ZPaymentResponse, type TPaymentResponse } from '../src/routes/payments/payment.schema.js';
import type { TListPaymentsResponse } from '../src/routes/payments/list-payments.schema.js';
import {
  openPaymentsHarness,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
  summary,
  monthlyPlan as monthly,
  newIdempotencyKey as newKey,
  paymentBody,
  postPayment,
} from './helpers.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY_MS = 24 * 60 * 60 * 1000;

describe('payments (PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_payments');
    ({ pay, app, metrics, sandbox, acme, other } = harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const post = (t: TestTenant, body: object, key?: string) => postPayment(app, t, body, key);
  const get = (path: string, t: TestTenant) =>
    request(app).get(path).set('Authorization', `Bearer ${t.key.secret}`);
  const counter = async (name: 'payments', outcome: string) =>
    (await metrics.payments[name].get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

  describe('POST /api/v1/payments', () => {
    it('takes a payment: 201, the payment, its subscription and events, one intent at Stripe', async () => {
      const intentsBefore = sandbox.ledger.count('payment_intent');
      const chargesBefore = sandbox.ledger.count('charge');
      const succeededBefore = await counter('payments', 'succeeded');

      const res = await post(acme, paymentBody(acme, { user_id: 'first-user' }));
      const body = res.body as TPaymentResponse;
      expect(summary(res)).toEqual({
        status: 201,
        body: {
          id: expect.stringMatching(/^pay_/),
          object: 'payment',
          status: 'succeeded',
          amount: 1500,
          currency: 'usd',
          amount_refunded: 0,
          user_id: 'first-user',
          plan_id: monthly(acme).id,
          subscription_id: expect.stringMatching(/^subs_/),
          payment_method: { brand: 'visa', last4: '4242' },
          failure: null,
          next_action: null,
          created: expect.stringMatching(ISO_UTC),
        },
      });
      expect(ZPaymentResponse.parse(body)).toEqual(body);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      const requestId = res.headers['request-id'] as string;

      const { repos } = pay.store;
      const paymentId = parseId('payment', body.id);
      const subscriptionId = parseId('subscription', body.subscription_id ?? '');
      const payment = await repos.payments.findById(acme.account.id, paymentId);
      expect(payment).toMatchObject({
        status: 'succeeded',
        amount: 1500,
        currency: 'usd',
        planId: monthly(acme).id,
        subscriptionId: body.subscription_id,
        stripePaymentIntentId: expect.stringMatching(/^pi_/),
      });
      const events = await repos.payments.listEvents(paymentId);
      expect(events[0]).toMatchObject({ fromStatus: null, toStatus: 'pending' });
      expect(events.at(-1)).toMatchObject({ toStatus: 'succeeded', amount: 1500 });
      for (const [i, event] of events.entries()) {
        // An unbroken chain: each change starts where the last one ended, caused by this request.
        expect(event.fromStatus).toBe(i === 0 ? null : events[i - 1]?.toStatus);
        expect(event.cause.requestId).toBe(requestId);
      }

      const subscription = await repos.subscriptions.findById(acme.account.id, subscriptionId);
      expect(subscription).toMatchObject({ status: 'active', planId: monthly(acme).id });
      const period =
        (subscription?.currentPeriodEnd.getTime() ?? 0) - (subscription?.currentPeriodStart.getTime() ?? 0);
      expect(period).toBeGreaterThanOrEqual(28 * DAY_MS);
      expect(period).toBeLessThanOrEqual(31 * DAY_MS);
      const subscriptionEvents = await repos.subscriptions.listEvents(subscriptionId);
      expect(subscriptionEvents.at(-1)).toMatchObject({ toStatus: 'active' });

      const customer = await repos.customers.findByUserId(acme.account.id, 'first-user');
      expect(customer).toMatchObject({ stripeCustomerId: expect.stringMatching(/^cus_/) });
      const cards =
        customer === null ? [] : await repos.paymentMethods.listByCustomer(acme.account.id, customer.id);
      expect(cards.map((c) => [c.brand, c.last4])).toEqual([['visa', '4242']]);

      expect(sandbox.ledger.count('payment_intent') - intentsBefore).toBe(1);
      expect(sandbox.ledger.count('charge') - chargesBefore).toBe(1);
      expect(await counter('payments', 'succeeded')).toBe(succeededBefore + 1);

      // Reading it back answers the same object, with its refunds (none yet).
      const read = await get(`/api/v1/payments/${body.id}`, acme);
      expect(summary(read)).toEqual({ status: 200, body: { ...body, refunds: [] } });
    });

    it('creates the customer once per user_id, at pay and at Stripe', async () => {
      await post(acme, paymentBody(acme, { user_id: 'returning' })).expect(201);
      const customer = await pay.store.repos.customers.findByUserId(acme.account.id, 'returning');
      const customersBefore = sandbox.ledger.count('customer');
      await post(acme, paymentBody(acme, { user_id: 'returning' })).expect(201);
      expect(await pay.store.repos.customers.findByUserId(acme.account.id, 'returning')).toEqual(customer);
      expect(sandbox.ledger.count('customer')).toBe(customersBefore);
      // The same user_id in another account is another customer.
      await post(other, paymentBody(other, { user_id: 'returning' })).expect(201);
      const theirs = await pay.store.repos.customers.findByUserId(other.account.id, 'returning');
      expect(theirs?.id).not.toBe(customer?.id);
    });

    it('answers a decline with 402, the failed payment and its failure; the subscription expires', async () => {
      const declinedBefore = await counter('payments', 'declined');
      const res = await post(
        acme,
        paymentBody(acme, { user_id: 'broke', payment_method_id: 'pm_card_chargeDeclinedInsufficientFunds' }),
      );
      const body = res.body as TPaymentResponse;
      expect(summary(res)).toEqual({
        status: 402,
        body: expect.objectContaining({
          object: 'payment',
          status: 'failed',
          amount: 1500,
          user_id: 'broke',
          failure: { code: 'card_declined', decline_code: 'insufficient_funds', message: expect.any(String) },
          next_action: null,
        }),
      });
      expect(ZPaymentResponse.parse(body)).toEqual(body);
      const payment = await pay.store.repos.payments.findById(acme.account.id, parseId('payment', body.id));
      expect(payment).toMatchObject({
        status: 'failed',
        failureCode: 'card_declined',
        declineCode: 'insufficient_funds',
      });
      // The subscription the payment was to start never became active.
      expect(body.subscription_id).toBe(payment?.subscriptionId);
      const subscriptionId = parseId('subscription', payment?.subscriptionId ?? '');
      const subscription = await pay.store.repos.subscriptions.findById(acme.account.id, subscriptionId);
      expect(subscription?.status).toBe('expired');
      expect(await counter('payments', 'declined')).toBe(declinedBefore + 1);
      // The failed payment reads back the same, failure included.
      expect(summary(await get(`/api/v1/payments/${body.id}`, acme))).toEqual({
        status: 200,
        body: { ...body, refunds: [] },
      });
    });
  });

  describe('metrics', () => {
    it('exposes payments by outcome, replays and idempotency conflicts on /metrics', async () => {
      const key = newKey();
      await post(acme, paymentBody(acme, { user_id: 'counted' }), key).expect(201);
      await post(acme, paymentBody(acme, { user_id: 'counted' }), key).expect(201);
      await post(acme, paymentBody(acme, { user_id: 'someone-else' }), key).expect(422);
      const text = (await request(app).get('/metrics').expect(200)).text;
      const value = (series: string) =>
        Number(
          text
            .split('\n')
            .find((line) => line.startsWith(`${series} `))
            ?.slice(series.length + 1),
        );
      expect(value('pay_payments_total{outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
      expect(value('pay_payments_total{outcome="rejected"}')).toBe(0);
      expect(value('pay_idempotent_replays_total')).toBe(1);
      expect(value('pay_idempotency_conflicts_total{code="idempotency_key_reused"}')).toBe(1);
      expect(value('pay_idempotency_conflicts_total{code="idempotency_key_in_use"}')).toBe(0);
    });
  });

  describe('GET /api/v1/payments/:id', () => {
    it("answers another account's payment with the same 404 as one that never existed", async () => {
      const theirs = (await post(other, paymentBody(other)).expect(201)).body as TPaymentResponse;
      const notFound = (res: request.Response) => ({
        status: 404,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'not_found',
            message: expect.any(String),
            param: 'id',
            request_id: res.headers['request-id'],
          },
        },
      });
      const res = await get(`/api/v1/payments/${theirs.id}`, acme);
      expect(summary(res)).toEqual(notFound(res));
      const ghostId = `pay_${'0'.repeat(26)}`;
      const ghost = await get(`/api/v1/payments/${ghostId}`, acme);
      expect(summary(ghost)).toEqual(notFound(ghost));
      // Nothing tells the two apart but the id itself.
      const messageOf = (r: request.Response, id: string) =>
        (r.body as { error: { message: string } }).error.message.replaceAll(id, '<id>');
      expect(messageOf(res, theirs.id)).toBe(messageOf(ghost, ghostId));
      await get(`/api/v1/payments/${theirs.id}`, other).expect(200);
    });

    it('refuses an id that is not a payment id with a 400, as plans do', async () => {
      const res = await get('/api/v1/payments/pi_3Nabc', acme);
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: "Invalid path parameter 'id': expected a payment id (pay_…)",
            param: 'id',
            request_id: res.headers['request-id'],
          },
        },
      });
    });

    it('needs a key', async () => {
      await request(app)
        .get(`/api/v1/payments/pay_${'0'.repeat(26)}`)
        .expect(401);
    });
  });

  describe('GET /api/v1/payments', () => {
    it("lists one user's payments newest first, a page at a time", async () => {
      const created: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await post(acme, paymentBody(acme, { user_id: 'lister' })).expect(201);
        created.unshift((res.body as TPaymentResponse).id);
      }
      const first = await get('/api/v1/payments?user_id=lister&limit=2', acme);
      expect(summary(first)).toEqual({
        status: 200,
        body: {
          object: 'list',
          data: created.slice(0, 2).map((id): unknown => expect.objectContaining({ id, user_id: 'lister' })),
          has_more: true,
        },
      });
      const page = first.body as TListPaymentsResponse;
      const second = await get(
        `/api/v1/payments?user_id=lister&limit=2&starting_after=${page.data[1]?.id}`,
        acme,
      );
      expect(summary(second)).toEqual({
        status: 200,
        body: { object: 'list', data: [expect.objectContaining({ id: created[2] })], has_more: false },
      });
      // Each item is what GET /payments/:id answers, less the payment's refunds (read one payment for those).
      const one = await get(`/api/v1/payments/${created[0]}`, acme);
      expect({ ...page.data[0], refunds: [] }).toEqual(one.body);
    });

    it('lists the whole account without user_id, and never another account’s payments', async () => {
      const res = await get('/api/v1/payments?limit=100', acme);
      const ids = (res.body as TListPaymentsResponse).data.map((p) => p.id);
      const stored = (await pay.store.repos.payments.list(acme.account.id, { limit: 100 })).data.map(
        (p) => p.id,
      );
      expect(ids).toEqual(stored);
      const theirs = (await pay.store.repos.payments.list(other.account.id, { limit: 100 })).data.map(
        (p) => p.id,
      );
      expect(ids.filter((id) => theirs.some((theirId) => theirId === id))).toEqual([]);
    });

    it('answers an empty list for a user_id it does not know', async () => {
      const res = await get('/api/v1/payments?user_id=nobody-here', acme);
      expect(summary(res)).toEqual({ status: 200, body: { object: 'list', data: [], has_more: false } });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['user_id=', 'user_id'],
      ['starting_after=pln_123', 'starting_after'],
      ['status=failed', 'status'],
    ])('refuses ?%s with a 400 naming %s', async (query, param) => {
      const res = await get(`/api/v1/payments?${query}`, acme);
      expect(summary(res)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', param } },
      });
    });
  });
});
