import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import type { Pay } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { buildOpenApiDocument, createApp, createMetrics, type HttpMetrics } from '../src/index.js';
import { captureLogs, openPostgresPay, summary } from './helpers.js';

/*
 * The webhook endpoint's contract (RELIABILITY.md D1, D2, D7): every delivery is checked against the
 * configured secrets over its raw bytes, stored before the 200, stored once, and never acknowledged
 * when it could not be stored. Signatures are made here exactly as Stripe makes them (HMAC-SHA256 of
 * `${t}.${body}` with the whole `whsec_…` string as key), independently of pay's code.
 */

const WEBHOOK_PATH = '/api/v1/webhooks/stripe';
const OLD_SECRET = `whsec_old_${randomUUID().replaceAll('-', '')}`;
const NEW_SECRET = `whsec_new_${randomUUID().replaceAll('-', '')}`;
const STRANGER_SECRET = `whsec_stranger_${randomUUID().replaceAll('-', '')}`;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
}

/** A `Stripe-Signature` header: `t`, one `v1` per secret (a rotation signs with each), and Stripe's fake `v0`. */
function signature(body: string, secrets: readonly string[], t = nowSeconds()): string {
  return [
    `t=${t}`,
    ...secrets.map((s) => `v1=${hmac(s, t, body)}`),
    `v0=${hmac('whsec_fake', t, body)}`,
  ].join(',');
}

/**
 * A Stripe event of a type pay does not handle, pretty-printed as Stripe sends it (a receiver that
 * re-serialised the body before checking would fail), with a marker that must never reach a log.
 */
function stripeEvent(overrides: Record<string, unknown> = {}): { id: string; body: string; marker: string } {
  const id = `evt_${randomUUID().replaceAll('-', '')}`;
  const marker = `marker-${randomUUID()}`;
  const event = {
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: nowSeconds() - 5,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
    data: { object: { id: `cus_${randomUUID().slice(0, 8)}`, object: 'customer', description: marker } },
    ...overrides,
  };
  return { id, body: JSON.stringify(event, null, 2), marker };
}

/** `body` with one character of its marker changed: one byte, as a proxy or an attacker might. */
function flipOneByte(body: string): string {
  const at = body.indexOf('marker-') + 'marker-'.length;
  return `${body.slice(0, at)}${body[at] === 'a' ? 'b' : 'a'}${body.slice(at + 1)}`;
}

/** One SQL statement through psql as the database's owner (not pay's role), its output trimmed. */
function psql(url: string, statement: string): string {
  return execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
    encoding: 'utf8',
  }).trim();
}

