import { ValidationError } from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/index.js';
import { captureLogs, makeTempDir, openEmbeddedPay } from './helpers.js';

describe('logging', () => {
  const temp = makeTempDir();
  let pay: Pay;
  beforeAll(async () => {
    pay = await openEmbeddedPay(temp.dir);
  });
  afterAll(async () => {
    await pay.close();
    temp.remove();
  });

  function appWithLogs(): { app: Express; logs: ReturnType<typeof captureLogs> } {
    const logs = captureLogs();
    const app = createApp({
      pay,
      logger: logs.logger,
      routes: (a) => {
        a.post('/test/echo', (req, res) => {
          res.json({ received: true });
        });
        a.get('/test/crash', () => {
          throw new Error('card 4242424242424242 broke postgres://pay:hunter2@db/pay');
        });
        a.get('/test/invalid', () => {
          throw new ValidationError('bad input', { param: 'amount' });
        });
      },
    });
    return { app, logs };
  }

  it('writes one access line per request: method, path, route, status, duration, request id', async () => {
    const { app, logs } = appWithLogs();
    const res = await request(app).get('/healthz?verbose=1');
    expect(await logs.lines()).toEqual([
      {
        level: 'info',
        message: 'request',
        requestId: res.headers['request-id'],
        method: 'GET',
        path: '/healthz',
        route: '/healthz',
        status: 200,
        durationMs: expect.any(Number),
        timestamp: expect.any(String),
      },
    ]);
  });

  it('never logs the Authorization header, cookies, the query string or the body', async () => {
    const { app, logs } = appWithLogs();
    await request(app)
      .post('/test/echo?api_key=psk_query_secret')
      .set('Authorization', 'Bearer psk_test_4f9a0b1c2d3e4f5a')
      .set('Cookie', 'session=cookie-secret')
      .send({ password: 'body-secret', note: 'hello' })
      .expect(200);
    await request(app).get('/nope').set('Authorization', 'Basic dXNlcjpwYXNzd29yZA==').expect(404);
    const text = await logs.text();
    expect(text).toContain('"path":"/test/echo"');
    for (const secret of [
      'psk_',
      '4f9a0b1c2d3e4f5a',
      'Bearer',
      'dXNlcjpwYXNzd29yZA',
      'cookie-secret',
      'body-secret',
      'hello',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('logs an unknown error once, with its stack and the request id, redacted', async () => {
    const { app, logs } = appWithLogs();
    const res = await request(app).get('/test/crash').expect(500);
    const lines = await logs.lines();
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      message: 'unhandled error',
      requestId: res.headers['request-id'],
      method: 'GET',
      path: '/test/crash',
      error: {
        name: 'Error',
        message: 'card [REDACTED] broke postgres://pay:[REDACTED]@db/pay',
        stack: expect.stringContaining('logging.integration.test.ts'),
      },
    });
    const text = await logs.text();
    expect(text).not.toContain('4242424242424242');
    expect(text).not.toContain('hunter2');
  });

  it('leaves 4xx errors to the access log', async () => {
    const { app, logs } = appWithLogs();
    await request(app).get('/test/invalid').expect(400);
    const lines = await logs.lines();
    expect(lines.map((line) => [line.level, line.message, line.status])).toEqual([['info', 'request', 400]]);
  });
});
