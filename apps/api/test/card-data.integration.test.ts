import { createHmac } from 'node:crypto';
import type { IssuedApiKey } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { STRIPE_WEBHOOK_PATH, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { authenticated, createApp, SEND_PAYMENT_METHOD_INSTEAD } from '../src/index.js';
import { captureLogs, openPostgresPay, summary } from './helpers.js';

const operator = { type: 'cli_operator', id: 'ops-test' } as const;

/** Luhn-valid test PANs, as RELIABILITY.md F1 sends them; none may reach a handler or a log line. */
const CANARIES = ['4242424242424242', '5555555555554444', '378282246310005'];

describe('card data is refused (RELIABILITY.md F1)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let key: IssuedApiKey;
  const logs = captureLogs();
  const handled: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('api_card_data');
    pay = await openPostgresPay(database.url);
    app = createApp({
      pay,
      logger: logs.logger,
      routes: (a) => {
        a.post('/api/v1/test/echo', (req, res) => {
          handled.push(req.path);
          res.json({ account: authenticated(res).accountId });
        });
      },
    });
    const account = await pay.services.accounts.createAccount('Acme', operator);
    key = await pay.services.accounts.createApiKey(
      { accountId: account.id, name: 'svc', role: 'service' },
      operator,
    );
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  beforeEach(() => {
    handled.length = 0;
  });

  const post = (path = '/api/v1/test/echo') =>
    request(app).post(path).set('Authorization', `Bearer ${key.secret}`);

  it.each([
    ['a top-level field', { note: '4242424242424242' }, 'note'],
    ['a nested field, spaced', { metadata: { note: 'card 4242 4242 4242 4242 thanks' } }, 'metadata[note]'],
    ['an array element, dashed', { items: [{ ref: 'x' }, { ref: '5555-5555-5555-4444' }] }, 'items[1][ref]'],
    ['a JSON number', { amount: 378282246310005 }, 'amount'],
    ['a key', { metadata: { '4242424242424242': 'x' } }, 'metadata[4242424242424242]'],
  ])('refuses a PAN in %s with a 400 naming the field, not the value', async (_what, body, param) => {
    const res = await post().send(body);
    expect(summary(res)).toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_request',
          message: `The body parameter '${param}' looks like a card number. ${SEND_PAYMENT_METHOD_INSTEAD}`,
          param,
          request_id: res.headers['request-id'],
        },
      },
    });
    expect(handled).toEqual([]);
  });

  it('refuses a PAN in the query string and in a header', async () => {
    const query = await post('/api/v1/test/echo?note=4242%204242%204242%204242').send({});
    expect(summary(query)).toMatchObject({ status: 400, body: { error: { param: 'note' } } });
    expect((query.body as { error: { message: string } }).error.message).toMatch(
      /^The query parameter 'note'/,
    );
    const header = await post().set('X-Note', '5555555555554444').send({});
    expect(summary(header)).toMatchObject({ status: 400, body: { error: { param: 'x-note' } } });
    expect(handled).toEqual([]);
  });

  it.each([['card'], ['cvc'], ['cvv'], ['card_number']])(
    'refuses a %s field anywhere in the body, whatever it holds',
    async (field) => {
      const res = await post().send({ payment: { [field]: { exp_month: 12 } } });
      expect(summary(res)).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            param: `payment[${field}]`,
            message: `The body parameter 'payment[${field}]' is a card data field. ${SEND_PAYMENT_METHOD_INSTEAD}`,
          },
        },
      });
      expect(handled).toEqual([]);
    },
  );

  it('refuses before authentication: no key is looked up for a request carrying a PAN', async () => {
    const res = await request(app).post('/api/v1/test/echo').send({ note: '4242424242424242' });
    expect(summary(res)).toMatchObject({ status: 400, body: { error: { param: 'note' } } });
  });

  it('lets ordinary requests through: ids, amounts, timestamps, the Authorization header', async () => {
    const res = await post().set('Idempotency-Key', '4f0c2a9e-8d1b-4c3e-9a7f-123456789012').send({
      plan_id: 'pln_01hzz0000000000000000000000',
      payment_method_id: 'pm_1PqRsTuVwXyZ0123456789AB',
      amount: 1500,
      created: 1_795_682_478_874,
      at: '2026-11-26T12:00:00.000Z',
      order: '1234567890123',
    });
    expect(summary(res)).toEqual({ status: 200, body: { account: key.apiKey.accountId } });
    expect(handled).toEqual(['/api/v1/test/echo']);
  });

  it("does not check Stripe's signed webhook deliveries", async () => {
    // Signed as Stripe signs, with the secret pay gave its in-process sandbox.
    const [secret = ''] = (await pay.stripe()).webhookSecrets;
    const t = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      id: 'evt_card_data_exempt',
      object: 'event',
      type: 'customer.updated',
      created: t,
      livemode: false,
      api_version: null,
      data: {
        object: { id: 'cus_1', object: 'customer', card: { fingerprint: 'x' }, note: '4242424242424242' },
      },
    });
    const signature = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
    const res = await request(app)
      .post(STRIPE_WEBHOOK_PATH)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', `t=${t},v1=${signature}`)
      .send(body);
    expect(summary(res)).toEqual({ status: 200, body: { received: true } });
    const stored = await pay.store.repos.webhookEvents.findByStripeId('evt_card_data_exempt');
    expect(stored?.payload).toBe(body);
  });

  it('writes no canary to any log line, access or error', async () => {
    for (const pan of CANARIES) {
      await post(`/api/v1/test/echo?q=${pan}`)
        .set('X-Pan', pan)
        .send({ deep: [{ pan }], [pan]: 1 });
    }
    // An unauthenticated request, and one that fails JSON parsing with a PAN inside.
    await request(app).post('/api/v1/test/echo').send({ n: CANARIES[0] });
    await post().set('Content-Type', 'application/json').send(`{"n": "${CANARIES[1]}", oops}`);
    const text = await logs.text();
    expect(text).toContain('"status":400');
    for (const pan of CANARIES) {
      expect(text).not.toContain(pan);
    }
  });
});
