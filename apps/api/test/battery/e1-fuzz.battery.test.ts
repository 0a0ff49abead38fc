import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId, type IssuedApiKey } from '@pay/core';
import { STRIPE_WEBHOOK_PATH } from '@pay/runtime';
import fc from 'fast-check';
import request from 'supertest';
import { ZErrorBody } from '../../src/errors/error-body.js';
import {
  newIdempotencyKey,
  openPaymentsHarness,
  paymentBody,
  postPayment,
  summary,
  type PaymentsHarness,
} from '../helpers.js';
import { figure, NIGHTLY, seedOf, since } from './support/figures.js';
import { countChanges, tableCounts, type TableCounts } from './support/table-counts.js';

/*
 * RELIABILITY.md E1. fast-check sends every POST of /api/v1 requests that are wrong in at least one way
 * — a body that is not an object, unknown keys (`__proto__`, `constructor`, `status`, `currency`…), wrong
 * types, missing fields, huge strings, deep nesting, any unicode, floats, negatives and zero for money,
 * a bad path id or Idempotency-Key, and for the Stripe webhook a body under a signature that does not
 * hold — through the in-process app on PostgreSQL with pay's in-process sandbox. Every answer must be a
 * 4xx in the error shape with a stable code; no 5xx; no table gains or loses a row; the sandbox receives
 * nothing; Object.prototype keeps its own properties. Requests are valid except for the defects the case
 * names, so a 4xx is owed to the defect, not to a mistake of the test. The seed is printed; SEED= replays.
 */

const RUNS = NIGHTLY ? 50_000 : Number(process.env.E1_RUNS ?? 2_000);
const REASON_MAX = 500;

/** Every POST of /api/v1 but the webhook's (fuzzed with its own signature cases). */
const ROUTES = [
  'POST /payments',
  'POST /refunds',
  'POST /refunds/:id/approve',
  'POST /subscriptions/:id/cancel',
  'POST /subscriptions/:id/resume',
  'POST /subscriptions/:id/payment-method',
] as const;

/** Keys a client could try to smuggle in: prototype keys, fields pay owns, money pay does not take. */
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'status',
  'amount',
  'amount_refunded',
  'currency',
  'account_id',
  'created_at',
  'livemode',
  'metadata',
  'id',
  'object',
  'customer',
  'toString',
  'hasOwnProperty',
];

/** JSON text for an object with these entries in this order: keeps a literal `"__proto__"` key. */
function objectText(entries: readonly (readonly [string, unknown])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${valueText(v)}`).join(',')}}`;
}

/** A value already turned into JSON text (deep nesting, prototype objects) is spliced in as it is. */
class RawJson {
  constructor(readonly text: string) {}
}

function valueText(v: unknown): string {
  return v instanceof RawJson ? v.text : JSON.stringify(v);
}

const unicode = (maxLength = 40) => fc.string({ unit: 'binary', maxLength });

