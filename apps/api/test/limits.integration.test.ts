import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IssuedApiKey } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { API_V1_ROUTES } from '../src/routes/catalog.js';
import { countChanges, tableCounts, type TableCounts } from './battery/support/table-counts.js';
import { newIdempotencyKey, openPaymentsHarness, type PaymentsHarness, type TestSandbox } from './helpers.js';

/*
 * RELIABILITY.md E2 (bodies over the size limit, JSON nested past reason, page sizes over the maximum)
 * and E9 (an internal error on a real route) on every route they apply to, on PostgreSQL with pay's
 * in-process Stripe sandbox. Each refusal is checked against every table's row count and the sandbox's
 * request log; how long the event loop stalled while refusing is printed, never asserted.
 */

const OPERATOR = { type: 'cli_operator', id: 'ops-limits' } as const;
const BODY_LIMIT = 100 * 1024;

/** `/api/v1/payments/:id` → a path with a well-formed id of the right prefix (the id is never found). */
function concretePath(path: string): string {
  const prefixes: Record<string, string> = {
    payments: 'pay',
    refunds: 'rfd',
    subscriptions: 'sub',
    plans: 'pln',
  };
  const resource = path.split('/')[1] ?? '';
  return `/api/v1${path.replace(':id', `${prefixes[resource] ?? 'x'}_0000000000000000000000`)}`;
}

const POST_ROUTES = API_V1_ROUTES.map((r) => r.spec)
  .filter((spec) => spec.method === 'post' && spec.auth === 'bearer')
  .map((spec) => concretePath(spec.path));
const LIST_ROUTES = ['/api/v1/plans', '/api/v1/payments?user_id=u', '/api/v1/subscriptions?user_id=u'];

/** Posts `body` to every route in turn (one at a time, so a stall is one rejection's, not a pile-up's). */
async function eachRoute(post: (path: string) => Promise<request.Response>): Promise<request.Response[]> {
  const answers: request.Response[] = [];
  for (const path of POST_ROUTES) {
    answers.push(await post(path));
  }
  return answers;
}

