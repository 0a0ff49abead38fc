import { parseId, silentLogger } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, createMetrics, type HttpMetrics } from '../src/index.js';
import { observeRenewalOutcome } from '../src/metrics.js';
import { SEND_PAYMENT_METHOD_INSTEAD } from '../src/middleware/reject-card-data.js';
import type { TPaymentResponse } from '../src/routes/payments/payment.schema.js';
import type { TListSubscriptionsResponse } from '../src/routes/subscriptions/list-subscriptions.schema.js';
import {
  ZSubscriptionResponse,
  type TSubscriptionResponse,
} from '../src/routes/subscriptions/subscription.schema.js';
import {
  createTenant,
  monthlyPlan as monthly,
  newIdempotencyKey as newKey,
  paymentBody,
  paymentRowsOf,
  postPayment,
  sandboxOf,
  summary,
  type TestSandbox,
  type TestTenant,
} from './helpers.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The subscription routes on PostgreSQL and the real stripe SDK against the sandbox. pay is built here
 * rather than by openPaymentsHarness so that, as in `main`, its renewal scheduler reports to the app's
 * metrics (`observeRenewal`).
 */
describe('subscriptions (PostgreSQL, Stripe sandbox)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;
  /** Acme's admin key: every route takes both roles. */
  let acmeAdmin: string;

  beforeAll(async () => {
    database = await createTestDatabase('api_subscriptions');
    metrics = createMetrics();
    const renewals = metrics.subscriptions;
    pay = await createPay(loadConfig({ DATABASE_URL: database.url }), {
      logger: silentLogger,
      observeRenewal: (outcome) => observeRenewalOutcome(renewals, outcome),
    });
    app = createApp({ pay, metrics });
    sandbox = await sandboxOf(pay);
    acme = await createTenant(pay, 'Acme', [1500, 15000]);
    other = await createTenant(pay, 'Other', [900]);
    acmeAdmin = (
      await pay.services.accounts.createApiKey(
        { accountId: acme.account.id, name: 'ops', role: 'admin' },
        { type: 'cli_operator', id: 'ops-test' },
      )
    ).secret;
  });

  afterAll(async () => {
    try {
      await pay?.close();
    } finally {
      await database?.drop();
    }
  });

  const bearer = (t: TestTenant | string) => `Bearer ${typeof t === 'string' ? t : t.key.secret}`;
  const get = (path: string, t: TestTenant | string) =>
    request(app).get(path).set('Authorization', bearer(t));
  const post = (path: string, t: TestTenant | string, body: object, key: string = newKey()) =>
    request(app).post(path).set('Authorization', bearer(t)).set('Idempotency-Key', key).send(body);
  const cancel = (id: string, body: object, t: TestTenant | string = acme, key?: string) =>
    post(`/api/v1/subscriptions/${id}/cancel`, t, body, key);
  const resume = (id: string, t: TestTenant | string = acme, key?: string) =>
    post(`/api/v1/subscriptions/${id}/resume`, t, {}, key);
  const changeCard = (id: string, paymentMethodId: string, t: TestTenant | string = acme, key?: string) =>
    post(`/api/v1/subscriptions/${id}/payment-method`, t, { payment_method_id: paymentMethodId }, key);

  /** Pays for the tenant's monthly plan as `userId` and answers the payment and its subscription id. */
  async function subscribe(t: TestTenant, userId: string, paymentMethodId = 'pm_card_visa') {
    const res = await postPayment(
      app,
      t,
      paymentBody(t, { user_id: userId, payment_method_id: paymentMethodId }),
    );
    const payment = res.body as TPaymentResponse;
    expect(payment.subscription_id).toMatch(/^subs_/);
    return { payment, status: res.status, id: payment.subscription_id ?? '' };
  }

  const subscriptionRow = async (id: string) =>
    pay.store.repos.subscriptions.findById(acme.account.id, parseId('subscription', id));
  const eventsOf = async (id: string) =>
    pay.store.repos.subscriptions.listEvents(parseId('subscription', id));

  /** The 409 an illegal change gets. */
  const invalidState = (res: request.Response) => ({
    status: 409,
    body: {
      error: {
        type: 'invalid_request_error',
        code: 'invalid_state',
        message: expect.any(String),
        request_id: res.headers['request-id'],
      },
    },
  });

  describe('GET /api/v1/subscriptions/:id', () => {
    it('answers the subscription with its plan, period, next billing, card and first payment', async () => {
      const { payment, id } = await subscribe(acme, 'reader');
      const res = await get(`/api/v1/subscriptions/${id}`, acme);
      const body = res.body as TSubscriptionResponse;
      const plan = monthly(acme);
      expect(summary(res)).toEqual({
        status: 200,
        body: {
          id,
          object: 'subscription',
          user_id: 'reader',
          status: 'active',
          plan: { id: plan.id, name: plan.name, amount: 1500, currency: 'usd', interval: 'month' },
          current_period_start: expect.stringMatching(ISO_UTC),
          current_period_end: expect.stringMatching(ISO_UTC),
          next_billing_at: body.current_period_end,
          cancel_at_period_end: false,
          canceled_at: null,
          ended_at: null,
          payment_method: { brand: 'visa', last4: '4242' },
          recent_payments: [
            {
              id: payment.id,
              status: 'succeeded',
              amount: 1500,
              currency: 'usd',
              billing_reason: 'subscription_create',
              created: payment.created,
              failure_code: null,
            },
          ],
          created: expect.stringMatching(ISO_UTC),
        },
      });
      expect(ZSubscriptionResponse.parse(body)).toEqual(body);
      const row = await subscriptionRow(id);
      expect(body.current_period_start).toBe(row?.currentPeriodStart.toISOString());
      expect(body.current_period_end).toBe(row?.currentPeriodEnd.toISOString());
      // An admin key of the account reads it too.
      expect(summary(await get(`/api/v1/subscriptions/${id}`, acmeAdmin))).toEqual({ status: 200, body });
    });

    it("answers another account's subscription with the same 404 as one that never existed", async () => {
      const { id: theirs } = await subscribe(other, 'someone');
      const res = await get(`/api/v1/subscriptions/${theirs}`, acme);
      const ghostId = `subs_${'0'.repeat(26)}`;
      const ghost = await get(`/api/v1/subscriptions/${ghostId}`, acme);
      for (const r of [res, ghost]) {
        expect(summary(r)).toEqual({
          status: 404,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'not_found',
              message: expect.any(String),
              param: 'id',
              request_id: r.headers['request-id'],
            },
          },
        });
      }
      const messageOf = (r: request.Response, id: string) =>
        (r.body as { error: { message: string } }).error.message.replaceAll(id, '<id>');
      expect(messageOf(res, theirs)).toBe(messageOf(ghost, ghostId));
      // Nor can it be changed from the wrong account.
      expect((await cancel(theirs, {})).status).toBe(404);
      await get(`/api/v1/subscriptions/${theirs}`, other).expect(200);
      expect(
        (await pay.store.repos.subscriptions.findById(other.account.id, parseId('subscription', theirs)))
          ?.status,
      ).toBe('active');
    });

    it('refuses an id that is not a subscription id with a 400, and needs a key', async () => {
      const res = await get('/api/v1/subscriptions/sub_1Nabc', acme);
      expect(summary(res)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', param: 'id', message: expect.stringContaining('subs_') } },
      });
      await request(app)
        .get(`/api/v1/subscriptions/subs_${'0'.repeat(26)}`)
        .expect(401);
    });
  });

  describe('GET /api/v1/subscriptions?user_id=…', () => {
    it("lists one user's subscriptions newest first, a page at a time", async () => {
      const created: string[] = [];
      for (let i = 0; i < 3; i++) {
        created.unshift((await subscribe(acme, 'lister')).id);
      }
      await subscribe(acme, 'not-the-lister');
      const first = await get('/api/v1/subscriptions?user_id=lister&limit=2', acme);
      expect(summary(first)).toEqual({
        status: 200,
        body: {
          object: 'list',
          data: created
            .slice(0, 2)
            .map((id): unknown =>
              expect.objectContaining({ id, object: 'subscription', user_id: 'lister', status: 'active' }),
            ),
          has_more: true,
        },
      });
      const page = first.body as TListSubscriptionsResponse;
      for (const item of page.data) {
        expect(ZSubscriptionResponse.parse(item)).toEqual(item);
      }
      const second = await get(
        `/api/v1/subscriptions?user_id=lister&limit=2&starting_after=${page.data[1]?.id ?? ''}`,
        acmeAdmin,
      );
      expect(summary(second)).toEqual({
        status: 200,
        body: { object: 'list', data: [expect.objectContaining({ id: created[2] })], has_more: false },
      });
    });

    it('answers an empty list for a user pay does not know, or one of another account', async () => {
      await subscribe(other, 'only-at-other');
      for (const user of ['nobody-at-all', 'only-at-other']) {
        expect(summary(await get(`/api/v1/subscriptions?user_id=${user}`, acme))).toEqual({
          status: 200,
          body: { object: 'list', data: [], has_more: false },
        });
      }
    });

    it('needs user_id, and refuses a bad limit or cursor', async () => {
      for (const query of ['', '?user_id=', '?user_id=a&limit=0', '?user_id=a&starting_after=pay_x']) {
        const res = await get(`/api/v1/subscriptions${query}`, acme);
        expect(summary(res)).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      }
    });
  });

  describe('POST /api/v1/subscriptions/:id/cancel', () => {
    it('cancels now: canceled, ended, nothing more to bill, one event caused by the request', async () => {
      const { id } = await subscribe(acme, 'leaver');
      const before = (await eventsOf(id)).length;
      const res = await cancel(id, {});
      expect(summary(res)).toEqual({
        status: 200,
        body: expect.objectContaining({
          id,
          status: 'canceled',
          cancel_at_period_end: false,
          canceled_at: expect.stringMatching(ISO_UTC),
          ended_at: expect.stringMatching(ISO_UTC),
          next_billing_at: null,
        }),
      });
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(await subscriptionRow(id)).toMatchObject({ status: 'canceled', nextBillingAt: null });
      const events = await eventsOf(id);
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)).toMatchObject({
        fromStatus: 'active',
        toStatus: 'canceled',
        cause: { requestId: res.headers['request-id'] },
      });
      // The same body reads back.
      expect((await get(`/api/v1/subscriptions/${id}`, acme)).body).toEqual(res.body);
    });

    it('cancels at period end, and resume undoes it before then', async () => {
      const { id } = await subscribe(acme, 'hesitant');
      const pending = await cancel(id, { at_period_end: true }, acmeAdmin);
      const body = pending.body as TSubscriptionResponse;
      expect(summary(pending)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'active',
          cancel_at_period_end: true,
          canceled_at: expect.stringMatching(ISO_UTC),
          ended_at: null,
        }),
      });
      // The scheduler still reaches it at the period's end, to cancel it then.
      expect(body.next_billing_at).toBe(body.current_period_end);
      expect(await subscriptionRow(id)).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });

      const resumed = await resume(id);
      expect(summary(resumed)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'active',
          cancel_at_period_end: false,
          canceled_at: null,
          ended_at: null,
          next_billing_at: body.current_period_end,
        }),
      });
      expect(await subscriptionRow(id)).toMatchObject({ cancelAtPeriodEnd: false, canceledAt: null });
      const events = await eventsOf(id);
      expect(events.slice(-2).map((e) => [e.fromStatus, e.toStatus])).toEqual([
        ['active', 'active'],
        ['active', 'active'],
      ]);

      // Nothing is pending any more: a second resume is an illegal change, and writes nothing.
      const key = newKey();
      const again = await resume(id, acme, key);
      expect(summary(again)).toMatchObject(invalidState(again));
      expect(await eventsOf(id)).toHaveLength(events.length);
      expect(await pay.store.repos.idempotencyKeys.find(acme.account.id, key)).toBeNull();
    });

    it('refuses to cancel a canceled or an expired subscription: 409 invalid_state, nothing written', async () => {
      const { id: canceled } = await subscribe(acme, 'gone');
      await cancel(canceled, {}).expect(200);
      const { id: expired, status } = await subscribe(
        acme,
        'declined',
        'pm_card_chargeDeclinedInsufficientFunds',
      );
      expect(status).toBe(402);
      expect((await subscriptionRow(expired))?.status).toBe('expired');

      const rows = await paymentRowsOf(pay, acme.account.id);
      for (const [id, body] of [
        [canceled, {}],
        [canceled, { at_period_end: true }],
        [expired, {}],
        [expired, { at_period_end: true }],
      ] as const) {
        const key = newKey();
        const res = await cancel(id, body, acme, key);
        expect(summary(res)).toMatchObject(invalidState(res));
        expect((res.body as { error: { message: string } }).error.message).toMatch(/canceled|expired/);
        expect(await pay.store.repos.idempotencyKeys.find(acme.account.id, key)).toBeNull();
      }
      const resumed = await resume(expired);
      expect(summary(resumed)).toMatchObject(invalidState(resumed));
      const card = await changeCard(canceled, 'pm_card_visa');
      expect(summary(card)).toMatchObject(invalidState(card));
      expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
    });
  });

  describe('POST /api/v1/subscriptions/:id/payment-method', () => {
    it('bills a new card from now on: a new PaymentMethod at Stripe, the subscription points at it', async () => {
      const { id } = await subscribe(acme, 'card-changer');
      const before = await subscriptionRow(id);
      const attachedBefore = sandbox.ledger.count('payment_method');
      const res = await changeCard(id, 'pm_card_visa');
      expect(summary(res)).toEqual({
        status: 200,
        body: expect.objectContaining({
          id,
          status: 'active',
          payment_method: { brand: 'visa', last4: '4242' },
        }),
      });
      const after = await subscriptionRow(id);
      expect(after?.paymentMethodId).not.toBeNull();
      expect(after?.paymentMethodId).not.toBe(before?.paymentMethodId);
      expect(sandbox.ledger.count('payment_method')).toBeGreaterThan(attachedBefore);
      expect((await eventsOf(id)).at(-1)).toMatchObject({
        fromStatus: 'active',
        toStatus: 'active',
        cause: { requestId: res.headers['request-id'] },
      });

      const mastercard = await changeCard(id, 'pm_card_mastercard', acmeAdmin);
      expect(summary(mastercard)).toMatchObject({
        status: 200,
        body: { payment_method: { brand: 'mastercard', last4: '4444' } },
      });
    });

    it('retries a past_due subscription at once with the new card: active again, the retry listed', async () => {
      const { id } = await subscribe(acme, 'dunned');
      // A card that attaches but declines every charge, then a renewal at the period's end.
      await changeCard(id, 'pm_card_chargeCustomerFail').expect(200);
      const row = await subscriptionRow(id);
      await pay.services.renewals.renew(parseId('subscription', id), {
        now: new Date((row?.currentPeriodEnd.getTime() ?? 0) + 1000),
      });
      expect((await subscriptionRow(id))?.status).toBe('past_due');
      const pastDue = (await get(`/api/v1/subscriptions/${id}`, acme)).body as TSubscriptionResponse;
      expect(pastDue.recent_payments[0]).toMatchObject({
        status: 'failed',
        billing_reason: 'subscription_cycle',
        failure_code: expect.any(String),
      });

      const res = await changeCard(id, 'pm_card_visa');
      const body = res.body as TSubscriptionResponse;
      expect(summary(res)).toEqual({
        status: 200,
        body: expect.objectContaining({ status: 'active', payment_method: { brand: 'visa', last4: '4242' } }),
      });
      // Both tries of the period are listed. Not by position: the first ran a month ahead (`now` above),
      // the retry on today's clock, and the list is ordered by id, which carries the time it was made at.
      expect(body.recent_payments).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ status: 'failed', billing_reason: 'subscription_cycle' }),
          expect.objectContaining({
            status: 'succeeded',
            billing_reason: 'subscription_cycle',
            amount: 1500,
          }),
        ]),
      );
      expect(body.recent_payments).toHaveLength(3);
      expect(Date.parse(body.current_period_start)).toBe(row?.currentPeriodEnd.getTime());
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a repeated change again, marked Idempotent-Replayed, without changing anything', async () => {
      const { id } = await subscribe(acme, 'replayer');
      const key = newKey();
      const first = await cancel(id, { at_period_end: true }, acme, key);
      expect(first.status).toBe(200);
      const events = (await eventsOf(id)).length;
      const replaysBefore = (await metrics.payments.idempotentReplays.get()).values[0]?.value ?? 0;

      const again = await cancel(id, { at_period_end: true }, acme, key);
      expect({ status: again.status, text: again.text }).toEqual({ status: 200, text: first.text });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await eventsOf(id)).toHaveLength(events);
      expect((await metrics.payments.idempotentReplays.get()).values[0]?.value).toBe(replaysBefore + 1);

      // The key in the body works the same.
      const inBody = await request(app)
        .post(`/api/v1/subscriptions/${id}/cancel`)
        .set('Authorization', bearer(acme))
        .send({ at_period_end: true, idempotency_key: key });
      expect(inBody.headers['idempotent-replayed']).toBe('true');

      // The same key with another body, or on another action, is a reuse.
      const reused = await cancel(id, { at_period_end: false }, acme, key);
      expect(summary(reused)).toMatchObject({
        status: 422,
        body: { error: { code: 'idempotency_key_reused' } },
      });
      const elsewhere = await resume(id, acme, key);
      expect(summary(elsewhere)).toMatchObject({
        status: 422,
        body: { error: { code: 'idempotency_key_reused' } },
      });
      expect((await subscriptionRow(id))?.status).toBe('active');
    });

    it('replays a card change without a second attach at Stripe', async () => {
      const { id } = await subscribe(acme, 'card-replayer');
      const key = newKey();
      const first = await changeCard(id, 'pm_card_mastercard', acme, key);
      expect(first.status).toBe(200);
      const stripeCalls = sandbox.requests().length;
      const again = await changeCard(id, 'pm_card_mastercard', acme, key);
      expect({ status: again.status, text: again.text }).toEqual({ status: 200, text: first.text });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(sandbox.requests().length).toBe(stripeCalls);
    });

    it('needs a key on every POST', async () => {
      const { id } = await subscribe(acme, 'keyless');
      for (const [action, body] of [
        ['cancel', {}],
        ['resume', {}],
        ['payment-method', { payment_method_id: 'pm_card_visa' }],
      ] as const) {
        const res = await request(app)
          .post(`/api/v1/subscriptions/${id}/${action}`)
          .set('Authorization', bearer(acme))
          .send(body);
        expect(summary(res)).toMatchObject({
          status: 400,
          body: { error: { code: 'invalid_request', param: 'Idempotency-Key' } },
        });
      }
      expect((await subscriptionRow(id))?.status).toBe('active');
    });
  });

  describe('strict bodies', () => {
    it('refuses unknown fields and wrong types with a 400 naming them, writing nothing', async () => {
      const { id } = await subscribe(acme, 'strict');
      const rows = await paymentRowsOf(pay, acme.account.id);
      for (const [action, body, param] of [
        ['cancel', { status: 'canceled' }, 'status'],
        ['cancel', { at_period_end: 'yes' }, 'at_period_end'],
        ['cancel', { at_period_end: true, ended_at: '2020-01-01T00:00:00.000Z' }, 'ended_at'],
        ['resume', { cancel_at_period_end: false }, 'cancel_at_period_end'],
        ['payment-method', {}, 'payment_method_id'],
        ['payment-method', { payment_method_id: 'card_123' }, 'payment_method_id'],
        ['payment-method', { payment_method_id: 'pm_card_visa', customer: 'cus_1' }, 'customer'],
      ] as const) {
        const res = await post(`/api/v1/subscriptions/${id}/${action}`, acme, body);
        expect(summary(res)).toMatchObject({
          status: 400,
          body: { error: { type: 'invalid_request_error', code: 'invalid_request', param } },
        });
      }
      expect(await paymentRowsOf(pay, acme.account.id)).toEqual(rows);
    });

    it('refuses card data for a new card, naming the field and never echoing the number', async () => {
      const { id } = await subscribe(acme, 'pan-sender');
      const res = await post(`/api/v1/subscriptions/${id}/payment-method`, acme, {
        payment_method_id: '4242424242424242',
      });
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: `The body parameter 'payment_method_id' looks like a card number. ${SEND_PAYMENT_METHOD_INSTEAD}`,
            param: 'payment_method_id',
            request_id: res.headers['request-id'],
          },
        },
      });
      const field = await post(`/api/v1/subscriptions/${id}/payment-method`, acme, {
        card_number: 'x',
      });
      expect(summary(field)).toMatchObject({ status: 400, body: { error: { param: 'card_number' } } });
      expect((await subscriptionRow(id))?.paymentMethodId).not.toBeNull();
    });
  });

  describe('metrics', () => {
    const scrape = async () => {
      const text = (await request(app).get('/metrics').expect(200)).text;
      return (series: string) =>
        Number(
          text
            .split('\n')
            .find((line) => line.startsWith(`${series} `))
            ?.slice(series.length + 1),
        );
    };

    it('exposes renewals by outcome and subscriptions by status', async () => {
      const initial = await scrape();
      const attempted = initial('pay_renewals_total{outcome="attempted"}');
      const succeeded = initial('pay_renewals_total{outcome="succeeded"}');
      const failed = initial('pay_renewals_total{outcome="failed"}');
      expect([attempted, succeeded, failed].every(Number.isFinite)).toBe(true);

      const { id } = await subscribe(acme, 'renewed');
      const row = await subscriptionRow(id);
      await pay.services.renewals.renew(parseId('subscription', id), {
        now: new Date((row?.currentPeriodEnd.getTime() ?? 0) + 1000),
      });
      expect((await subscriptionRow(id))?.currentPeriodStart).toEqual(row?.currentPeriodEnd);

      const value = await scrape();
      expect(value('pay_renewals_total{outcome="attempted"}')).toBe(attempted + 1);
      expect(value('pay_renewals_total{outcome="succeeded"}')).toBe(succeeded + 1);
      expect(value('pay_renewals_total{outcome="failed"}')).toBe(failed);
      // Counted in the database, every account: the same numbers the service gives.
      const counts = await pay.services.subscriptions.countByStatus();
      for (const status of ['incomplete', 'active', 'past_due', 'canceled', 'expired'] as const) {
        expect(value(`pay_subscriptions{status="${status}"}`)).toBe(counts[status]);
      }
      expect(counts.active).toBeGreaterThan(0);
    });
  });
});