/** Deep nesting of arrays or objects, up to 30,000 levels (within the 100 kb body limit). */
const deepValue = fc
  .tuple(fc.integer({ min: 1, max: 30_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)
      : new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  );

/** A prototype-pollution payload as a value. */
const protoValue = fc.constantFrom(
  new RawJson('{"__proto__":{"polluted":"yes"}}'),
  new RawJson('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  new RawJson('{"__proto__":{"__proto__":{"polluted":"yes"}}}'),
);

/** Any JSON value, hostile ones included. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: unicode(200) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: protoValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      -1,
      0,
      0.5,
      1e308,
      -0,
      Number.MAX_SAFE_INTEGER + 2,
      '4242424242424242',
      'usd',
      'XXX',
      'succeeded',
    ),
  },
);

/** Strings that break a string field's length rule, up to past the 100 kb body limit (a 413). */
const hugeString = fc
  .tuple(fc.integer({ min: 256, max: 150_000 }), fc.constantFrom('u', 'é', '𝕦', '\u0000', '\u202e'))
  .map(([n, c]) => c.repeat(n));

/** Values that are not strings. */
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** Idempotency keys that break the rule (20–255 printable ASCII characters, no spaces). */
const badKey = fc.oneof(
  fc.string({ maxLength: 19 }).filter((k) => /^[\x21-\x7e]*$/.test(k) && k.length > 0),
  fc.integer({ min: 256, max: 2_000 }).map((n) => 'k'.repeat(n)),
  fc.constant('a key with spaces in it 0123456789'),
  fc.constant('clé-idempotence-0123456789-abcdef'),
  fc.constant('tab\there-0123456789-0123456789'),
);

/** A field of a route's body: how to make it valid and how to make it wrong. */
interface Field {
  readonly name: string;
  /** The schema requires it: leaving it out is a defect. */
  readonly required: boolean;
  /** Valid values; null when the field is valid only left out (the body's idempotency key, sent as a header). */
  readonly valid: fc.Arbitrary<unknown> | null;
  /** Sent whenever valid, though optional (a refund's amount: left out, it refunds everything). */
  readonly alwaysSent?: boolean;
  readonly invalid: fc.Arbitrary<unknown>;
}

/** One POST route under fuzz. */
interface Target {
  readonly name: string;
  /** Path for an id (routes with `:id`); the id arbitrary's values are already valid or deliberately not. */
  readonly path: (id: string) => string;
  /** Ids for `:id`: the real object's (`valid`) and wrong ones (garbage, another kind, unknown). */
  readonly ids?: { readonly valid: () => string; readonly invalid: fc.Arbitrary<string> };
  /** The body's fields; null when the route reads no body (approve). */
  readonly fields: readonly Field[] | null;
  readonly needsKey: boolean;
}

interface Case {
  readonly path: string;
  readonly key: string | null;
  readonly contentType: string;
  readonly body: string;
  /** What is wrong with the request, for the failure message. */
  readonly defects: readonly string[];
}

/** What can go wrong with a body of `fields`; each yields the body text and a label. */
function bodyDefect(
  fields: readonly Field[],
): fc.Arbitrary<{ label: string; edit: (e: [string, unknown][]) => string }> {
  const known = new Set(fields.map((f) => f.name));
  const extraKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), unicode(30)).filter((k) => !known.has(k));
  const required = fields.filter((f) => f.required);
  const options: fc.Arbitrary<{ label: string; edit: (e: [string, unknown][]) => string }>[] = [
    fc
      .oneof(
        fc
          .jsonValue({ maxDepth: 2 })
          .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
          .map((v) => JSON.stringify(v)),
        // Not '': an empty body is no body, which a route whose fields are all optional takes as `{}`.
        fc.constantFrom('{', '{"a":', 'nul', '[1,]', "{'a':1}", '{"a":1}}', '\u0000', '{"a":1,"a":}'),
      )
      .map((text) => ({ label: `not an object: ${text.slice(0, 40)}`, edit: () => text })),
    fc.tuple(extraKey, anyValue).map(([k, v]) => ({
      label: `extra key ${JSON.stringify(k).slice(0, 40)}`,
      edit: (e) => objectText([...e, [k, v]]),
    })),
    fc.tuple(extraKey, anyValue).map(([k, v]) => ({
      label: `extra key first ${JSON.stringify(k).slice(0, 40)}`,
      edit: (e) => objectText([[k, v], ...e]),
    })),
  ];
  if (fields.length > 0) {
    options.push(
      fc
        .constantFrom(...fields)
        .chain((f) => f.invalid.map((v) => ({ f, v })))
        .map(({ f, v }) => ({
          label: `bad ${f.name}: ${valueText(v).slice(0, 40)}`,
          edit: (e) => objectText([...e.filter(([k]) => k !== f.name), [f.name, v]]),
        })),
    );
  }
  if (required.length > 0) {
    options.push(
      fc.constantFrom(...required).map((f) => ({
        label: `missing ${f.name}`,
        edit: (e) => objectText(e.filter(([k]) => k !== f.name)),
      })),
    );
  }
  return fc.oneof(...options);
}

/** The valid entries of a body of `fields` (optional ones sometimes left out). */
function validEntries(fields: readonly Field[]): fc.Arbitrary<[string, unknown][]> {
  const parts = fields.map((f): fc.Arbitrary<[string, unknown][]> => {
    if (f.valid === null) {
      return fc.constant([]);
    }
    const sent = f.valid.map((v): [string, unknown][] => [[f.name, v]]);
    return f.required || f.alwaysSent === true ? sent : fc.option(sent, { nil: [] });
  });
  return fc.tuple(...parts).map((p) => p.flat());
}

