import { generateApiKeySecret, type Account, type IssuedApiKey } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { STRIPE_WEBHOOK_PATH, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import {
  AUTHENTICATION_FAILED_MESSAGE,
  authenticated,
  createApp,
  createMetrics,
  requireRole,
  type HttpMetrics,
} from '../src/index.js';
import { captureLogs, openPostgresPay, summary } from './helpers.js';

const operator = { type: 'cli_operator', id: 'ops-test' } as const;

describe('API key authentication (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  const logs = captureLogs();
  let account: Account;
  let service: IssuedApiKey;
  let admin: IssuedApiKey;
  let revoked: IssuedApiKey;

  beforeAll(async () => {
    database = await createTestDatabase('api_auth');
    pay = await openPostgresPay(database.url);
    metrics = createMetrics();
    app = createApp({
      pay,
      metrics,
      logger: logs.logger,
      routes: (a) => {
        a.get('/api/v1/test/whoami', (_req, res) => {
          const { apiKey, accountId, role } = authenticated(res);
          res.json({ key: apiKey.id, account: accountId, role });
        });
        a.post('/api/v1/test/admin-only', requireRole('admin', pay.services.authenticator), (_req, res) => {
          res.json({ ok: true });
        });
      },
    });
    const { accounts } = pay.services;
    account = await accounts.createAccount('Acme', operator);
    service = await accounts.createApiKey({ accountId: account.id, name: 'svc', role: 'service' }, operator);
    admin = await accounts.createApiKey({ accountId: account.id, name: 'ops', role: 'admin' }, operator);
    revoked = await accounts.createApiKey({ accountId: account.id, name: 'old', role: 'admin' }, operator);
    await accounts.revokeApiKey(account.id, revoked.apiKey.id, operator);
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  const auditActions = async () =>
    (await pay.store.repos.audit.list(account.id, { limit: 100 })).data.map((e) => e.action);

  describe('refusals', () => {
    const cases: [string, () => Record<string, string>, string][] = [
      ['no Authorization header', () => ({}), 'missing_header'],
      ['an empty header', () => ({ Authorization: '' }), 'missing_header'],
      [
        'another scheme',
        () => ({ Authorization: `Basic ${btoa(`${service.secret}:`)}` }),
        'malformed_header',
      ],
      ['the key without a scheme', () => ({ Authorization: service.secret }), 'malformed_header'],
      ['a scheme without a key', () => ({ Authorization: 'Bearer' }), 'malformed_header'],
      ['two tokens', () => ({ Authorization: `Bearer ${service.secret} extra` }), 'malformed_header'],
      ['a key of the wrong shape', () => ({ Authorization: 'Bearer psk_short' }), 'malformed_key'],
      ['a Stripe key', () => ({ Authorization: 'Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc' }), 'malformed_key'],
      ['an unknown key', () => ({ Authorization: `Bearer ${generateApiKeySecret()}` }), 'unknown_key'],
      ['a revoked key', () => ({ Authorization: `Bearer ${revoked.secret}` }), 'unknown_key'],
    ];

    it.each(cases)('answers %s with the same 401, writing nothing', async (_what, headers, reason) => {
      // Read as a number at once: prom-client hands out its live value objects.
      const failures = async () =>
        (await metrics.authFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
      const before = await failures();
      const auditBefore = await auditActions();

      const res = await request(app).get('/api/v1/plans').set(headers());
      expect(summary(res)).toEqual({
        status: 401,
        body: {
          error: {
            type: 'authentication_error',
            code: 'unauthenticated',
            message: AUTHENTICATION_FAILED_MESSAGE,
            request_id: res.headers['request-id'],
          },
        },
      });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="pay"');
      expect(res.text).not.toContain('psk_');
      expect(await failures()).toBe(before + 1);
      expect(await auditActions()).toEqual(auditBefore);
    });

    it('guards every /api/v1 path, known or not, before saying whether it exists', async () => {
      const unknown = await request(app).get('/api/v1/no-such-thing');
      expect(unknown.status).toBe(401);
      const known = await request(app)
        .get('/api/v1/no-such-thing')
        .set('Authorization', `Bearer ${service.secret}`);
      expect(known.status).toBe(404);
    });

    it('never logs the presented key', async () => {
      await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${service.secret}`).expect(200);
      const unknown = generateApiKeySecret();
      await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${unknown}`).expect(401);
      const text = await logs.text();
      expect(text).toContain('"reason":"unknown_key"');
      for (const secret of [service.secret, unknown]) {
        expect(text).not.toContain(secret.slice(4));
      }
    });
  });

  describe('an accepted key', () => {
    it('reaches the route with its key, account and role on res.locals', async () => {
      const res = await request(app)
        .get('/api/v1/test/whoami')
        .set('Authorization', `Bearer ${service.secret}`);
      expect(summary(res)).toEqual({
        status: 200,
        body: { key: service.apiKey.id, account: account.id, role: 'service' },
      });
    });

    it('is accepted whatever the case of the scheme, and with extra spaces', async () => {
      for (const header of [
        `bearer ${admin.secret}`,
        `BEARER   ${admin.secret}`,
        `Bearer ${admin.secret} `,
      ]) {
        const res = await request(app).get('/api/v1/test/whoami').set('Authorization', header);
        expect(summary(res)).toEqual({
          status: 200,
          body: { key: admin.apiKey.id, account: account.id, role: 'admin' },
        });
      }
    });

    it('leaves the probes and metrics open', async () => {
      await request(app).get('/healthz').expect(200);
      await request(app).get('/readyz').expect(200);
      await request(app).get('/metrics').expect(200);
    });
  });

  describe('the Stripe webhook route', () => {
    it('reaches the route without a key, and nothing else near it', async () => {
      const withWebhook = createApp({ pay });
      // The route itself answers (its signature check), not the API key check.
      const res = await request(withWebhook).post(STRIPE_WEBHOOK_PATH).send({ id: 'evt_1' });
      expect(summary(res)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', message: 'The request has no Stripe-Signature header.' } },
      });
      // The exemption is exact: other methods and other spellings of the path still need a key.
      await request(withWebhook).get(STRIPE_WEBHOOK_PATH).expect(401);
      await request(withWebhook).post('/api/v1/Webhooks/Stripe').send({}).expect(401);
      await request(withWebhook).post(`${STRIPE_WEBHOOK_PATH}/`).send({}).expect(401);
      await request(withWebhook).post('/api/v1/webhooks/stripe-other').send({}).expect(401);
    });
  });

  describe('the 3-D Secure return route', () => {
    // Well-formed and unknown: the route answers it with a 404, which shows the key check let it by.
    const id = `pay_${'0'.repeat(26)}`;

    it('takes no key for a well-formed payment id, whatever the query', async () => {
      for (const path of [
        `/api/v1/payments/${id}/return`,
        `/api/v1/payments/${id}/return?redirect_status=x`,
      ]) {
        const res = await request(app).get(path);
        expect(summary(res)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      }
    });

    it.each([
      ['another method', 'post', `/api/v1/payments/${id}/return`],
      ['a malformed id', 'get', '/api/v1/payments/pay_123/return'],
      ['another kind of id', 'get', `/api/v1/payments/pln_${'0'.repeat(26)}/return`],
      ['an upper-case id', 'get', `/api/v1/payments/${id.toUpperCase()}/return`],
      ['an empty id', 'get', '/api/v1/payments//return'],
      ['an encoded slash in the id', 'get', `/api/v1/payments/${id}%2Freturn/return`],
      ['a trailing slash', 'get', `/api/v1/payments/${id}/return/`],
      ['another case', 'get', `/api/v1/Payments/${id}/Return`],
      ['a longer path', 'get', `/api/v1/payments/${id}/return/more`],
      ['the payment itself', 'get', `/api/v1/payments/${id}`],
    ] as const)('still needs a key for %s', async (_what, method, path) => {
      const res = await request(app)[method](path);
      expect(res.status).toBe(401);
    });
  });

  describe('requireRole', () => {
    it('refuses a service key with a 403 and audits the attempt with the key and the request id', async () => {
      const res = await request(app)
        .post('/api/v1/test/admin-only')
        .set('Authorization', `Bearer ${service.secret}`)
        .send({});
      expect(summary(res)).toEqual({
        status: 403,
        body: {
          error: {
            type: 'permission_error',
            code: 'forbidden',
            message: 'This operation needs an API key with the admin role.',
            request_id: res.headers['request-id'],
          },
        },
      });
      const [entry] = (await pay.store.repos.audit.list(account.id, { limit: 1 })).data;
      expect(entry).toMatchObject({
        accountId: account.id,
        actorType: 'api_key',
        actorId: service.apiKey.id,
        action: 'api_key.forbidden',
        targetId: service.apiKey.id,
        details: { operation: 'POST /api/v1/test/admin-only', role: 'service', required_role: 'admin' },
        requestId: res.headers['request-id'],
      });
    });

    it('lets an admin key through and writes nothing', async () => {
      const before = await auditActions();
      const res = await request(app)
        .post('/api/v1/test/admin-only')
        .set('Authorization', `Bearer ${admin.secret}`)
        .send({});
      expect(summary(res)).toEqual({ status: 200, body: { ok: true } });
      expect(await auditActions()).toEqual(before);
    });

    it('is never reached without a key: the 401 comes first and nothing is audited', async () => {
      const before = await auditActions();
      await request(app).post('/api/v1/test/admin-only').send({}).expect(401);
      expect(await auditActions()).toEqual(before);
    });
  });
});
