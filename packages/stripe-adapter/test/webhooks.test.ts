import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { verifyStripeWebhook, type WebhookVerification } from '../src/index.js';
import { newPayment, sleep, startHarness, type Harness } from './harness.js';

/* DESIGN.md §5 / RELIABILITY.md D1–D2: signatures, rotation, freshness both ways. */

const OLD_SECRET = 'whsec_old_0123456789abcdef';
const NEW_SECRET = 'whsec_new_fedcba9876543210';

/** A real HTTP endpoint that keeps each delivery's raw bytes and signature header. */
interface Delivery {
  body: Buffer;
  signature: string | undefined;
}

async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const signature = req.headers['stripe-signature'];
      deliveries.push({
        body: Buffer.concat(chunks),
        signature: typeof signature === 'string' ? signature : undefined,
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/webhooks/stripe`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let h: Harness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let delivery: Delivery;
let signedAt: number;

beforeAll(async () => {
  receiver = await startReceiver();
  h = await startHarness({
    webhookEndpoints: [{ url: receiver.url, secret: NEW_SECRET, enabledEvents: ['*'] }],
  });
  const p = newPayment();
  await h.gateway(h.newKey()).createCustomer({
    accountId: p.accountId,
    customerId: p.customerId,
    idempotencyKey: p.keys.customer,
  });
  const deadline = Date.now() + 5_000;
  while (receiver.deliveries.length === 0 && Date.now() < deadline) {
    await sleep(20);
  }
  const [first] = receiver.deliveries;
  if (first === undefined) {
    throw new Error('the sandbox delivered no webhook');
  }
  delivery = first;
  signedAt = Number(/t=(\d+)/.exec(first.signature ?? '')?.[1]);
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

function at(seconds: number): Date {
  return new Date(seconds * 1000);
}

function reasonOf(result: WebhookVerification): string {
  return result.kind === 'verified' ? 'verified' : result.reason;
}

describe('a delivery from the sandbox', () => {
  it('is accepted with its secret among several, and says which one signed it', () => {
    const result = verifyStripeWebhook(delivery.body, delivery.signature, [OLD_SECRET, NEW_SECRET]);
    if (result.kind !== 'verified') {
      throw new Error(`rejected: ${result.reason} (${result.message})`);
    }
    expect(result.event).toMatchObject({ object: 'event', type: 'customer.created' });
    expect(result.secretIndex).toBe(1);
    expect(result.signedAt).toEqual(at(signedAt));
  });

  it('is accepted from the raw bytes as a string too', () => {
    const result = verifyStripeWebhook(delivery.body.toString('utf8'), delivery.signature, [NEW_SECRET]);
    expect(reasonOf(result)).toBe('verified');
  });

  it('is rejected under a wrong secret', () => {
    const result = verifyStripeWebhook(delivery.body, delivery.signature, [OLD_SECRET]);
    expect(reasonOf(result)).toBe('signature_mismatch');
  });

  it('is rejected when one byte of the body changed', () => {
    const body = Buffer.from(delivery.body);
    const at = body.indexOf('customer.created');
    body[at] = 'C'.charCodeAt(0);
    expect(reasonOf(verifyStripeWebhook(body, delivery.signature, [NEW_SECRET]))).toBe('signature_mismatch');
  });

  it('is rejected once re-serialised, since the signature covers the exact bytes', () => {
    const reserialised = JSON.stringify(JSON.parse(delivery.body.toString('utf8')));
    expect(reserialised).not.toBe(delivery.body.toString('utf8'));
    expect(reasonOf(verifyStripeWebhook(reserialised, delivery.signature, [NEW_SECRET]))).toBe(
      'signature_mismatch',
    );
  });
});

describe('freshness', () => {
  function signed(t: number, secret = NEW_SECRET): string {
    return Stripe.webhooks.generateTestHeaderString({
      payload: delivery.body.toString('utf8'),
      secret,
      timestamp: t,
    });
  }
  const now = 1_800_000_000;

  it('accepts a signature up to 300 s old or ahead', () => {
    for (const t of [now - 300, now, now + 300]) {
      expect([
        t - now,
        reasonOf(verifyStripeWebhook(delivery.body, signed(t), [NEW_SECRET], { now: at(now) })),
      ]).toEqual([t - now, 'verified']);
    }
  });

  it('rejects a stale signature (a replay)', () => {
    const result = verifyStripeWebhook(delivery.body, signed(now - 301), [NEW_SECRET], { now: at(now) });
    expect(reasonOf(result)).toBe('timestamp_too_old');
  });

  it('rejects a future-dated signature, which Stripe’s SDK alone would accept', () => {
    const header = signed(now + 301);
    expect(
      Stripe.webhooks.constructEvent(delivery.body, header, NEW_SECRET, 300, undefined, now * 1000),
    ).toBeTruthy();
    const result = verifyStripeWebhook(delivery.body, header, [NEW_SECRET], { now: at(now) });
    expect(reasonOf(result)).toBe('timestamp_in_future');
  });

  it('honours a narrower tolerance', () => {
    const result = verifyStripeWebhook(delivery.body, signed(now - 61), [NEW_SECRET], {
      now: at(now),
      toleranceSeconds: 60,
    });
    expect(reasonOf(result)).toBe('timestamp_too_old');
  });
});

describe('rotation and malformed requests', () => {
  const now = 1_800_000_000;

  it('accepts a header signed by both the old and the new secret under either', () => {
    const payload = delivery.body.toString('utf8');
    const v1 = (secret: string) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: now }).split(',')[1] ?? '';
    const header = `t=${now},${v1(OLD_SECRET)},${v1(NEW_SECRET)}`;
    for (const secrets of [[OLD_SECRET], [NEW_SECRET]]) {
      expect(reasonOf(verifyStripeWebhook(delivery.body, header, secrets, { now: at(now) }))).toBe(
        'verified',
      );
    }
  });

  it('rejects a missing or malformed header', () => {
    const check = (header: string | undefined) =>
      reasonOf(verifyStripeWebhook(delivery.body, header, [NEW_SECRET]));
    expect(check(undefined)).toBe('missing_header');
    expect(check('')).toBe('missing_header');
    expect(check('v1=abc')).toBe('malformed_header');
    expect(check(`t=${now}`)).toBe('malformed_header');
    expect(check(`t=${now},v0=abc`)).toBe('malformed_header');
    expect(check('t=soon,v1=abc')).toBe('malformed_header');
  });

  it('rejects a correctly signed body that is not a Stripe event', () => {
    for (const payload of ['not json', '{"id":"evt_1"}']) {
      const header = Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: NEW_SECRET,
        timestamp: now,
      });
      expect(reasonOf(verifyStripeWebhook(payload, header, [NEW_SECRET], { now: at(now) }))).toBe(
        'invalid_payload',
      );
    }
  });

  it('refuses to run without a secret or with a tolerance that would disable the check', () => {
    expect(() => verifyStripeWebhook(delivery.body, delivery.signature, [])).toThrow(RangeError);
    expect(() => verifyStripeWebhook(delivery.body, delivery.signature, [' '])).toThrow(RangeError);
    expect(() =>
      verifyStripeWebhook(delivery.body, delivery.signature, [NEW_SECRET], { toleranceSeconds: 0 }),
    ).toThrow(RangeError);
  });
});