/** Runs `fn` while sampling the event loop's delay; returns its max in ms alongside fn's value. */
async function withLoopDelay<T>(fn: () => Promise<T>): Promise<{ value: T; maxDelayMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    const value = await fn();
    return { value, maxDelayMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

/** `{"a":{"a":…}}` or `[[…]]`, `depth` levels deep. */
function nested(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

describe('E2 limits and E9 internal errors on every route', () => {
  let harness: PaymentsHarness | undefined;
  let pay: Pay;
  let app: Express;
  let sandbox: TestSandbox;
  let admin: IssuedApiKey;

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_limits', { PAY_WORKER: 'false' });
    ({ pay, app, sandbox } = harness);
    admin = await pay.services.accounts.createApiKey(
      { accountId: harness.acme.account.id, name: 'limits-admin', role: 'admin' },
      OPERATOR,
    );
  });

  afterAll(async () => {
    await harness?.close();
  });

  const footprint = async (): Promise<{ tables: TableCounts; stripeCalls: number }> => ({
    tables: await tableCounts(pay.config.databaseUrl ?? 'no DATABASE_URL'),
    stripeCalls: sandbox.requests().length,
  });

  const postRaw = (path: string, body: string) =>
    request(app)
      .post(path)
      .set('Authorization', `Bearer ${admin.secret}`)
      .set('Idempotency-Key', newIdempotencyKey())
      .set('Content-Type', 'application/json')
      .send(body);

  const errorShape = (status: number, code: string) => ({
    status,
    error: expect.objectContaining({ code, message: expect.any(String), request_id: expect.any(String) }),
  });

  it(`E2: answers a body over ${BODY_LIMIT / 1024} kb with a 413 on every POST route, writing nothing`, async () => {
    const before = await footprint();
    const oversized = JSON.stringify({ user_id: 'x'.repeat(BODY_LIMIT) });
    const { value: answers, maxDelayMs } = await withLoopDelay(() =>
      eachRoute((path) => postRaw(path, oversized)),
    );
    for (const [i, res] of answers.entries()) {
      expect({
        path: POST_ROUTES[i],
        ...errorShape(res.status, (res.body as { error: { code: string } }).error.code),
      }).toEqual({ path: POST_ROUTES[i], ...errorShape(413, 'payload_too_large') });
    }
    console.log(
      `[E2] ${answers.length} bodies of ${(oversized.length / 1024).toFixed(0)} kb refused; event loop max delay ${maxDelayMs.toFixed(1)} ms`,
    );
    const after = await footprint();
    expect(countChanges(before.tables, after.tables)).toEqual([]);
    expect(after.stripeCalls).toBe(before.stripeCalls);
  });

  it.each(['object', 'array'] as const)(
    'E2: answers JSON nested 15,000 levels deep (%s) with a 400 on every POST route, writing nothing',
    async (kind) => {
      const before = await footprint();
      const body = nested(15_000, kind);
      expect(body.length).toBeLessThan(BODY_LIMIT);
      const { value: answers, maxDelayMs } = await withLoopDelay(() =>
        eachRoute((path) => postRaw(path, body)),
      );
      for (const [i, res] of answers.entries()) {
        expect({
          path: POST_ROUTES[i],
          status: res.status,
          code: (res.body as { error?: { code?: string } }).error?.code,
        }).toEqual({
          path: POST_ROUTES[i],
          status: 400,
          code: 'invalid_request',
        });
      }
      console.log(
        `[E2] ${answers.length} ${kind}s nested 15,000 deep refused; event loop max delay ${maxDelayMs.toFixed(1)} ms`,
      );
      const after = await footprint();
      expect(countChanges(before.tables, after.tables)).toEqual([]);
      expect(after.stripeCalls).toBe(before.stripeCalls);
    },
  );

  it.each(LIST_ROUTES)('E2: answers a page size over 100 with a 400 naming `limit` on %s', async (path) => {
    for (const limit of ['101', '1000', '1e9', '99999999999999999999']) {
      const res = await request(app)
        .get(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}`)
        .set('Authorization', `Bearer ${admin.secret}`);
      expect({ limit, status: res.status, body: res.body as unknown }).toEqual({
        limit,
        status: 400,
        body: { error: expect.objectContaining({ code: 'invalid_request', param: 'limit' }) },
      });
    }
  });

  it('E9: a database failure on a real route is a generic 500 with a request id: no SQL, paths or stack', async () => {
    const url = pay.config.databaseUrl ?? 'no DATABASE_URL';
    const psql = (sql: string) => execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
    // A real fault under the real route: the table pay reads is gone for a moment.
    psql('ALTER TABLE pay.plans RENAME TO plans_away');
    let res: request.Response;
    try {
      res = await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${admin.secret}`);
    } finally {
      psql('ALTER TABLE pay.plans_away RENAME TO plans');
    }
    const text = JSON.stringify(res.body);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 500,
      body: {
        error: {
          type: 'api_error',
          code: 'internal_error',
          message: expect.any(String),
          request_id: res.headers['request-id'],
        },
      },
    });
    for (const leak of [
      'plans',
      'relation',
      'select',
      'SELECT',
      '/work',
      'node_modules',
      '.ts',
      '.js',
      ' at ',
      'postgres',
    ]) {
      expect({ leak, found: text.includes(leak) }).toEqual({ leak, found: false });
    }
    // helmet's headers are on every answer, errors included.
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringContaining('max-age='),
      'content-security-policy': expect.any(String),
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
    // And the route works again once the table is back.
    const again = await request(app).get('/api/v1/plans').set('Authorization', `Bearer ${admin.secret}`);
    expect(again.status).toBe(200);
  });
});
