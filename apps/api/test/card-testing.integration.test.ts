import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { SANDBOX_SECRET_KEY, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/index.js';
import {
  createTenant,
  newIdempotencyKey,
  openPostgresPay,
  paymentBody,
  paymentRowsOf,
  postPayment,
  sandboxOf,
  type TestSandbox,
  type TestTenant,
} from './helpers.js';

/*
 * RELIABILITY.md E7, card testing: an end user whose payments keep being declined is refused (429 with
 * Retry-After) before pay writes anything or asks Stripe, with one count shared by every API process.
 */

const LIMIT = 3;
const env = { PAY_DECLINE_LIMIT: String(LIMIT), PAY_RETURN_URL_ORIGINS: 'https://shop.example' };

describe('card testing: declined payments per end user (PostgreSQL, two API instances)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let otherPay: Pay;
  let app: Express;
  let otherApp: Express;
  let sandbox: TestSandbox;
  let acme: TestTenant;

  beforeAll(async () => {
    database = await createTestDatabase('api_card_testing');
    pay = await openPostgresPay(database.url, env);
    sandbox = await sandboxOf(pay);
    // A second instance over the same database and Stripe: what a second API process is.
    otherPay = await openPostgresPay(database.url, {
      ...env,
      STRIPE_API_BASE: sandbox.url,
      STRIPE_SECRET_KEY: SANDBOX_SECRET_KEY,
    });
    app = createApp({ pay });
    otherApp = createApp({ pay: otherPay });
    acme = await createTenant(pay, 'Acme', [1500]);
  });

  afterAll(async () => {
    await otherPay?.close();
    await pay?.close();
    await database?.drop();
  });

  const declined = (userId: string) =>
    paymentBody(acme, { user_id: userId, payment_method_id: 'pm_card_chargeDeclined' });

  it('refuses the next payment of an end user declined `limit` times, across instances, writing nothing', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      statuses.push((await postPayment(i % 2 === 0 ? app : otherApp, acme, declined('mallory'))).status);
    }
    expect(statuses).toEqual([402, 402, 402]);

    const before = await paymentRowsOf(pay, acme.account.id);
    const stripeCallsBefore = sandbox.requests().length;
    const refused = await postPayment(otherApp, acme, paymentBody(acme, { user_id: 'mallory' }));
    expect({ status: refused.status, body: refused.body as unknown }).toEqual({
      status: 429,
      body: {
        error: expect.objectContaining({
          type: 'rate_limit_error',
          code: 'rate_limited',
          message: expect.stringMatching(
            /^Too many declined payments for this user: 3 are allowed in 60 minutes/,
          ),
        }),
      },
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await paymentRowsOf(pay, acme.account.id)).toEqual(before);
    expect(sandbox.requests().length).toBe(stripeCallsBefore);
  });

  it('leaves the account’s other end users alone', async () => {
    for (let i = 0; i < LIMIT; i++) {
      await postPayment(app, acme, declined('trudy'));
    }
    const alice = await postPayment(app, acme, paymentBody(acme, { user_id: 'alice' }));
    expect(alice.status).toBe(201);
  });

  it('replays a declined attempt under its key without counting it again', async () => {
    const key = newIdempotencyKey();
    const first = await postPayment(app, acme, declined('victor'), key);
    const replays = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      replays.push(await postPayment(otherApp, acme, declined('victor'), key));
    }
    expect(replays.map((res) => [res.status, res.headers['idempotent-replayed']])).toEqual(
      Array(LIMIT + 2).fill([402, 'true']),
    );
    expect(replays.every((res) => JSON.stringify(res.body) === JSON.stringify(first.body))).toBe(true);
    // One decline counted: the end user may still pay.
    const paid = await postPayment(app, acme, paymentBody(acme, { user_id: 'victor' }));
    expect(paid.status).toBe(201);
  });

  it('documents the refusal in the OpenAPI document', async () => {
    const document = await request(app).get('/api/v1/openapi.json');
    const operation = (
      document.body as { paths: Record<string, { post?: { description?: string; responses?: object } }> }
    ).paths['/api/v1/payments']?.post;
    expect(operation?.description).toMatch(/PAY_DECLINE_LIMIT/);
    expect(Object.keys(operation?.responses ?? {})).toContain('429');
  });
});
