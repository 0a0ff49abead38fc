import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId, type IssuedApiKey } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { countChanges, tableCounts, type TableCounts } from './battery/support/table-counts.js';
import {
  newIdempotencyKey as newKey,
  openPaymentsHarness,
  paymentBody,
  postPayment,
  summary,
  type PaymentsHarness,
  type TestSandbox,
  type TestTenant,
} from './helpers.js';

/*
 * RELIABILITY.md E3 (mass assignment), E4 (BOLA), E5 (BFLA) and E8 (return URLs) across every route
 * they apply to, on PostgreSQL with pay's in-process Stripe sandbox. What the per-route suites already
 * prove for one route (payments-input: E3/E8 bodies; refunds: a service key's refund, another account's
 * refund) is extended here to the others, and every refusal is checked against the row count of every
 * table and the sandbox's request log.
 */

const TEST_OPERATOR = { type: 'cli_operator', id: 'ops-hardening' } as const;

/** A loopback HTTP listener that counts what reaches it: the proof that pay fetched no supplied URL. */
interface Listener {
  readonly origin: string;
  readonly hits: string[];
  close(): Promise<void>;
}

async function startListener(): Promise<Listener> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('API hardening: E3 mass assignment, E4 BOLA, E5 BFLA, E8 return URLs', () => {
  let listener: Listener;
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let sandbox: TestSandbox;
  let acme: TestTenant;
  let other: TestTenant;
  let acmeAdmin: IssuedApiKey;
  let otherAdmin: IssuedApiKey;
  /** Acme's succeeded payment, its subscription and a partial refund of it. */
  let acmePayment: { id: string; subscription_id: string };
  let acmeRefundId: string;
  /** The same, of Other's: what Acme's keys try to reach (E4). */
  let otherPayment: { id: string; subscription_id: string };
  let otherRefundId: string;

  beforeAll(async () => {
    listener = await startListener();
    // The listener's origin is allowed on purpose: even a URL pay accepts is only ever a redirect target.
    harness = await openPaymentsHarness('api_hardening', {
      PAY_WORKER: 'false',
      PAY_RETURN_URL_ORIGINS: `https://shop.example,${listener.origin}`,
    });
    ({ pay, app, sandbox, acme, other } = harness);
    const adminOf = (t: TestTenant, name: string) =>
      pay.services.accounts.createApiKey({ accountId: t.account.id, name, role: 'admin' }, TEST_OPERATOR);
    acmeAdmin = await adminOf(acme, 'acme-admin');
    otherAdmin = await adminOf(other, 'other-admin');
    const paid = async (t: TestTenant, user: string) => {
      const res = await postPayment(app, t, paymentBody(t, { user_id: user }));
      expect(summary(res)).toMatchObject({ status: 201, body: { status: 'succeeded' } });
      return res.body as { id: string; subscription_id: string };
    };
    const refunded = async (admin: IssuedApiKey, paymentId: string) => {
      const res = await request(app)
        .post('/api/v1/refunds')
        .set('Authorization', `Bearer ${admin.secret}`)
        .set('Idempotency-Key', newKey())
        .send({ payment_id: paymentId, amount: 100 });
      expect(summary(res)).toMatchObject({ status: 201 });
      return (res.body as { id: string }).id;
    };
    acmePayment = await paid(acme, 'acme-user');
    acmeRefundId = await refunded(acmeAdmin, acmePayment.id);
    otherPayment = await paid(other, 'other-user');
    otherRefundId = await refunded(otherAdmin, otherPayment.id);
  });

  afterAll(async () => {
    await harness?.close();
    await listener?.close();
  });

  /** Every table's row count and the sandbox's request count: what a refused request must not move. */
  const footprint = async (): Promise<{ tables: TableCounts; stripeCalls: number }> => ({
    tables: await tableCounts(pay.config.databaseUrl ?? 'no DATABASE_URL'),
    stripeCalls: sandbox.requests().length,
  });

  const expectUnchanged = async (before: Awaited<ReturnType<typeof footprint>>) => {
    const after = await footprint();
    expect(countChanges(before.tables, after.tables)).toEqual([]);
    expect(after.stripeCalls).toBe(before.stripeCalls);
  };

  const post = (key: IssuedApiKey, path: string, body?: object) => {
    const req = request(app)
      .post(path)
      .set('Authorization', `Bearer ${key.secret}`)
      .set('Idempotency-Key', newKey());
    return body === undefined ? req.send() : req.send(body);
  };
  const get = (key: IssuedApiKey, path: string) =>
    request(app).get(path).set('Authorization', `Bearer ${key.secret}`);

  const errorOf = (res: request.Response, status: number, code: string) => ({
    status,
    body: {
      error: expect.objectContaining({
        code,
        message: expect.any(String),
        request_id: res.headers['request-id'],
      }),
    },
  });

  describe('E3: mass assignment', () => {
    /** Fields pay owns: a client that sends them gets a 400 naming them, never an object shaped by them. */
    const OWNED = {
      status: 'succeeded',
      amount_refunded: 0,
      account_id: 'acc_00000000000000000000000000',
      created_at: '2020-01-01T00:00:00.000Z',
      livemode: true,
    };

    it.each([
      ['POST /payments', () => ['/api/v1/payments', paymentBody(acme, { user_id: 'e3-user' })] as const],
      ['POST /refunds', () => ['/api/v1/refunds', { payment_id: acmePayment.id, amount: 1 }] as const],
      [
        'POST /subscriptions/:id/cancel',
        () =>
          [`/api/v1/subscriptions/${acmePayment.subscription_id}/cancel`, { at_period_end: true }] as const,
      ],
      [
        'POST /subscriptions/:id/resume',
        () => [`/api/v1/subscriptions/${acmePayment.subscription_id}/resume`, {}] as const,
      ],
      [
        'POST /subscriptions/:id/payment-method',
        () =>
          [
            `/api/v1/subscriptions/${acmePayment.subscription_id}/payment-method`,
            { payment_method_id: 'pm_card_mastercard' },
          ] as const,
      ],
      ['POST /refunds/:id/approve', () => [`/api/v1/refunds/${newId('refund')}/approve`, {}] as const],
    ])(
      '%s refuses status, amount_refunded, account_id, created_at and livemode with a 400 naming them; nothing written',
      async (_route, make) => {
        const [path, valid] = make();
        const before = await footprint();
        const res = await post(acmeAdmin, path, { ...valid, ...OWNED });
        expect(summary(res)).toEqual(errorOf(res, 400, 'invalid_request'));
        const { message, param } = (res.body as { error: { message: string; param: string } }).error;
        expect(Object.keys(OWNED)).toContain(param);
        for (const field of Object.keys(OWNED)) {
          expect(message).toContain(field);
        }
        await expectUnchanged(before);
      },
    );

    // Were such a body taken as no body, `{"at_period_end": true}` sent as text/plain would cancel NOW and
    // the fields pay owns in it would never be checked.
    it('refuses a JSON body sent with another Content-Type instead of ignoring it', async () => {
      const paid = await postPayment(app, acme, paymentBody(acme, { user_id: 'e3-content-type' }));
      expect(paid.status).toBe(201);
      const subscriptionId = (paid.body as { subscription_id: string }).subscription_id;
      const before = await footprint();
      const res = await request(app)
        .post(`/api/v1/subscriptions/${subscriptionId}/cancel`)
        .set('Authorization', `Bearer ${acme.key.secret}`)
        .set('Idempotency-Key', newKey())
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ at_period_end: true, status: 'active' }));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: {
          code: 'invalid_request',
          message: expect.stringContaining('Content-Type: application/json'),
        },
      });
      // JSON in a charset the parser does not decode is no better (found by E1's fuzz).
      const utf16 = await request(app)
        .post(`/api/v1/subscriptions/${subscriptionId}/cancel`)
        .set('Authorization', `Bearer ${acme.key.secret}`)
        .set('Idempotency-Key', newKey())
        .set('Content-Type', 'application/json; charset=utf-16')
        .send('\u0000');
      expect(utf16.status).toBe(400);
      await expectUnchanged(before);
    });

    it('one owned field alone is refused too, each by name', async () => {
      const before = await footprint();
      for (const [field, value] of Object.entries(OWNED)) {
        const res = await post(acmeAdmin, '/api/v1/refunds', {
          payment_id: acmePayment.id,
          amount: 1,
          [field]: value,
        });
        expect(summary(res)).toMatchObject({
          status: 400,
          body: { error: { code: 'invalid_request', param: field } },
        });
      }
      await expectUnchanged(before);
    });
  });

  describe('E4: object-level authorization (BOLA)', () => {
    /** Every route that takes another account's object by id, as Acme's keys call it. */
    const attempts = (): [string, () => request.Test][] => [
      ['GET /payments/:id', () => get(acme.key, `/api/v1/payments/${otherPayment.id}`)],
      ['GET /refunds/:id', () => get(acme.key, `/api/v1/refunds/${otherRefundId}`)],
      [
        'GET /subscriptions/:id',
        () => get(acme.key, `/api/v1/subscriptions/${otherPayment.subscription_id}`),
      ],
      [
        'POST /refunds (payment_id)',
        () => post(acmeAdmin, '/api/v1/refunds', { payment_id: otherPayment.id }),
      ],
      ['POST /refunds/:id/approve', () => post(acmeAdmin, `/api/v1/refunds/${otherRefundId}/approve`)],
      [
        'POST /subscriptions/:id/cancel',
        () => post(acme.key, `/api/v1/subscriptions/${otherPayment.subscription_id}/cancel`, {}),
      ],
      [
        'POST /subscriptions/:id/resume',
        () => post(acme.key, `/api/v1/subscriptions/${otherPayment.subscription_id}/resume`, {}),
      ],
      [
        'POST /subscriptions/:id/payment-method',
        () =>
          post(acme.key, `/api/v1/subscriptions/${otherPayment.subscription_id}/payment-method`, {
            payment_method_id: 'pm_card_mastercard',
          }),
      ],
    ];
    /** The same routes on ids that never existed: the answer another account's id must not differ from. */
    const ghosts: Record<string, () => request.Test> = {
      'GET /payments/:id': () => get(acme.key, `/api/v1/payments/${newId('payment')}`),
      'GET /refunds/:id': () => get(acme.key, `/api/v1/refunds/${newId('refund')}`),
      'GET /subscriptions/:id': () => get(acme.key, `/api/v1/subscriptions/${newId('subscription')}`),
      'POST /refunds (payment_id)': () =>
        post(acmeAdmin, '/api/v1/refunds', { payment_id: newId('payment') }),
      'POST /refunds/:id/approve': () => post(acmeAdmin, `/api/v1/refunds/${newId('refund')}/approve`),
      'POST /subscriptions/:id/cancel': () =>
        post(acme.key, `/api/v1/subscriptions/${newId('subscription')}/cancel`, {}),
      'POST /subscriptions/:id/resume': () =>
        post(acme.key, `/api/v1/subscriptions/${newId('subscription')}/resume`, {}),
      'POST /subscriptions/:id/payment-method': () =>
        post(acme.key, `/api/v1/subscriptions/${newId('subscription')}/payment-method`, {
          payment_method_id: 'pm_card_mastercard',
        }),
    };

    it("answers 404 — the same as for an id that never existed — to every read and change of another account's objects; nothing written, nothing sent to Stripe", async () => {
      const before = await footprint();
      for (const [route, attempt] of attempts()) {
        const res = await attempt();
        const ghost = await (ghosts[route] as () => request.Test)();
        expect({ route, ...summary(res) }).toEqual({ route, ...errorOf(res, 404, 'not_found') });
        // Same code, type, message and param: nothing tells "not yours" from "does not exist".
        const strip = (r: request.Response) => {
          const { request_id: _id, message, ...rest } = (r.body as { error: Record<string, unknown> }).error;
          // The message names the id asked for, whichever it was.
          return {
            status: r.status,
            message: String(message).replace(/\b[a-z]+_[0-9a-z]{26}\b/g, '<id>'),
            ...rest,
          };
        };
        expect({ route, ...strip(res) }).toEqual({ route, ...strip(ghost) });
      }
      await expectUnchanged(before);
      // Other's objects are as they were.
      const subscription = await get(other.key, `/api/v1/subscriptions/${otherPayment.subscription_id}`);
      expect(summary(subscription)).toMatchObject({
        status: 200,
        body: { status: 'active', cancel_at_period_end: false },
      });
    });

    it("lists none of another account's objects, even by its end user's id", async () => {
      const payments = await get(acme.key, '/api/v1/payments?user_id=other-user');
      expect(summary(payments)).toMatchObject({ status: 200, body: { object: 'list', data: [] } });
      const subscriptions = await get(acme.key, '/api/v1/subscriptions?user_id=other-user');
      expect(summary(subscriptions)).toMatchObject({ status: 200, body: { object: 'list', data: [] } });
    });

    it('hands out ids that cannot be guessed from one another', async () => {
      const ids = [acmePayment.id, otherPayment.id];
      for (let i = 0; i < 3; i++) {
        const res = await postPayment(app, other, paymentBody(other, { user_id: `other-user-${i}` }));
        expect(res.status).toBe(201);
        ids.push((res.body as { id: string }).id);
      }
      // A time prefix then randomness: ids made in a row share no long run of their random part.
      const randomPart = (id: string) => id.slice(-16);
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [randomPart(ids[i - 1] as string), randomPart(ids[i] as string)];
        let common = 0;
        while (common < a.length && a[common] === b[common]) {
          common++;
        }
        expect(common).toBeLessThan(8);
      }
    });
  });

  describe('E5: function-level authorization (BFLA)', () => {
    it.each([
      [
        'POST /refunds',
        () => ['/api/v1/refunds', { payment_id: acmePayment.id, amount: 1 }, acmePayment.id] as const,
        'refund.create',
      ],
      [
        'POST /refunds/:id/approve',
        () => [`/api/v1/refunds/${acmeRefundId}/approve`, undefined, acmeRefundId] as const,
        'refund.approve',
      ],
    ])(
      '%s with a service key: 403, one audit row saying so, nothing else written or sent',
      async (_route, make, attempted) => {
        const [path, body, target] = make();
        const before = await footprint();
        const res = await post(acme.key, path, body);
        expect(summary(res)).toEqual(errorOf(res, 403, 'forbidden'));
        const after = await footprint();
        const changes = countChanges(before.tables, after.tables);
        expect(changes).toHaveLength(1);
        expect(changes[0]).toMatch(/audit/);
        expect(after.stripeCalls).toBe(before.stripeCalls);
        const audit = (await pay.store.repos.audit.list(acme.account.id, { limit: 100 })).data.filter(
          (e) => e.requestId === res.headers['request-id'],
        );
        expect(audit).toEqual([
          expect.objectContaining({
            action: 'refund.denied',
            actorType: 'api_key',
            actorId: acme.key.apiKey.id,
            targetId: target,
          }),
        ]);
        expect(JSON.stringify(audit[0])).toContain(attempted);
      },
    );
  });

  describe('E8: return_url', () => {
    const tricks = (): [string, string][] => [
      ['javascript:', `javascript:fetch('${listener.origin}/js')`],
      ['data:', `data:text/html,<img src="${listener.origin}/data">`],
      ['http: on a loopback origin not allowed', `http://127.0.0.1:1/${'x'}`],
      ['http: on a non-loopback origin', 'http://shop.example/back'],
      ['https: on the listener (scheme not allowed)', `${listener.origin.replace('http:', 'https:')}/back`],
      [
        'userinfo before the listener',
        `https://shop.example@${listener.origin.slice('http://'.length)}/back`,
      ],
      ['userinfo with a password', `${listener.origin.replace('http://', 'http://u:p@')}/back`],
      ['an allowed origin as a subdomain', `https://shop.example.127.0.0.1.nip.io/back`],
      ['an IDN look-alike (Cyrillic о)', 'https://shоp.example/back'],
      ['an IDN look-alike in punycode', 'https://xn--shp-ked.example/back'],
      ['a protocol-relative URL', `//${listener.origin.slice('http://'.length)}/back`],
      ['a fullwidth dot', 'https://shop。example.evil.example/back'],
    ];

    it('refuses every trick with a 400 naming return_url; nothing written, nothing sent, the listener never called', async () => {
      const before = await footprint();
      for (const [what, url] of tricks()) {
        const res = await postPayment(app, acme, paymentBody(acme, { user_id: 'e8-user', return_url: url }));
        expect({ what, ...summary(res) }).toEqual({
          what,
          status: 400,
          body: {
            error: expect.objectContaining({ code: 'invalid_request', param: 'return_url' }),
          },
        });
      }
      await expectUnchanged(before);
      expect(listener.hits).toEqual([]);
    });

    it('never fetches even an allowed return_url: it is only where the card holder is sent back to', async () => {
      const returnUrl = `${listener.origin}/back?order=7`;
      const res = await postPayment(
        app,
        acme,
        paymentBody(acme, {
          user_id: 'e8-3ds',
          payment_method_id: 'pm_card_threeDSecure2Required',
          return_url: returnUrl,
        }),
      );
      expect(summary(res)).toMatchObject({ status: 201, body: { status: 'requires_action' } });
      const paymentId = (res.body as { id: string }).id;
      const back = await request(app).get(`/api/v1/payments/${paymentId}/return`);
      expect(back.status).toBeGreaterThanOrEqual(300);
      expect(back.status).toBeLessThan(400);
      expect(String(back.headers.location)).toMatch(new RegExp(`^${listener.origin}/back\\?order=7&`));
      expect(listener.hits).toEqual([]);
    });
  });
});
