import type { Account, IssuedApiKey, Plan } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, ZPlanResponse, type TListPlansResponse, type TPlanResponse } from '../src/index.js';
import { openPostgresPay, summary } from './helpers.js';

const operator = { type: 'cli_operator', id: 'ops-test' } as const;

describe('plans (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let acme: { account: Account; key: IssuedApiKey; plans: Plan[] };
  let other: { account: Account; key: IssuedApiKey; plans: Plan[] };

  async function tenant(name: string, planCount: number) {
    const { accounts, plans } = pay.services;
    const account = await accounts.createAccount(name, operator);
    const key = await accounts.createApiKey(
      { accountId: account.id, name: 'svc', role: 'service' },
      operator,
    );
    const created: Plan[] = [];
    for (let i = 0; i < planCount; i++) {
      const interval = i % 2 === 0 ? 'month' : 'year';
      created.push(
        await plans.createPlan(
          { accountId: account.id, name: `${name} ${i}`, amount: 1000 + i, currency: 'usd', interval },
          operator,
        ),
      );
    }
    // Newest first, as lists answer: ids sort by creation time.
    created.sort((a, b) => (a.id < b.id ? 1 : -1));
    return { account, key, plans: created };
  }

  /** What the database holds for an account: its plans and its audit trail. */
  async function rowsOf(t: { account: Account }) {
    const { repos } = pay.store;
    return {
      plans: (await repos.plans.list(t.account.id, { limit: 100 })).data.map((p) => p.id),
      audit: (await repos.audit.list(t.account.id, { limit: 100 })).data.map((e) => e.id),
    };
  }

  const get = (path: string, key: IssuedApiKey) =>
    request(app).get(path).set('Authorization', `Bearer ${key.secret}`);

  beforeAll(async () => {
    database = await createTestDatabase('api_plans');
    pay = await openPostgresPay(database.url);
    app = createApp({ pay });
    acme = await tenant('Acme', 12);
    other = await tenant('Other', 1);
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  let rowsBefore: Awaited<ReturnType<typeof rowsOf>>[];
  beforeEach(async () => {
    rowsBefore = [await rowsOf(acme), await rowsOf(other)];
  });
  afterEach(async () => {
    // Reading plans writes nothing, whatever the answer.
    expect([await rowsOf(acme), await rowsOf(other)]).toEqual(rowsBefore);
  });

  const expected = (plan: Plan): TPlanResponse => ({
    id: plan.id,
    object: 'plan',
    name: plan.name,
    amount: plan.amount,
    currency: 'usd',
    interval: plan.interval,
    active: true,
    created: plan.createdAt.toISOString(),
  });

  describe('GET /api/v1/plans', () => {
    it('answers a list of the first 10 plans, newest first, in the documented shape', async () => {
      const res = await get('/api/v1/plans', acme.key);
      const body: TListPlansResponse = {
        object: 'list',
        data: acme.plans.slice(0, 10).map(expected),
        has_more: true,
      };
      expect(summary(res)).toEqual({ status: 200, body });
      for (const plan of body.data) {
        expect(ZPlanResponse.parse(plan)).toEqual(plan);
        expect(plan.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Number.isInteger(plan.amount)).toBe(true);
      }
    });

    it('pages with limit and starting_after, each plan once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const query = `limit=5${cursor === undefined ? '' : `&starting_after=${cursor}`}`;
        const res = await get(`/api/v1/plans?${query}`, acme.key);
        expect(res.status).toBe(200);
        const page = res.body as TListPlansResponse;
        seen.push(...page.data.map((p) => p.id));
        pages += 1;
        cursor = page.data.at(-1)?.id;
        if (!page.has_more) {
          break;
        }
      }
      expect({ pages, seen }).toEqual({ pages: 3, seen: acme.plans.map((p) => p.id) });
    });

    it('answers everything with limit=100, and one plan with limit=1', async () => {
      const all = await get('/api/v1/plans?limit=100', acme.key);
      expect(all.body).toMatchObject({ has_more: false, data: acme.plans.map(expected) });
      const one = await get('/api/v1/plans?limit=1', acme.key);
      expect(one.body).toEqual({ object: 'list', data: [expected(acme.plans[0] as Plan)], has_more: true });
    });

    it("shows a key only its own account's plans", async () => {
      const res = await get('/api/v1/plans', other.key);
      expect(summary(res)).toEqual({
        status: 200,
        body: { object: 'list', data: other.plans.map(expected), has_more: false },
      });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1e2', 'limit'],
      ['limit=010', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['starting_after=pay_123', 'starting_after'],
      ['starting_after=', 'starting_after'],
      ['expand=data', 'expand'],
    ])('refuses ?%s with a 400 naming %s', async (query, param) => {
      const res = await get(`/api/v1/plans?${query}`, acme.key);
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: expect.stringContaining(`'${param}'`),
            param,
            request_id: res.headers['request-id'],
          },
        },
      });
    });
  });

  describe('GET /api/v1/plans/:id', () => {
    it('answers one of the account’s plans', async () => {
      const plan = acme.plans[3] as Plan;
      const res = await get(`/api/v1/plans/${plan.id}`, acme.key);
      expect(summary(res)).toEqual({ status: 200, body: expected(plan) });
    });

    it("answers another account's plan with the same 404 as a plan that never existed", async () => {
      const theirs = other.plans[0] as Plan;
      const res = await get(`/api/v1/plans/${theirs.id}`, acme.key);
      const notFound = (id: string, requestId: unknown) => ({
        status: 404,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'not_found',
            message: `No such plan: ${id}.`,
            param: 'id',
            request_id: requestId,
          },
        },
      });
      expect(summary(res)).toEqual(notFound(theirs.id, res.headers['request-id']));
      const ghostId = `pln_${'0'.repeat(26)}`;
      const ghost = await get(`/api/v1/plans/${ghostId}`, acme.key);
      expect(summary(ghost)).toEqual(notFound(ghostId, ghost.headers['request-id']));
      // The owner still sees it.
      await get(`/api/v1/plans/${theirs.id}`, other.key).expect(200);
    });

    it('refuses an id that is not a plan id with a 400', async () => {
      const res = await get('/api/v1/plans/price_1Nabc', acme.key);
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: "Invalid path parameter 'id': expected a plan id (pln_…)",
            param: 'id',
            request_id: res.headers['request-id'],
          },
        },
      });
    });

    it('needs a key', async () => {
      await request(app)
        .get(`/api/v1/plans/${(acme.plans[0] as Plan).id}`)
        .expect(401);
    });
  });
});