/** Requests to `target` with at least one defect that must make pay refuse them. */
function casesFor(target: Target): fc.Arbitrary<Case> {
  const idChoice: fc.Arbitrary<{ id: string; bad: string | null }> =
    target.ids === undefined
      ? fc.constant({ id: '', bad: null })
      : fc.oneof(
          fc.constant({ id: target.ids.valid(), bad: null }),
          target.ids.invalid.map((id) => ({ id, bad: `id ${JSON.stringify(id).slice(0, 40)}` })),
        );
  const keyChoice: fc.Arbitrary<{ key: string | null; bad: string | null }> = target.needsKey
    ? fc.oneof(
        { weight: 3, arbitrary: fc.constant(null).map(() => ({ key: newIdempotencyKey(), bad: null })) },
        { weight: 1, arbitrary: fc.constant({ key: null, bad: 'no Idempotency-Key' }) },
        {
          weight: 1,
          arbitrary: badKey.map((k) => ({
            key: k,
            bad: `Idempotency-Key ${JSON.stringify(k).slice(0, 30)}`,
          })),
        },
      )
    : fc.constant({ key: null, bad: null });
  const fields = target.fields;
  const bodyChoice: fc.Arbitrary<{ body: string; bad: string | null }> =
    fields === null
      ? // The route reads no body: any body, never counted as its defect.
        fc
          .oneof(fc.constant('{}'), fc.json({ maxDepth: 2 }), anyValue.map(valueText))
          .map((body) => ({ body, bad: null }))
      : fc
          .tuple(validEntries(fields), fc.option(bodyDefect(fields), { nil: null }))
          .map(([entries, defect]) =>
            defect === null
              ? { body: objectText(entries), bad: null }
              : { body: defect.edit(entries), bad: defect.label },
          );
  const contentType = fc.oneof(
    { weight: 9, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
      ),
    },
  );
  return fc
    .record({ id: idChoice, key: keyChoice, body: bodyChoice, contentType })
    .map(({ id, key, body, contentType: type }) => {
      const defects = [id.bad, key.bad, body.bad].filter((d): d is string => d !== null);
      // A body pay does not read as JSON is no body: a defect only where a field is required (a body
      // sent with the wrong Content-Type to a route with only optional fields: see hardening.integration).
      if (fields !== null && fields.some((f) => f.required) && type !== 'application/json') {
        defects.push(`Content-Type ${type}`);
      }
      return { path: target.path(id.id), key: key.key, contentType: type, body: body.body, defects };
    })
    .filter((c) => c.defects.length > 0);
}