describe('POST /api/v1/webhooks/stripe (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;
  let metrics: HttpMetrics;
  const logs = captureLogs();

  beforeAll(async () => {
    database = await createTestDatabase('api_webhooks');
    // Two secrets: a rotation in progress. The worker is not started: these tests look at the inbox.
    pay = await openPostgresPay(database.url, { STRIPE_WEBHOOK_SECRETS: `${OLD_SECRET},${NEW_SECRET}` });
    metrics = createMetrics();
    app = createApp({ pay, metrics, logger: logs.logger });
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  /** Every inbox row, as the database holds it. */
  const rows = (): {
    stripe_event_id: string;
    status: string;
    payload: string;
    signature_verified: boolean;
    attempts: number;
  }[] =>
    JSON.parse(
      psql(
        database.url,
        `select coalesce(json_agg(json_build_object('stripe_event_id', stripe_event_id, 'status', status, 'payload', payload, 'signature_verified', signature_verified, 'attempts', attempts, 'received_at', received_at) order by received_at), '[]') from pay.webhook_events`,
      ),
    ) as never;

  const rowsOf = (id: string) => rows().filter((row) => row.stripe_event_id === id);

  const deliver = (
    body: string | Buffer,
    header: string | undefined,
    contentType = 'application/json; charset=utf-8',
  ) => {
    const req = request(app).post(WEBHOOK_PATH).set('Content-Type', contentType);
    if (header !== undefined) {
      req.set('Stripe-Signature', header);
    }
    return req.send(body);
  };

  const counted = async (result: string, reason?: string): Promise<number> => {
    const values = (await metrics.webhooks.events.get()).values;
    return values
      .filter((v) => v.labels.result === result && (reason === undefined || v.labels.reason === reason))
      .reduce((sum, v) => sum + v.value, 0);
  };

  const refusal = (res: request.Response, message: RegExp) => ({
    status: 400,
    body: {
      error: {
        type: 'invalid_request_error',
        code: 'invalid_request',
        message: expect.stringMatching(message),
        request_id: res.headers['request-id'],
      },
    },
  });

  it('stores a validly signed event, byte for byte, and only then answers 200 — without an API key', async () => {
    const event = stripeEvent();
    const received = await counted('received');
    const res = await deliver(event.body, signature(event.body, [OLD_SECRET]));
    expect(summary(res)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf(event.id)).toEqual([
      expect.objectContaining({
        status: 'pending',
        payload: event.body,
        signature_verified: true,
        attempts: 0,
      }),
    ]);
    expect(await counted('received')).toBe(received + 1);
  });

  it('stores a redelivered event once: the second delivery answers 200 and changes nothing', async () => {
    const event = stripeEvent();
    await deliver(event.body, signature(event.body, [OLD_SECRET])).expect(200);
    const first = rowsOf(event.id);
    const duplicates = await counted('duplicate');
    // Stripe signs every attempt anew, with a later timestamp and possibly the other secret.
    const again = await deliver(event.body, signature(event.body, [NEW_SECRET], nowSeconds() + 1));
    expect(summary(again)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf(event.id)).toEqual(first);
    expect(await counted('duplicate')).toBe(duplicates + 1);
  });

  it('accepts either secret during a rotation, and a header carrying a v1 for each', async () => {
    for (const secrets of [
      [OLD_SECRET],
      [NEW_SECRET],
      [OLD_SECRET, NEW_SECRET],
      [STRANGER_SECRET, NEW_SECRET],
    ]) {
      const event = stripeEvent();
      const res = await deliver(event.body, signature(event.body, secrets));
      expect({ secrets: secrets.length, ...summary(res) }).toEqual({
        secrets: secrets.length,
        status: 200,
        body: { received: true },
      });
      expect(rowsOf(event.id)).toHaveLength(1);
    }
  });

  describe('refuses with a 400, stores nothing and counts the reason (D1)', () => {
    const cases: [string, (body: string) => { body: string; header: string | undefined }, string, RegExp][] =
      [
        [
          'one byte of the body changed',
          (body) => ({ body: flipOneByte(body), header: signature(body, [OLD_SECRET]) }),
          'signature_mismatch',
          /^No signature matches/,
        ],
        [
          'a secret pay does not hold',
          (body) => ({ body, header: signature(body, [STRANGER_SECRET]) }),
          'signature_mismatch',
          /^No signature matches/,
        ],
        [
          'no Stripe-Signature header',
          (body) => ({ body, header: undefined }),
          'missing_header',
          /no Stripe-Signature header/,
        ],
        ['an empty header', (body) => ({ body, header: '' }), 'missing_header', /no Stripe-Signature header/],
        [
          'a header without a timestamp',
          (body) => ({ body, header: `v1=${hmac(OLD_SECRET, nowSeconds(), body)}` }),
          'malformed_header',
          /no timestamp or no v1 signature/,
        ],
        [
          'a header with only the v0 scheme (a downgrade)',
          (body) => ({ body, header: `t=${nowSeconds()},v0=${hmac(OLD_SECRET, nowSeconds(), body)}` }),
          'malformed_header',
          /no timestamp or no v1 signature/,
        ],
        ['garbage', (body) => ({ body, header: 'not a signature' }), 'malformed_header', /no timestamp/],
      ];

    it.each(cases)('%s', async (_name, make, reason, message) => {
      const event = stripeEvent();
      const before = rows().length;
      const refused = await counted('rejected', reason);
      const { body, header } = make(event.body);
      const res = await deliver(body, header);
      expect(summary(res)).toEqual(refusal(res, message));
      expect(rows()).toHaveLength(before);
      expect(await counted('rejected', reason)).toBe(refused + 1);
    });
  });

  describe('refuses a signature outside ±300 s, in either direction (D2)', () => {
    it.each([
      ['signed 301 s ago', -301, 'timestamp_too_old', /s old; at most 300 s/],
      // Well past the bound: time passes between signing and the check, so 301 s ahead can arrive as 300
      // on a loaded machine (the exact bound is the adapter's unit test).
      ['dated 330 s ahead', 330, 'timestamp_in_future', /s ahead; at most 300 s/],
    ])('%s: 400, nothing stored', async (_name, offset, reason, message) => {
      const event = stripeEvent();
      const res = await deliver(event.body, signature(event.body, [OLD_SECRET], nowSeconds() + offset));
      expect(summary(res)).toEqual(refusal(res, message));
      expect(rowsOf(event.id)).toEqual([]);
      expect(await counted('rejected', reason)).toBeGreaterThanOrEqual(1);
    });

    it.each([
      ['signed 290 s ago', -290],
      ['dated 290 s ahead', 290],
    ])('%s: stored', async (_name, offset) => {
      const event = stripeEvent();
      const res = await deliver(event.body, signature(event.body, [OLD_SECRET], nowSeconds() + offset));
      expect(summary(res)).toEqual({ status: 200, body: { received: true } });
      expect(rowsOf(event.id)).toHaveLength(1);
    });
  });

  it.each([
    ['not JSON', 'this is not json'],
    ['JSON but not an event', JSON.stringify({ hello: 'world' })],
    [
      'an event pay cannot read (no created time)',
      JSON.stringify({ id: 'evt_1', object: 'event', type: 'x' }),
    ],
  ])('refuses a correctly signed body that is %s: 400, nothing stored', async (_name, body) => {
    const before = rows().length;
    const res = await deliver(body, signature(body, [NEW_SECRET]));
    expect(summary(res)).toEqual(refusal(res, /not (JSON|a Stripe event)/));
    expect(rows()).toHaveLength(before);
  });

  it('stores a real event it cannot read as dead and answers 200, so Stripe stops redelivering it', async () => {
    // A manual-capture intent made in Stripe's dashboard: a status this version of pay has no word for.
    const body = JSON.stringify({
      id: 'evt_unreadable_api1',
      object: 'event',
      type: 'payment_intent.amount_capturable_updated',
      api_version: '2025-11-17.clover',
      livemode: false,
      created: nowSeconds(),
      data: { object: { id: 'pi_manual1', object: 'payment_intent', status: 'requires_capture' } },
    });
    const res = await deliver(body, signature(body, [NEW_SECRET]));
    expect(summary(res)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf('evt_unreadable_api1')).toEqual([
      expect.objectContaining({ status: 'dead', payload: body, signature_verified: true }),
    ]);
  });

  it('logs a refusal with its reason, never the payload or the signature', async () => {
    const event = stripeEvent();
    const header = signature(event.body, [STRANGER_SECRET]);
    const res = await deliver(event.body, header);
    expect(res.status).toBe(400);
    const lines = (await logs.lines()).filter((line) => line.requestId === res.headers['request-id']);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'webhook delivery refused',
        reason: 'signature_mismatch',
      }),
    );
    const text = JSON.stringify(lines);
    expect(text).not.toContain(event.marker);
    expect(text).not.toContain(hmac(STRANGER_SECRET, Number(/t=(\d+)/.exec(header)?.[1]), event.body));
    expect(text).not.toContain(STRANGER_SECRET);
  });

  it("takes Stripe's payloads whatever digits they carry: the card-data check is not on this route", async () => {
    const event = stripeEvent({
      data: {
        object: {
          id: 'cus_digits',
          object: 'customer',
          description: '4242 4242 4242 4242',
          phone: '4000056655665556',
        },
      },
    });
    const res = await deliver(event.body, signature(event.body, [OLD_SECRET]));
    expect(summary(res)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf(event.id)).toEqual([expect.objectContaining({ payload: event.body })]);
  });

  it('reads the raw bytes whatever the content type says', async () => {
    const event = stripeEvent();
    const res = await deliver(event.body, signature(event.body, [OLD_SECRET]), 'text/plain');
    expect(summary(res)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf(event.id)).toEqual([expect.objectContaining({ payload: event.body })]);
  });

  it('needs a key on every other spelling of the path: the exemption is exact', async () => {
    const event = stripeEvent();
    const header = signature(event.body, [OLD_SECRET]);
    for (const path of [`${WEBHOOK_PATH}/`, WEBHOOK_PATH.toUpperCase()]) {
      const res = await request(app)
        .post(path)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', header)
        .send(event.body);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
    expect(rowsOf(event.id)).toEqual([]);
  });

  it('answers a retryable 503, acknowledging nothing, when the event cannot be stored (D7); the retry is stored', async () => {
    const event = stripeEvent();
    const header = signature(event.body, [OLD_SECRET]);
    // pay's role loses its grant: the insert fails as it would with the database unreachable.
    psql(database.url, 'REVOKE INSERT ON pay.webhook_events FROM pay_service');
    let res: request.Response;
    try {
      res = await deliver(event.body, header);
    } finally {
      psql(database.url, 'GRANT INSERT ON pay.webhook_events TO pay_service');
    }
    expect(summary(res)).toEqual({
      status: 503,
      body: {
        error: {
          type: 'api_error',
          code: 'dependency_unavailable',
          message: 'The webhook event could not be stored; deliver it again.',
          request_id: res.headers['request-id'],
          retryable: true,
        },
      },
    });
    expect(res.text).not.toContain(event.marker);
    expect(rowsOf(event.id)).toEqual([]);

    // Stripe's retry, once the database is back, is stored.
    const retried = await deliver(event.body, signature(event.body, [OLD_SECRET]));
    expect(summary(retried)).toEqual({ status: 200, body: { received: true } });
    expect(rowsOf(event.id)).toEqual([expect.objectContaining({ status: 'pending' })]);
  });

  it('exposes the counters on /metrics, every refusal reason from the start', async () => {
    const res = await request(app).get('/metrics').expect(200);
    expect(res.text).toMatch(/^pay_webhook_events_total\{result="received"\} \d+$/m);
    expect(res.text).toMatch(
      /^pay_webhook_events_total\{result="rejected",reason="signature_mismatch"\} [1-9]\d*$/m,
    );
    expect(res.text).toMatch(/^pay_webhook_events_total\{result="rejected",reason="no_signing_secret"\} 0$/m);
    expect(res.text).toMatch(/^pay_webhook_lag_seconds_count 0$/m);
  });

  it('is in the OpenAPI document: no key, the raw Stripe event, the signature header, 200, 400 and 503', () => {
    const operation = buildOpenApiDocument().paths[WEBHOOK_PATH]?.post as {
      security: unknown[];
      parameters: { name: string; in: string; required: boolean }[];
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, unknown>;
    };
    expect(operation.security).toEqual([]);
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: 'Stripe-Signature', in: 'header', required: true }),
    ]);
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/json']);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '413', '500', '503']);
  });
});

describe('POST /api/v1/webhooks/stripe with no signing secret (real Stripe, none configured)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let app: Express;

  beforeAll(async () => {
    database = await createTestDatabase('api_webhooks_nosecret');
    // A key set means real Stripe: nothing generates a secret, and none is configured.
    pay = await openPostgresPay(database.url, {
      STRIPE_SECRET_KEY: 'sk_test_no_webhook_secret',
      STRIPE_API_BASE: 'http://127.0.0.1:9',
    });
    app = createApp({ pay });
  });

  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  it('refuses every delivery, however it is signed, and stores nothing', async () => {
    const event = stripeEvent();
    const res = await request(app)
      .post(WEBHOOK_PATH)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', signature(event.body, [OLD_SECRET]))
      .send(event.body);
    expect(summary(res)).toMatchObject({
      status: 400,
      body: {
        error: { code: 'invalid_request', message: expect.stringContaining('no webhook signing secret') },
      },
    });
    expect(psql(database.url, 'select count(*) from pay.webhook_events')).toBe('0');
  });
});
