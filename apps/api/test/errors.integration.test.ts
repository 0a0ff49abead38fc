import {
  DependencyUnavailableError,
  IllegalTransitionError,
  RateLimitedError,
  RefundExceedsCapturedError,
} from '@pay/core';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { createApp, INTERNAL_ERROR_MESSAGE, validate, validated } from '../src/index.js';
import { captureLogs, makeTempDir, openEmbeddedPay } from './helpers.js';

const ZCharge = z.object({ amount: z.number().int().positive(), currency: z.string().length(3) });
const chargeInput = validate({
  params: z.object({ id: z.string().startsWith('pay_') }),
  query: z.object({ expand: z.enum(['refunds']).optional() }),
  body: ZCharge,
});

/** Test routes that fail in every way a real route can. */
function mountTestRoutes(app: Express): void {
  app.get('/test/refund-too-big', () => {
    throw new RefundExceedsCapturedError('The refund of 600 exceeds the 500 left to refund.', {
      param: 'amount',
    });
  });
  app.get('/test/stripe-down', async () => {
    await Promise.resolve();
    throw new DependencyUnavailableError('Stripe did not answer; retry with the same idempotency key.');
  });
  app.get('/test/rate-limited', () => {
    throw new RateLimitedError('Too many requests.', { context: { retryAfterSeconds: 7.2 } });
  });
  app.get('/test/bug', () => {
    throw new IllegalTransitionError('payment pay_1: succeeded → pending is not allowed');
  });
  app.get('/test/crash', () => {
    throw new Error('relation "pay.payments" does not exist at /srv/pay/node_modules/x.js');
  });
  app.post('/test/parse', (req, res) => {
    res.json(ZCharge.parse(req.body));
  });
  app.post('/test/payments/:id/charge', chargeInput, (_req, res) => {
    res.json(validated(res, chargeInput));
  });
}