describe('E1: fuzzing every POST of /api/v1 (fast-check, PostgreSQL, Stripe sandbox)', () => {
  let harness: PaymentsHarness | undefined;
  let server: http.Server | undefined;
  let admin: IssuedApiKey;
  let paymentId: string;
  let subscriptionId: string;
  let refundId: string;
  let webhookSecret: string;
  const seed = seedOf();
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    harness = await openPaymentsHarness('api_battery_e1', {
      PAY_WORKER: 'false',
      PAY_RATE_LIMIT: '1000000',
    });
    const { pay, app, acme } = harness;
    admin = await pay.services.accounts.createApiKey(
      { accountId: acme.account.id, name: 'e1-admin', role: 'admin' },
      { type: 'cli_operator', id: 'e1' },
    );
    const paid = await postPayment(app, acme, paymentBody(acme, { user_id: 'e1-user' }));
    expect(summary(paid)).toMatchObject({ status: 201, body: { status: 'succeeded' } });
    const payment = paid.body as { id: string; subscription_id: string | null };
    paymentId = payment.id;
    subscriptionId = payment.subscription_id ?? '';
    expect(subscriptionId).toMatch(/^subs_/);
    const refund = await request(app)
      .post('/api/v1/refunds')
      .set('Authorization', `Bearer ${admin.secret}`)
      .set('Idempotency-Key', newIdempotencyKey())
      .send({ payment_id: paymentId, amount: 100 });
    expect(summary(refund)).toMatchObject({ status: 201 });
    refundId = (refund.body as { id: string }).id;
    [webhookSecret = ''] = (await pay.stripe()).webhookSecrets;
    expect(webhookSecret).not.toBe('');
    const listening = http.createServer(app);
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    server = listening;
    figure(
      'E1',
      `seed ${seed} (SEED=${seed} replays), ${RUNS} runs per endpoint${NIGHTLY ? ' (nightly)' : ''}`,
    );
  });

  afterAll(async () => {
    const open = server;
    if (open !== undefined) {
      await new Promise((resolve) => open.close(resolve));
    }
    await harness?.close();
  });

  const base = () => `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;

  /** Ids that are wrong for `kind`: garbage (any unicode, huge, empty), another kind's id, an unknown one. */
  const wrongIds = (kind: 'subscription' | 'refund'): fc.Arbitrary<string> =>
    fc.oneof(
      unicode(60).map(encodeURIComponent),
      fc.constant(''),
      fc.integer({ min: 300, max: 5_000 }).map((n) => 'x'.repeat(n)),
      fc.constantFrom('..', '%2e%2e', '%00', 'subs_', 'ref_', '0', '-1'),
      fc.constant(null).map(() => (kind === 'refund' ? newId('subscription') : newId('refund'))),
      fc.constant(null).map(() => newId(kind)),
      fc.constant(null).map(() => paymentId),
    );

  const paymentMethodId: Field = {
    name: 'payment_method_id',
    required: true,
    valid: fc.constantFrom('pm_card_visa', 'pm_card_mastercard'),
    invalid: fc.oneof(
      notAString,
      hugeString,
      unicode(30).filter((s) => !/^pm_[A-Za-z0-9_]{1,252}$/.test(s)),
      fc.constantFrom(
        'tok_visa',
        'pm_',
        'pm_card visa',
        'pm_card_visa\n',
        'card_1',
        'pm_💳',
        '4242424242424242',
      ),
    ),
  };
  // The header carries the key; a body key that breaks the rule (or is not a string) is a defect.
  const bodyKey: Field = {
    name: 'idempotency_key',
    required: false,
    valid: null,
    invalid: fc.oneof(badKey, notAString),
  };
  const withBodyKey = (fields: Field[]): Field[] => [...fields, bodyKey];

  const targets = (): Target[] => {
    const { acme, other } = harness as PaymentsHarness;
    const planId = acme.plans[0]?.id ?? '';
    const sub = (action: string) => (id: string) => `/api/v1/subscriptions/${id}/${action}`;
    const subIds = { valid: () => subscriptionId, invalid: wrongIds('subscription') };
    return [
      {
        name: 'POST /payments',
        path: () => '/api/v1/payments',
        needsKey: true,
        fields: withBodyKey([
          {
            name: 'user_id',
            required: true,
            valid: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }).map((s) => `e1 ${s}`),
            invalid: fc.oneof(notAString, hugeString, fc.constant('')),
          },
          {
            name: 'plan_id',
            required: true,
            valid: fc.constant(planId),
            invalid: fc.oneof(
              notAString,
              unicode(40),
              fc.constantFrom('price_1Nabc', 'pln_', `pln_${'0'.repeat(26)}`, other.plans[0]?.id ?? ''),
              fc.constant(null).map(() => newId('plan')),
              fc.constant(null).map(() => paymentId),
            ),
          },
          paymentMethodId,
          {
            name: 'return_url',
            required: false,
            valid: fc.constant('https://shop.example/back'),
            invalid: fc.oneof(
              notAString,
              unicode(40),
              fc.constantFrom(
                'javascript:alert(1)',
                'data:text/html,<p>x</p>',
                'http://shop.example/back',
                'https://shop.example@evil.example/',
                'https://shоp.example/',
                'https://evil.example/',
                '//evil.example/',
                `https://shop.example/${'a'.repeat(2_100)}`,
              ),
            ),
          },
        ]),
      },
      {
        name: 'POST /refunds',
        path: () => '/api/v1/refunds',
        needsKey: true,
        fields: withBodyKey([
          {
            name: 'payment_id',
            required: true,
            valid: fc.constant(paymentId),
            invalid: fc.oneof(
              notAString,
              unicode(40),
              fc.constant(null).map(() => newId('payment')),
              fc.constant(null).map(() => subscriptionId),
            ),
          },
          {
            name: 'amount',
            // Left out, it refunds all that remains: always send one, valid or not.
            required: false,
            alwaysSent: true,
            valid: fc.integer({ min: 1, max: 50 }),
            invalid: fc.oneof(
              fc.double({ noInteger: true }),
              fc.integer({ max: 0 }),
              fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER + 2, -0.5, 0.01, 1e308, 10_000_000),
              fc.string({ maxLength: 10 }),
              fc.constantFrom(null, true, [1], { value: 1 }, '100', '1e2'),
            ),
          },
          {
            name: 'reason',
            required: false,
            valid: fc.constantFrom('requested_by_customer', 'duplicate', 'e1 fuzz'),
            invalid: fc.oneof(
              notAString,
              fc.integer({ min: REASON_MAX + 1, max: 20_000 }).map((n) => 'r'.repeat(n)),
            ),
          },
        ]),
      },
      {
        name: 'POST /refunds/:id/approve',
        path: (id) => `/api/v1/refunds/${id}/approve`,
        ids: { valid: () => refundId, invalid: wrongIds('refund') },
        needsKey: true,
        fields: null,
      },
      {
        name: 'POST /subscriptions/:id/cancel',
        path: sub('cancel'),
        ids: subIds,
        needsKey: true,
        fields: withBodyKey([
          {
            name: 'at_period_end',
            required: false,
            valid: fc.constant(true),
            invalid: fc.oneof(
              fc.constantFrom('true', 'false', 1, 0, null, [], {}, 'yes'),
              fc.string({ maxLength: 8 }),
            ),
          },
        ]),
      },
      {
        name: 'POST /subscriptions/:id/resume',
        path: sub('resume'),
        ids: subIds,
        needsKey: true,
        fields: withBodyKey([]),
      },
      {
        name: 'POST /subscriptions/:id/payment-method',
        path: sub('payment-method'),
        ids: subIds,
        needsKey: true,
        fields: withBodyKey([paymentMethodId]),
      },
    ];
  };

  /** What every refused request must leave as it was. */
  interface World {
    readonly tables: TableCounts;
    readonly stripeCalls: number;
  }
  const world = async (): Promise<World> => {
    const h = harness as PaymentsHarness;
    return {
      tables: await tableCounts(h.pay.config.databaseUrl ?? 'no DATABASE_URL'),
      stripeCalls: h.sandbox.requests().length,
    };
  };

  /** The answer is a 4xx error body with a stable code and this request's id; nothing leaked into Object.prototype. */
  function checkAnswer(res: request.Response, c: Case, stripeCallsBefore: number): void {
    const where = `${c.path.slice(0, 80)} [${c.defects.join('; ')}]`;
    if (res.status < 400 || res.status > 499) {
      throw new Error(`${where}: answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const parsed = ZErrorBody.safeParse(res.body);
    if (!parsed.success) {
      throw new Error(`${where}: ${res.status} not in the error shape: ${res.text.slice(0, 300)}`);
    }
    if (parsed.data.error.request_id !== res.headers['request-id']) {
      throw new Error(
        `${where}: request_id ${parsed.data.error.request_id} ≠ header ${String(res.headers['request-id'])}`,
      );
    }
    const calls = (harness as PaymentsHarness).sandbox.requests().length;
    if (calls !== stripeCallsBefore) {
      throw new Error(`${where}: the sandbox received ${calls - stripeCallsBefore} request(s)`);
    }
    const proto = Object.getOwnPropertyNames(Object.prototype).sort();
    if (proto.join() !== protoBefore.join() || ({} as Record<string, unknown>).polluted !== undefined) {
      throw new Error(`${where}: Object.prototype changed: ${proto.join(', ')}`);
    }
  }

  const send = (c: Case, token: string) => {
    let req = request(base())
      .post(c.path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', c.contentType);
    if (c.key !== null) {
      req = req.set('Idempotency-Key', c.key);
    }
    return req.send(c.body);
  };

  const statuses = new Map<string, Map<string, number>>();
  const tallyAnswer = (endpoint: string, res: request.Response) => {
    const code = (res.body as { error?: { code?: string } }).error?.code ?? '?';
    const byCode = statuses.get(endpoint) ?? new Map<string, number>();
    const label = `${res.status} ${code}`;
    byCode.set(label, (byCode.get(label) ?? 0) + 1);
    statuses.set(endpoint, byCode);
  };
  const printTally = (endpoint: string, ms: number) => {
    const byCode = [...(statuses.get(endpoint) ?? new Map<string, number>()).entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k}×${n}`)
      .join(', ');
    figure('E1', `${endpoint}: ${RUNS} runs in ${ms} ms: ${byCode}`);
  };

  it.each(ROUTES)('refuses every malformed %s with a 4xx, writing and sending nothing', async (route) => {
    const target = targets().find((t) => t.name === route);
    if (target === undefined) {
      throw new Error(`no target ${route}`);
    }
    const index = ROUTES.indexOf(route);
    const before = await world();
    const start = performance.now();
    await fc.assert(
      fc.asyncProperty(casesFor(target), async (c) => {
        const res = await send(c, admin.secret);
        tallyAnswer(target.name, res);
        checkAnswer(res, c, before.stripeCalls);
        // A refusal that is not about the input (409, 422) means pay read past the defect: worth seeing.
        if (res.status === 409 || res.status === 422) {
          figure(
            'E1',
            `${target.name} answered ${res.status} to [${c.defects.join('; ')}] ${c.body.slice(0, 80)}`,
          );
        }
      }),
      { seed: seed + index, numRuns: RUNS, endOnFailure: true },
    );
    printTally(target.name, since(start));
    const after = await world();
    expect(countChanges(before.tables, after.tables)).toEqual([]);
    expect(after.stripeCalls).toBe(before.stripeCalls);
  });

  it('refuses every webhook delivery whose signature does not hold with a 400, storing nothing', async () => {
    const before = await world();
    const start = performance.now();
    const sign = (secret: string, t: number, payload: string) =>
      `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex')}`;
    const now = () => Math.floor(Date.now() / 1000);
    const payload = fc.oneof(
      fc.json({ maxDepth: 3 }),
      unicode(200),
      fc.constant(null).map(() =>
        JSON.stringify({
          id: `evt_${randomBytes(8).toString('hex')}`,
          object: 'event',
          type: 'payment_intent.succeeded',
          data: { object: { id: 'pi_1' } },
        }),
      ),
      deepValue.map(valueText),
      protoValue.map(valueText),
    );
    type Signing = { label: string; header: (body: string) => string | null; sent: (body: string) => string };
    const asIs = (body: string) => body;
    const signing = fc.oneof(
      fc.constant<Signing>({ label: 'no signature', header: () => null, sent: asIs }),
      unicode(80)
        .filter((h) => /^[\t\x20-\x7e\x80-\xff]*$/.test(h))
        .map((h): Signing => ({
          label: `signature ${JSON.stringify(h).slice(0, 30)}`,
          header: () => h,
          sent: asIs,
        })),
      fc.constant<Signing>({
        label: 'random v1',
        header: () => `t=${now()},v1=${randomBytes(32).toString('hex')}`,
        sent: asIs,
      }),
      fc.constant<Signing>({
        label: 'wrong secret',
        header: (b) => sign(`whsec_${randomBytes(16).toString('hex')}`, now(), b),
        sent: asIs,
      }),
      fc
        .integer({ min: 301, max: 100_000 })
        .chain((age) =>
          fc.constantFrom<Signing>(
            { label: `${age} s old`, header: (b) => sign(webhookSecret, now() - age, b), sent: asIs },
            { label: `${age} s ahead`, header: (b) => sign(webhookSecret, now() + age, b), sent: asIs },
          ),
        ),
      fc.constant<Signing>({
        label: 'body changed after signing',
        header: (b) => sign(webhookSecret, now(), b),
        sent: (b) => `${b} `,
      }),
      fc.constant<Signing>({
        label: 'v0 only',
        header: (b) => sign(webhookSecret, now(), b).replace('v1=', 'v0='),
        sent: asIs,
      }),
    );
    await fc.assert(
      fc.asyncProperty(payload, signing, async (body, s) => {
        const header = s.header(body);
        let req = request(base()).post(STRIPE_WEBHOOK_PATH).set('Content-Type', 'application/json');
        if (header !== null) {
          req = req.set('Stripe-Signature', header);
        }
        const res = await req.send(s.sent(body));
        tallyAnswer('POST /webhooks/stripe', res);
        checkAnswer(
          res,
          { path: STRIPE_WEBHOOK_PATH, key: null, contentType: 'application/json', body, defects: [s.label] },
          before.stripeCalls,
        );
      }),
      { seed: seed + 100, numRuns: RUNS, endOnFailure: true },
    );
    printTally('POST /webhooks/stripe', since(start));
    const after = await world();
    expect(countChanges(before.tables, after.tables)).toEqual([]);
  });
});
