import Stripe from 'stripe';
import { generateWebhookSecret, stripeSignature } from './signing.js';

const stripe = new Stripe('sk_test_signing');
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded' }, null, 2);

describe('stripeSignature', () => {
  it('produces the v1 entry stripe.webhooks.generateTestHeaderString computes for the same t', () => {
    const secret = generateWebhookSecret();
    const t = 1767225601;
    const header = stripeSignature(body, [secret], t);
    const reference = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t });
    expect(header.split(',')).toEqual([...reference.split(','), expect.stringMatching(/^v0=[0-9a-f]{64}$/)]);
  });

  it('is accepted by constructEvent with the whole whsec_ secret, and rejected with another secret', () => {
    const secret = generateWebhookSecret();
    const t = Math.floor(Date.now() / 1000);
    const header = stripeSignature(body, [secret], t);
    expect(stripe.webhooks.constructEvent(body, header, secret).id).toBe('evt_1');
    expect(() => stripe.webhooks.constructEvent(body, header, generateWebhookSecret())).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('covers the exact bytes: a re-serialised body fails verification', () => {
    const secret = generateWebhookSecret();
    const t = Math.floor(Date.now() / 1000);
    const header = stripeSignature(body, [secret], t);
    const compact = JSON.stringify(JSON.parse(body));
    expect(() => stripe.webhooks.constructEvent(compact, header, secret)).toThrow(
      /No signatures found matching/,
    );
  });

  it('signs once per secret during a rotation, each verifiable on its own', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const header = stripeSignature(body, [oldSecret, newSecret], Math.floor(Date.now() / 1000));
    expect(header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
    expect(stripe.webhooks.constructEvent(body, header, oldSecret).id).toBe('evt_1');
    expect(stripe.webhooks.constructEvent(body, header, newSecret).id).toBe('evt_1');
  });

  it('lets constructEvent reject a t older than its tolerance, measured from receivedAt', () => {
    const secret = generateWebhookSecret();
    const t = 1767225600;
    const header = stripeSignature(body, [secret], t);
    expect(stripe.webhooks.constructEvent(body, header, secret, 300, undefined, (t + 300) * 1000).id).toBe(
      'evt_1',
    );
    expect(() =>
      stripe.webhooks.constructEvent(body, header, secret, 300, undefined, (t + 301) * 1000),
    ).toThrow(/Timestamp outside the tolerance zone/);
  });
});

describe('generateWebhookSecret', () => {
  it('returns whsec_ and 32 base62 characters, distinct each time', () => {
    const secrets = new Set(Array.from({ length: 200 }, generateWebhookSecret));
    expect(secrets.size).toBe(200);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    }
  });
});