describe('errors and validation', () => {
  const temp = makeTempDir();
  const logs = captureLogs();
  let pay: Pay;
  let app: Express;
  beforeAll(async () => {
    pay = await openEmbeddedPay(temp.dir);
    app = createApp({ pay, logger: logs.logger, routes: mountTestRoutes });
  });
  afterAll(async () => {
    await pay.close();
    temp.remove();
  });

  /** The response as one object, so a failing assertion prints all of it. */
  const summary = (res: request.Response) => ({ status: res.status, body: res.body as unknown });

  describe('request ids', () => {
    it('generates one when the client sends none', async () => {
      const res = await request(app).get('/healthz');
      expect(res.headers['request-id']).toMatch(/^req_[0-9a-f]{24}$/);
    });

    it.each(['Request-Id', 'X-Request-Id'])('echoes a sane incoming %s', async (header) => {
      const res = await request(app).get('/healthz').set(header, 'lb-7f3a.2:9');
      expect(res.headers['request-id']).toBe('lb-7f3a.2:9');
    });

    it.each([['with spaces'], ['x'.repeat(129)], ['<script>'], ['-leading-dash']])(
      'replaces an insane one (%s)',
      async (incoming) => {
        const res = await request(app).get('/healthz').set('X-Request-Id', incoming);
        expect(res.headers['request-id']).toMatch(/^req_[0-9a-f]{24}$/);
      },
    );

    it('puts the same id in the header and the error body', async () => {
      const res = await request(app).get('/nope').set('Request-Id', 'client-chosen-1');
      expect(res.headers['request-id']).toBe('client-chosen-1');
      expect(res.body).toMatchObject({ error: { request_id: 'client-chosen-1' } });
    });
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const res = await request(app).post('/v1/nothing-here').send({});
    expect(summary(res)).toEqual({
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'not_found',
          message: 'Unknown route: POST /v1/nothing-here',
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  it('renders a PayError with its status, type, code, message and param', async () => {
    const res = await request(app).get('/test/refund-too-big');
    expect(summary(res)).toEqual({
      status: 422,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'refund_exceeds_captured',
          message: 'The refund of 600 exceeds the 500 left to refund.',
          param: 'amount',
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  it('marks a dependency failure retryable (503), from an async handler', async () => {
    const res = await request(app).get('/test/stripe-down');
    expect(summary(res)).toEqual({
      status: 503,
      body: {
        error: {
          type: 'api_error',
          code: 'dependency_unavailable',
          message: 'Stripe did not answer; retry with the same idempotency key.',
          request_id: res.headers['request-id'],
          retryable: true,
        },
      },
    });
  });

  it('sends Retry-After with a 429', async () => {
    const res = await request(app).get('/test/rate-limited');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('8');
    expect(res.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limited' } });
  });

  it('hides the message of a PayError that is a bug (500)', async () => {
    const res = await request(app).get('/test/bug');
    expect(summary(res)).toEqual({
      status: 500,
      body: {
        error: {
          type: 'api_error',
          code: 'illegal_transition',
          message: INTERNAL_ERROR_MESSAGE,
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  it('turns an unknown error into a generic 500: no stack, SQL or paths', async () => {
    const res = await request(app).get('/test/crash');
    expect(summary(res)).toEqual({
      status: 500,
      body: {
        error: {
          type: 'api_error',
          code: 'internal_error',
          message: INTERNAL_ERROR_MESSAGE,
          request_id: res.headers['request-id'],
        },
      },
    });
    expect(res.text).not.toMatch(/relation|\/srv|node_modules|at /);
  });

  it('turns a ZodError thrown by a handler into a 400 naming the field', async () => {
    const res = await request(app).post('/test/parse').send({ amount: 'ten', currency: 'usd' });
    expect(summary(res)).toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_request',
          message: "Invalid request 'amount': Invalid input: expected number, received string",
          param: 'amount',
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  it('answers a malformed JSON body with a 400, without repeating it', async () => {
    const res = await request(app)
      .post('/test/parse')
      .set('Content-Type', 'application/json')
      .send('{"amount": 4242424242424242, ');
    expect(summary(res)).toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_request',
          message: 'The request body is not valid JSON.',
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  it('answers a body over the limit (100 kb) with a 413', async () => {
    const res = await request(app)
      .post('/test/parse')
      .send({ amount: 1, currency: 'usd', padding: 'x'.repeat(150_000) });
    expect(summary(res)).toEqual({
      status: 413,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'payload_too_large',
          message: 'The request body is too large.',
          request_id: res.headers['request-id'],
        },
      },
    });
  });

  describe('validate()', () => {
    const url = '/test/payments/pay_123/charge';

    it('stores the parsed params, query and body for the handler', async () => {
      const res = await request(app).post(`${url}?expand=refunds`).send({ amount: 500, currency: 'usd' });
      expect(summary(res)).toEqual({
        status: 200,
        body: {
          params: { id: 'pay_123' },
          query: { expand: 'refunds' },
          body: { amount: 500, currency: 'usd' },
        },
      });
    });

    it.each([
      ['a wrong type', url, { amount: -1, currency: 'usd' }, 'amount', /^Invalid body parameter 'amount': /],
      ['a missing field', url, { amount: 5 }, 'currency', /^Invalid body parameter 'currency': /],
      [
        'an unknown field',
        url,
        { amount: 5, currency: 'usd', card_number: '4242424242424242' },
        'card_number',
        /Unrecognized key/,
      ],
      [
        'a bad path parameter',
        '/test/payments/ch_1/charge',
        { amount: 5, currency: 'usd' },
        'id',
        /^Invalid path parameter 'id': /,
      ],
      [
        'a bad query parameter',
        `${url}?expand=everything`,
        { amount: 5, currency: 'usd' },
        'expand',
        /^Invalid query parameter 'expand': /,
      ],
      [
        'an unknown query parameter',
        `${url}?debug=1`,
        { amount: 5, currency: 'usd' },
        'debug',
        /Unrecognized key/,
      ],
    ])('rejects %s with a 400 naming it', async (_what, path, body, param, message) => {
      const res = await request(app).post(path).send(body);
      expect(summary(res)).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: expect.stringMatching(message),
            param,
            request_id: res.headers['request-id'],
          },
        },
      });
      expect(res.text).not.toContain('4242424242424242');
    });

    it('logs the route by its pattern', async () => {
      const res = await request(app).post('/test/payments/pay_9/charge').send({ amount: 1 });
      expect(res.status).toBe(400);
      const lines = await logs.lines();
      expect(lines.at(-1)).toMatchObject({
        path: '/test/payments/pay_9/charge',
        route: '/test/payments/:id/charge',
      });
    });
  });
});
