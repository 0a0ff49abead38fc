import { parseId, type IssuedApiKey, type Plan } from '@pay/core';
import { sandboxClient } from '@pay/reliability';
import { SANDBOX_SECRET_KEY, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import type { HttpMetrics } from '../src/index.js';
import type { TGetPaymentResponse } from '../src/routes/payments/get-payment.schema.js';
import type { TPaymentResponse } from '../src/routes/payments/payment.schema.js';
import { ZRefundResponse, type TRefundResponse } from '../src/routes/refunds/refund.schema.js';
import {
  newIdempotencyKey as newKey,
  openPaymentsHarness,
  paymentBody,
  paymentRowsOf,
  postPayment,
  summary,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
} from './helpers.js';

/*
 * Refunds over HTTP (issue 7; RELIABILITY.md E3–E5, G1, G3) on PostgreSQL, with pay's gateway talking to
 * the in-process Stripe sandbox through the real SDK. Four eyes is on above 20,000 minor units.
 */

const THRESHOLD = 20_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TEST_OPERATOR = { type: 'cli_operator', id: 'ops-test' } as const;

describe('refunds (PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;
  /** Acme's two admins (the second approves what the first asked for) and Other's admin. */
  let admin: IssuedApiKey;
  let secondAdmin: IssuedApiKey;
  let otherAdmin: IssuedApiKey;
  /** Acme plans of 10,000 and 30,000 (above the threshold). */
  let plan10k: Plan;
  let plan30k: Plan;

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_refunds', { PAY_REFUND_APPROVAL_THRESHOLD: String(THRESHOLD) });
    ({ pay, app, metrics, sandbox, acme, other } = harness);
    const { accounts, plans } = pay.services;
    const adminOf = (t: TestTenant, name: string) =>
      accounts.createApiKey({ accountId: t.account.id, name, role: 'admin' }, TEST_OPERATOR);
    admin = await adminOf(acme, 'alice');
    secondAdmin = await adminOf(acme, 'bob');
    otherAdmin = await adminOf(other, 'mallory');
    const planOf = (amount: number) =>
      plans.createPlan(
        { accountId: acme.account.id, name: `Big ${amount}`, amount, currency: 'usd', interval: 'month' },
        TEST_OPERATOR,
      );
    plan10k = await planOf(10_000);
    plan30k = await planOf(30_000);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const bearer = (secret: string) => `Bearer ${secret}`;
  const postRefund = (key: IssuedApiKey, body: object, idempotencyKey: string = newKey()) =>
    request(app)
      .post('/api/v1/refunds')
      .set('Authorization', bearer(key.secret))
      .set('Idempotency-Key', idempotencyKey)
      .send(body);
  const approve = (key: IssuedApiKey, refundId: string, idempotencyKey: string = newKey()) =>
    request(app)
      .post(`/api/v1/refunds/${refundId}/approve`)
      .set('Authorization', bearer(key.secret))
      .set('Idempotency-Key', idempotencyKey);
  const get = (key: IssuedApiKey, path: string) =>
    request(app).get(path).set('Authorization', bearer(key.secret));

  /** A succeeded payment of Acme's, of the plan's amount (1,500 by default). */
  async function paidPayment(plan?: Plan, user = 'refundee'): Promise<TPaymentResponse> {
    const res = await postPayment(
      app,
      acme,
      paymentBody(acme, { user_id: user, ...(plan ? { plan_id: plan.id } : {}) }),
    );
    expect(summary(res)).toMatchObject({ status: 201, body: { status: 'succeeded' } });
    return res.body as TPaymentResponse;
  }

  const paymentOf = async (id: string) => {
    const payment = await pay.store.repos.payments.findById(acme.account.id, parseId('payment', id));
    if (payment === null) {
      throw new Error(`no payment ${id}`);
    }
    return payment;
  };

  /** The sandbox's refunds of the payment's PaymentIntent, read through the real SDK. */
  async function sandboxRefundsOf(paymentId: string) {
    const intent = (await paymentOf(paymentId)).stripePaymentIntentId ?? '';
    const stripe = sandboxClient({ url: sandbox.url, secretKey: SANDBOX_SECRET_KEY });
    const listed = await stripe.refunds.list({ payment_intent: intent, limit: 100 });
    return listed.data;
  }

  /** Everything a refused request must leave as it was: payments, refunds, audit rows, Stripe's refunds. */
  async function footprint(accountId = acme.account.id) {
    const { repos } = pay.store;
    const payments = (await repos.payments.list(accountId, { limit: 100 })).data;
    const refunds = (
      await Promise.all(payments.map((p) => repos.refunds.listByPayment(accountId, p.id)))
    ).flat();
    return {
      rows: await paymentRowsOf(pay, accountId),
      refunds: refunds.map((r) => `${r.id} ${r.status}`),
      audit: (await repos.audit.list(accountId, { limit: 100 })).data.length,
      stripeRefunds: sandbox.ledger.count('refund'),
    };
  }

  const auditOf = async (targetId: string) =>
    (await pay.store.repos.audit.list(acme.account.id, { limit: 100 })).data.filter(
      (e) => e.targetId === targetId,
    );

  const counter = async (name: 'refunds' | 'refundedAmount', label: string) =>
    (await metrics.refunds[name].get()).values.find((v) => Object.values(v.labels).includes(label))?.value ??
    0;

  const errorOf = (res: request.Response, status: number, code: string, param?: string) => ({
    status,
    body: {
      error: expect.objectContaining({
        code,
        message: expect.any(String),
        request_id: res.headers['request-id'],
        ...(param === undefined ? {} : { param }),
      }),
    },
  });

  describe('POST /api/v1/refunds', () => {
    it('refunds a payment in full: 201, the refund, the payment refunded, one refund at Stripe, one audit row', async () => {
      const payment = await paidPayment();
      const stripeBefore = sandbox.ledger.count('refund');
      const succeededBefore = await counter('refunds', 'succeeded');
      const amountBefore = await counter('refundedAmount', 'usd');

      const res = await postRefund(admin, { payment_id: payment.id, reason: 'requested_by_customer' });
      expect(summary(res)).toEqual({
        status: 201,
        body: {
          id: expect.stringMatching(/^rfnd_/),
          object: 'refund',
          payment_id: payment.id,
          amount: 1500,
          currency: 'usd',
          status: 'succeeded',
          reason: 'requested_by_customer',
          failure_reason: null,
          created: expect.stringMatching(ISO_UTC),
          requested_by: expect.any(String),
          approved_by: null,
        },
      });
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      const refund = ZRefundResponse.parse(res.body);

      expect(await paymentOf(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 1500 });
      expect(sandbox.ledger.count('refund') - stripeBefore).toBe(1);
      const [atStripe] = await sandboxRefundsOf(payment.id);
      expect(atStripe).toMatchObject({ amount: 1500, status: 'succeeded' });
      expect(await auditOf(refund.id)).toEqual([
        expect.objectContaining({
          actorType: 'api_key',
          actorId: admin.apiKey.id,
          amount: 1500,
          requestId: res.headers['request-id'],
        }),
      ]);
      expect(await counter('refunds', 'succeeded')).toBe(succeededBefore + 1);
      expect(await counter('refundedAmount', 'usd')).toBe(amountBefore + 1500);
    });

    it('refunds in parts, several per payment, the rest by default, and refuses more than remains with 422 and nothing written', async () => {
      const payment = await paidPayment(plan10k);
      const first = await postRefund(admin, { payment_id: payment.id, amount: 2500 }).expect(201);
      const second = await postRefund(secondAdmin, {
        payment_id: payment.id,
        amount: 4000,
        reason: 'duplicate',
      }).expect(201);
      expect(await paymentOf(payment.id)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 6500,
      });

      const before = await footprint();
      const tooMuch = await postRefund(admin, { payment_id: payment.id, amount: 3501 });
      expect(summary(tooMuch)).toEqual(errorOf(tooMuch, 422, 'refund_exceeds_captured'));
      expect(await footprint()).toEqual(before);

      // Without an amount: all that remains.
      const rest = await postRefund(admin, { payment_id: payment.id }).expect(201);
      expect((rest.body as TRefundResponse).amount).toBe(3500);
      expect(await paymentOf(payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 10_000 });

      const nothingLeft = await postRefund(admin, { payment_id: payment.id, amount: 1 });
      expect(nothingLeft.status).toBe(422);
      const atStripe = await sandboxRefundsOf(payment.id);
      expect(atStripe.map((r) => r.amount).sort((a, b) => a - b)).toEqual([2500, 3500, 4000]);
      const ids = [first, second, rest].map((r) => (r.body as TRefundResponse).id);
      for (const id of ids) {
        expect(await auditOf(id)).toHaveLength(1);
      }
    });

    it('answers 403 to a service key and audits the attempt as a denied refund; nothing else happens', async () => {
      const payment = await paidPayment();
      const deniedBefore = await counter('refunds', 'forbidden');
      const before = await footprint();
      const res = await postRefund(acme.key, { payment_id: payment.id, amount: 100 });
      expect(summary(res)).toEqual(errorOf(res, 403, 'forbidden'));
      const after = await footprint();
      expect({ ...after, audit: before.audit }).toEqual(before);
      expect(after.audit).toBe(before.audit + 1);
      expect(await auditOf(payment.id)).toEqual([
        expect.objectContaining({
          action: 'refund.denied',
          actorType: 'api_key',
          actorId: acme.key.apiKey.id,
          requestId: res.headers['request-id'],
        }),
      ]);
      expect(await counter('refunds', 'forbidden')).toBe(deniedBefore + 1);
    });

    it("answers 404 to another account's admin refunding Acme's payment, and sends nothing to Stripe", async () => {
      const payment = await paidPayment();
      const before = await footprint();
      const res = await postRefund(otherAdmin, { payment_id: payment.id });
      expect(summary(res)).toEqual(errorOf(res, 404, 'not_found'));
      const ghost = await postRefund(admin, { payment_id: `pay_${'0'.repeat(26)}` });
      expect(summary(ghost)).toEqual(errorOf(ghost, 404, 'not_found'));
      expect(await footprint()).toEqual(before);
    });

    it('answers 409 invalid_state for a payment that captured nothing', async () => {
      const declined = await postPayment(
        app,
        acme,
        paymentBody(acme, { user_id: 'broke', payment_method_id: 'pm_card_chargeDeclinedInsufficientFunds' }),
      ).expect(402);
      const before = await footprint();
      const res = await postRefund(admin, { payment_id: (declined.body as TPaymentResponse).id });
      expect(summary(res)).toEqual(errorOf(res, 409, 'invalid_state'));
      expect(await footprint()).toEqual(before);
    });

    it('refuses unknown fields, bad amounts and a missing key with 400 naming the field; nothing written (E3)', async () => {
      const payment = await paidPayment();
      const before = await footprint();
      const cases: [object, string][] = [
        [{ payment_id: payment.id, status: 'succeeded' }, 'status'],
        [{ payment_id: payment.id, amount_refunded: 0 }, 'amount_refunded'],
        [{ payment_id: payment.id, account_id: other.account.id }, 'account_id'],
        [{ payment_id: payment.id, amount: 0 }, 'amount'],
        [{ payment_id: payment.id, amount: -100 }, 'amount'],
        [{ payment_id: payment.id, amount: 10.5 }, 'amount'],
        [{ payment_id: payment.id, amount: '100' }, 'amount'],
        [{ amount: 100 }, 'payment_id'],
        [{ payment_id: 'pi_123' }, 'payment_id'],
        [{ payment_id: payment.id, reason: 'x'.repeat(501) }, 'reason'],
      ];
      for (const [body, param] of cases) {
        const res = await postRefund(admin, body);
        expect({ sent: body, ...summary(res) }).toEqual({
          sent: body,
          ...errorOf(res, 400, 'invalid_request', param),
        });
      }
      const both = await postRefund(admin, {
        payment_id: payment.id,
        status: 'succeeded',
        amount_refunded: 1,
      });
      expect((both.body as { error: { message: string } }).error.message).toMatch(/status.*amount_refunded/);
      const keyless = await request(app)
        .post('/api/v1/refunds')
        .set('Authorization', bearer(admin.secret))
        .send({ payment_id: payment.id });
      expect(summary(keyless)).toEqual(errorOf(keyless, 400, 'invalid_request', 'Idempotency-Key'));
      expect(await footprint()).toEqual(before);
    });

    it('answers a retry with the same key with the stored refund and refuses the key with other parameters (P1)', async () => {
      const payment = await paidPayment(plan10k);
      const key = newKey();
      const first = await postRefund(admin, { payment_id: payment.id, amount: 1000 }, key).expect(201);
      const again = await postRefund(admin, { payment_id: payment.id, amount: 1000 }, key);
      expect(summary(again)).toEqual(summary(first));
      expect(again.headers['idempotent-replayed']).toBe('true');
      const reused = await postRefund(admin, { payment_id: payment.id, amount: 2000 }, key);
      expect(summary(reused)).toEqual(errorOf(reused, 422, 'idempotency_key_reused'));
      expect(await sandboxRefundsOf(payment.id)).toHaveLength(1);
      expect(await paymentOf(payment.id)).toMatchObject({ amountRefunded: 1000 });
      expect(await auditOf((first.body as TRefundResponse).id)).toHaveLength(1);
    });

    it('answers 503 retryable when Stripe does not answer, and the same key then finishes the one refund', async () => {
      const payment = await paidPayment();
      const key = newKey();
      sandbox.faults.add({
        kind: 'error_before',
        status: 500,
        times: 20,
        match: { method: 'POST', path: '/v1/refunds' },
      });
      let unanswered: request.Response;
      try {
        unanswered = await postRefund(admin, { payment_id: payment.id, amount: 400 }, key);
      } finally {
        sandbox.faults.clear();
      }
      expect(summary(unanswered)).toEqual({
        status: 503,
        body: { error: expect.objectContaining({ code: 'dependency_unavailable', retryable: true }) },
      });
      expect(await sandboxRefundsOf(payment.id)).toEqual([]);

      const retried = await postRefund(admin, { payment_id: payment.id, amount: 400 }, key);
      expect(summary(retried)).toMatchObject({ status: 201, body: { status: 'succeeded', amount: 400 } });
      expect(await sandboxRefundsOf(payment.id)).toHaveLength(1);
      expect(await paymentOf(payment.id)).toMatchObject({ amountRefunded: 400 });
    });

    it('never refunds more than was captured: 20 parallel refunds of 600 on 10,000 (G1)', async () => {
      const payment = await paidPayment(plan10k, 'contended');
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          postRefund(i % 2 === 0 ? admin : secondAdmin, { payment_id: payment.id, amount: 600 }),
        ),
      );
      const statuses = answers.map((r) => r.status);
      const succeeded = answers.filter((r) => r.status === 201);
      // 16 × 600 = 9,600 fits; a 17th would not. Every refusal says why.
      expect(succeeded).toHaveLength(16);
      for (const refused of answers.filter((r) => r.status !== 201)) {
        expect(summary(refused)).toEqual(errorOf(refused, 422, 'refund_exceeds_captured'));
      }
      expect(statuses.filter((s) => s !== 201 && s !== 422)).toEqual([]);
      const refunds = await pay.store.repos.refunds.listByPayment(
        acme.account.id,
        parseId('payment', payment.id),
      );
      const paid = refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
      expect(paid).toBe(9600);
      expect(await paymentOf(payment.id)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 9600,
      });
      const atStripe = await sandboxRefundsOf(payment.id);
      expect(atStripe.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0)).toBe(
        9600,
      );
      for (const r of succeeded) {
        expect(await auditOf((r.body as TRefundResponse).id)).toHaveLength(1);
      }
    });
  });

  describe('four eyes above PAY_REFUND_APPROVAL_THRESHOLD', () => {
    it('keeps a large refund waiting until a second admin approves it; the first may not (G3)', async () => {
      const payment = await paidPayment(plan30k, 'big-spender');
      const stripeBefore = sandbox.ledger.count('refund');
      const asked = await postRefund(admin, { payment_id: payment.id, amount: 25_000, reason: 'fraudulent' });
      expect(summary(asked)).toMatchObject({
        status: 201,
        body: { status: 'requires_approval', amount: 25_000 },
      });
      const refund = asked.body as TRefundResponse;
      expect(sandbox.ledger.count('refund')).toBe(stripeBefore);
      expect(await paymentOf(payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });

      // The admin who asked may not approve: 403, audited, still waiting, nothing sent.
      const auditBefore = (await auditOf(refund.id)).length;
      const self = await approve(admin, refund.id);
      expect(summary(self)).toEqual(errorOf(self, 403, 'forbidden'));
      expect((await auditOf(refund.id)).length).toBe(auditBefore + 1);
      // A service key may not either, and its attempt is audited as denied.
      const service = await approve(acme.key, refund.id);
      expect(summary(service)).toEqual(errorOf(service, 403, 'forbidden'));
      expect(await auditOf(refund.id)).toContainEqual(
        expect.objectContaining({ action: 'refund.denied', actorId: acme.key.apiKey.id }),
      );
      // Another account's admin does not even see it.
      const stranger = await approve(otherAdmin, refund.id);
      expect(summary(stranger)).toEqual(errorOf(stranger, 404, 'not_found'));
      expect((await get(admin, `/api/v1/refunds/${refund.id}`).expect(200)).body).toMatchObject({
        status: 'requires_approval',
      });
      expect(sandbox.ledger.count('refund')).toBe(stripeBefore);

      const key = newKey();
      const approved = await approve(secondAdmin, refund.id, key);
      expect(summary(approved)).toEqual({
        status: 200,
        body: {
          ...refund,
          status: 'succeeded',
          approved_by: expect.any(String),
        },
      });
      expect((approved.body as TRefundResponse).approved_by).not.toBe(refund.requested_by);
      expect(sandbox.ledger.count('refund')).toBe(stripeBefore + 1);
      expect(await paymentOf(payment.id)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 25_000,
      });

      const replay = await approve(secondAdmin, refund.id, key);
      expect([replay.status, replay.headers['idempotent-replayed']]).toEqual([200, 'true']);
      const twice = await approve(secondAdmin, refund.id);
      expect(summary(twice)).toEqual(errorOf(twice, 409, 'invalid_state'));
      expect(sandbox.ledger.count('refund')).toBe(stripeBefore + 1);
    });
  });

  describe('reading refunds', () => {
    it('GET /refunds/:id answers any key of the account, 404 to another account; the payment lists its refunds', async () => {
      const payment = await paidPayment();
      const older = (await postRefund(admin, { payment_id: payment.id, amount: 500 }).expect(201))
        .body as TRefundResponse;
      const newer = (await postRefund(admin, { payment_id: payment.id, amount: 300 }).expect(201))
        .body as TRefundResponse;

      expect(summary(await get(acme.key, `/api/v1/refunds/${older.id}`))).toEqual({
        status: 200,
        body: older,
      });
      expect(summary(await get(admin, `/api/v1/refunds/${newer.id}`))).toEqual({ status: 200, body: newer });
      const theirs = await get(otherAdmin, `/api/v1/refunds/${older.id}`);
      expect(summary(theirs)).toEqual(errorOf(theirs, 404, 'not_found'));
      const ghost = await get(admin, `/api/v1/refunds/rfnd_${'0'.repeat(26)}`);
      expect(summary(ghost)).toEqual(errorOf(ghost, 404, 'not_found'));
      const malformed = await get(admin, '/api/v1/refunds/re_123');
      expect(summary(malformed)).toEqual(errorOf(malformed, 400, 'invalid_request', 'id'));

      const read = await get(acme.key, `/api/v1/payments/${payment.id}`);
      expect(summary(read)).toEqual({
        status: 200,
        body: { ...payment, status: 'partially_refunded', amount_refunded: 800, refunds: [newer, older] },
      });
      const unrefunded = await paidPayment();
      const plain = (await get(acme.key, `/api/v1/payments/${unrefunded.id}`).expect(200))
        .body as TGetPaymentResponse;
      expect(plain.refunds).toEqual([]);
      // Another account's payment stays a 404, refunds or not.
      expect((await get(other.key, `/api/v1/payments/${payment.id}`)).status).toBe(404);
    });
  });
});
