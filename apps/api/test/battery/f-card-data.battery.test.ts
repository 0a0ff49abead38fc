import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openBattery, newIdempotencyKey, type Battery } from './support/battery.js';
import { figure } from './support/figures.js';
import type { ApiProcess } from './support/processes.js';
import { issueApiKeys, paidPayment, postRefund, type IssuedKey } from './support/refunds.js';

/*
 * RELIABILITY.md F1 and F4 against the built API as a process (its stdout and stderr captured at info
 * level). F1: Luhn-valid test card numbers sent in bodies, nested objects, query strings, headers and
 * paths, in otherwise valid and in invalid requests, are refused with a 400; then the API's output, a
 * pg_dump of the database, the sandbox's request log and every response body hold none of them, and no
 * other Luhn-valid 13–19-digit run either (pay's and Stripe's ids and millisecond timestamps excepted).
 * F4: every `metadata` and `description` pay sent to Stripe holds only pay's opaque ids.
 */

const run = promisify(execFile);

/** A Luhn-valid number of `length` digits starting with `prefix`. */
function luhnNumber(prefix: string, length: number): string {
  let body = prefix;
  while (body.length < length - 1) {
    body += String(body.length % 10);
  }
  for (let check = 0; check <= 9; check++) {
    if (luhnValid(body + String(check))) {
      return body + String(check);
    }
  }
  throw new Error('unreachable');
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Stripe's test PANs and Luhn-valid numbers of every length from 13 to 19 digits. */
const CANARIES = [
  '4242424242424242',
  '5555555555554444',
  '378282246310005',
  '6011111111111117',
  '4000002760003184',
  ...[13, 14, 15, 16, 17, 18, 19].map((n) => luhnNumber('4', n)),
];

/**
 * Standalone runs of 13–19 digits: not part of an id such as `pi_3N…`, a longer number or the fraction
 * of a decimal (the sandbox logs `durationMs: 12.787299999999086`).
 */
const DIGIT_RUN = /(?<![A-Za-z0-9_.])\d{13,19}(?![A-Za-z0-9_])/g;
/** pay's ids and Stripe's: `prefix_` then the id's characters. */
const OPAQUE_ID = /^(?:[a-z]+_[0-9a-z]{26}|[a-z]+_[A-Za-z0-9]{8,})$/;

/**
 * Luhn-valid digit runs in `text`, but for millisecond timestamps since 2017 (13 digits from 15… to 17…:
 * the migration journal's, the sandbox clock's), which no 13-digit card number (Visa: 4…) can be.
 */
function luhnHits(text: string, to: number): string[] {
  return [...text.matchAll(DIGIT_RUN)]
    .map((m) => m[0])
    .filter((run) => luhnValid(run))
    .filter((run) => !(run.length === 13 && Number(run) >= 1_500_000_000_000 && Number(run) <= to));
}

function canaryHits(text: string): string[] {
  const bare = text.replace(/[ -]/g, '');
  return CANARIES.filter((pan) => text.includes(pan) || bare.includes(pan));
}

describe('F1 card-number canaries and F4 outbound metadata (API process, PostgreSQL, sandbox)', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let admin: IssuedKey;
  const responses: string[] = [];

  beforeAll(async () => {
    battery = await openBattery('api_battery_f');
    [admin] = (await issueApiKeys(battery, 'admin', ['f-admin'])) as [IssuedKey];
    api = await battery.startApi({ PAY_LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  const send = async (
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string>; key?: string | null } = {},
  ) => {
    const res = await fetch(`${(api as ApiProcess).url}${path}`, {
      method: init.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': newIdempotencyKey('f1'),
        ...(init.key === null ? {} : { authorization: `Bearer ${init.key ?? battery.apiKey}` }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, text };
  };

  it('refuses a card number wherever a request carries it with a 400, valid request or not', async () => {
    const body = (extra: object) => JSON.stringify({ ...battery.body(), ...extra });
    const answers: { where: string; status: number }[] = [];
    for (const pan of CANARIES) {
      const spaced = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
      const cases: [string, () => Promise<{ status: number; text: string }>][] = [
        ['body field', () => send('/api/v1/payments', { body: body({ user_id: pan }) })],
        ['body field, spaced', () => send('/api/v1/payments', { body: body({ user_id: `card ${spaced}` }) })],
        ['nested object', () => send('/api/v1/payments', { body: body({ metadata: { note: { pan } } }) })],
        [
          'array element',
          () => send('/api/v1/refunds', { body: JSON.stringify({ items: [1, pan] }), key: admin.secret }),
        ],
        [
          'JSON number',
          () => send('/api/v1/refunds', { body: `{"payment_id":"x","amount":${pan}}`, key: admin.secret }),
        ],
        ['query string', () => send(`/api/v1/payments?note=${pan}`, { body: body({}) })],
        ['header', () => send('/api/v1/payments', { body: body({}), headers: { 'x-note': pan } })],
        [
          'idempotency key',
          () =>
            send('/api/v1/payments', { body: body({}), headers: { 'idempotency-key': `key-${pan}-0123` } }),
        ],
        ['malformed JSON', () => send('/api/v1/payments', { body: `{"user_id": "${pan}", oops` })],
        ['no API key', () => send('/api/v1/payments', { body: body({ user_id: pan }), key: null })],
        [
          'subscription change',
          () =>
            send('/api/v1/subscriptions/subs_x/payment-method', {
              body: JSON.stringify({ payment_method_id: pan }),
            }),
        ],
        ['path of a GET', () => send(`/api/v1/payments/${pan}`, { method: 'GET' })],
      ];
      for (const [where, attempt] of cases) {
        const { status } = await attempt();
        answers.push({ where, status });
      }
    }
    figure('F1', `${answers.length} requests carrying ${CANARIES.length} canaries`);
    expect(answers.filter((a) => a.status !== 400)).toEqual([]);
  });

  it('leaves no card number in the logs, the database, the requests sent to Stripe or the answers', async () => {
    // Ordinary traffic first, so every place scanned holds real data: payments, a refund, a 3-D Secure one.
    for (let i = 0; i < 3; i++) {
      await paidPayment(battery, api as ApiProcess);
    }
    const refunded = await paidPayment(battery, api as ApiProcess);
    const refund = await postRefund(api as ApiProcess, admin.secret, newIdempotencyKey('f-refund'), {
      payment_id: refunded,
      amount: 100,
    });
    expect(refund).toMatchObject({ kind: 'http', status: 201 });
    await send('/api/v1/payments', {
      body: JSON.stringify(battery.body({ payment_method_id: 'pm_card_threeDSecure2Required' })),
    });
    await (api as ApiProcess).stop();
    const to = Date.now() + 60_000;

    const { stdout: dump } = await run('pg_dump', ['--no-owner', battery.database.url], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const places: Record<string, string> = {
      'API output': (api as ApiProcess).output(),
      pg_dump: dump,
      'sandbox request log': JSON.stringify(battery.sandbox.ledger.requests()),
      answers: responses.join('\n'),
    };
    const found: Record<string, { canaries: string[]; luhn: string[] }> = {};
    for (const [place, text] of Object.entries(places)) {
      found[place] = { canaries: canaryHits(text), luhn: luhnHits(text, to) };
      figure('F1', `${place}: ${text.length} characters scanned`);
    }
    expect(places['API output']).toContain('"status":400');
    expect(found).toEqual(
      Object.fromEntries(Object.keys(places).map((place) => [place, { canaries: [], luhn: [] }])),
    );
  });

  it("sends Stripe only pay's opaque ids in metadata and description (F4)", () => {
    const sent = battery.sandbox.ledger.requests().filter((r) => r.params !== null);
    expect(sent.length).toBeGreaterThan(0);
    const offending: string[] = [];
    let withMetadata = 0;
    for (const r of sent) {
      const params = r.params as Record<string, unknown>;
      const metadata = params.metadata;
      if (metadata !== undefined && metadata !== '') {
        withMetadata++;
        for (const [k, v] of Object.entries(metadata as Record<string, unknown>)) {
          if (!/^pay_[a-z_]+$/.test(k) || typeof v !== 'string' || !OPAQUE_ID.test(v)) {
            offending.push(`${r.method} ${r.path} metadata[${k}]=${JSON.stringify(v)}`);
          }
        }
      }
      if (
        params.description !== undefined &&
        (typeof params.description !== 'string' || !OPAQUE_ID.test(params.description))
      ) {
        offending.push(`${r.method} ${r.path} description=${JSON.stringify(params.description)}`);
      }
    }
    figure('F4', `${sent.length} requests to Stripe, ${withMetadata} with metadata`);
    expect(withMetadata).toBeGreaterThan(0);
    expect(offending).toEqual([]);
  });
});
