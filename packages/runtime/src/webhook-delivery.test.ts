import {
  DependencyUnavailableError,
  UnknownGatewayStateError,
  type WebhookEvent,
  type WebhookEventId,
} from '@pay/core';
import Stripe from 'stripe';
import { checkWebhookSignature, createWebhookInbox, receiveWebhookDelivery } from './webhook-delivery.js';

const OLD = 'whsec_old_secret_for_tests';
const NEW = 'whsec_new_secret_for_tests';
const BODY = JSON.stringify({ id: 'evt_1', object: 'event', type: 'customer.created' }, null, 2);
const now = (): number => Math.floor(Date.now() / 1000);

const sign = (payload: string, secret: string, timestamp = now()): string =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

const STORED: WebhookEvent = {
  id: 'whevt_1' as WebhookEventId,
  stripeEventId: 'evt_1',
  type: 'customer.created',
  apiVersion: null,
  livemode: false,
  objectId: null,
  payload: BODY,
  signatureVerified: true,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: new Date(),
  lastError: null,
  stripeCreatedAt: new Date(),
  receivedAt: new Date(),
  processedAt: null,
};

describe('checkWebhookSignature', () => {
  it('refuses every delivery when no secret is configured, rather than accept unsigned ones', () => {
    expect(checkWebhookSignature(Buffer.from(BODY), sign(BODY, OLD), [])).toEqual({
      kind: 'rejected',
      reason: 'no_signing_secret',
      message: expect.stringContaining('STRIPE_WEBHOOK_SECRETS'),
    });
  });

  it('accepts a body signed with any configured secret, says which, and hands on the exact text', () => {
    const signedAt = now();
    expect(checkWebhookSignature(Buffer.from(BODY), sign(BODY, NEW, signedAt), [OLD, NEW])).toEqual({
      kind: 'verified',
      payload: BODY,
      secretIndex: 1,
      signedAt: new Date(signedAt * 1000),
    });
  });

  it('names the failed check, and never echoes the payload', () => {
    const check = checkWebhookSignature(Buffer.from(`${BODY} `), sign(BODY, OLD), [OLD]);
    expect(check).toEqual({ kind: 'rejected', reason: 'signature_mismatch', message: expect.any(String) });
    expect(JSON.stringify(check)).not.toContain('customer.created');
  });
});

describe('receiveWebhookDelivery', () => {
  const verified = checkWebhookSignature(Buffer.from(BODY), sign(BODY, OLD), [OLD]);

  it('passes a refusal on without touching the inbox', async () => {
    const receive = jest.fn();
    const refused = checkWebhookSignature(Buffer.from(BODY), undefined, [OLD]);
    await expect(receiveWebhookDelivery({ receive }, refused)).resolves.toEqual(refused);
    expect(receive).not.toHaveBeenCalled();
  });

  it('stores a verified delivery and says whether it was new', async () => {
    const receive = jest.fn().mockResolvedValue({ inserted: false, event: STORED });
    await expect(receiveWebhookDelivery({ receive }, verified)).resolves.toEqual({
      kind: 'accepted',
      inserted: false,
      event: STORED,
    });
    expect(receive).toHaveBeenCalledWith(BODY);
  });

  it('refuses a signed payload the gateway cannot decode: retrying would not help', async () => {
    const receive = jest.fn().mockRejectedValue(new UnknownGatewayStateError('not an event'));
    await expect(receiveWebhookDelivery({ receive }, verified)).resolves.toEqual({
      kind: 'rejected',
      reason: 'invalid_payload',
      message: expect.any(String),
    });
  });

  it.each([
    ['a driver error', new Error('connection terminated')],
    ['a dependency error', new DependencyUnavailableError('database away')],
  ])(
    'turns %s while storing into a retryable dependency_unavailable, so nothing is acknowledged',
    async (_, error) => {
      const receive = jest.fn().mockRejectedValue(error);
      await expect(receiveWebhookDelivery({ receive }, verified)).rejects.toMatchObject({
        code: 'dependency_unavailable',
        retryable: true,
      });
    },
  );
});

describe('createWebhookInbox', () => {
  it('verifies with its secrets, then stores', async () => {
    const receive = jest.fn().mockResolvedValue({ inserted: true, event: STORED });
    const inbox = createWebhookInbox({ webhooks: { receive }, secrets: [OLD] });
    await expect(inbox.receive(Buffer.from(BODY), sign(BODY, NEW))).resolves.toMatchObject({
      kind: 'rejected',
      reason: 'signature_mismatch',
    });
    await expect(inbox.receive(Buffer.from(BODY), sign(BODY, OLD))).resolves.toMatchObject({
      kind: 'accepted',
      inserted: true,
    });
    expect(receive).toHaveBeenCalledTimes(1);
  });
});
