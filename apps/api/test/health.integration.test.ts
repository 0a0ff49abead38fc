import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import type { Pay } from '@pay/runtime';
import request from 'supertest';
import { createApp, createMetrics } from '../src/index.js';
import { makeTempDir, openEmbeddedPay, openPostgresPay } from './helpers.js';

const REQUEST_ID = /^req_[0-9a-f]{24}$/;

describe('probes on embedded pay (PGlite)', () => {
  const temp = makeTempDir();
  let pay: Pay;
  beforeAll(async () => {
    pay = await openEmbeddedPay(temp.dir);
  });
  afterAll(async () => {
    await pay.close();
    temp.remove();
  });

  it('GET /healthz answers 200 while the process is up', async () => {
    const res = await request(createApp({ pay })).get('/healthz');
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    expect(res.headers['request-id']).toMatch(REQUEST_ID);
  });

  it('GET /readyz answers 200 with the mode, the database and the migrations', async () => {
    const res = await request(createApp({ pay })).get('/readyz');
    const { total } = await pay.db.migrationState();
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: {
        status: 'ready',
        mode: 'embedded (SANDBOX)',
        database: 'ok',
        migrations: { applied: total, total },
      },
    });
    expect(total).toBeGreaterThan(0);
  });

  it('GET /metrics exposes default metrics and requests by matched route, never the raw URL', async () => {
    const metrics = createMetrics();
    const app = createApp({ pay, metrics });
    await request(app).get('/healthz').expect(200);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/readyz').expect(200);
    await request(app).get('/no/such/4242424242424242').expect(404);
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toContain('http_requests_total{method="GET",route="/healthz",status="200"} 2');
    expect(text).toContain('http_requests_total{method="GET",route="/readyz",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status="200"\} \d/,
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2',
    );
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toContain('/no/such');
  });
});

describe('readiness when the database is gone', () => {
  it('answers 503 in the error shape once the embedded database is closed', async () => {
    const temp = makeTempDir();
    try {
      const pay = await openEmbeddedPay(temp.dir);
      await pay.close();
      const res = await request(createApp({ pay })).get('/readyz');
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 503,
        body: {
          error: {
            type: 'api_error',
            code: 'dependency_unavailable',
            message: 'The database is unavailable.',
            request_id: res.headers['request-id'],
            retryable: true,
          },
        },
      });
    } finally {
      temp.remove();
    }
  });

  it('answers 503 when PostgreSQL is unreachable', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const pay = await openPostgresPay('postgres://postgres@127.0.0.1:1/pay', { PAY_MIGRATE: 'false' });
    try {
      const res = await request(createApp({ pay })).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'dependency_unavailable', retryable: true } });
    } finally {
      await pay.close();
    }
  });
});

describe('probes on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('api_probes');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('GET /readyz answers 503 while migrations are pending', async () => {
    const pay = await openPostgresPay(database.url, { PAY_MIGRATE: 'false' });
    try {
      const res = await request(createApp({ pay })).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        error: {
          code: 'dependency_unavailable',
          message: expect.stringMatching(
            /^The database schema is not current: 0 of \d+ migrations applied\.$/,
          ),
        },
      });
    } finally {
      await pay.close();
    }
  });

  it('GET /readyz answers 200 once migrated', async () => {
    const pay = await openPostgresPay(database.url);
    try {
      const res = await request(createApp({ pay })).get('/readyz');
      const { total } = await pay.db.migrationState();
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 200,
        body: {
          status: 'ready',
          mode: 'postgres (SANDBOX)',
          database: 'ok',
          migrations: { applied: total, total },
        },
      });
    } finally {
      await pay.close();
    }
  });

  it('GET /readyz answers 503 once the pool is closed', async () => {
    const pay = await openPostgresPay(database.url);
    await pay.close();
    const res = await request(createApp({ pay })).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'dependency_unavailable' } });
  });
});
