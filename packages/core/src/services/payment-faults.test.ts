import type { GatewayFaultKind, GatewayMethod } from '../../test/memory/memory-gateway.js';
import { paymentHarness, type PaymentHarness } from '../../test/memory/payment-harness.js';
import {
  DependencyUnavailableError,
  GatewayRateLimitedError,
  GatewayUnavailableError,
  UnknownGatewayStateError,
} from '../errors.js';
import type { PaymentService } from './payment-service.js';

/* RELIABILITY.md B1–B4 in core: a gateway call that ends without an answer never charges twice. */

let h: PaymentHarness;
let service: PaymentService;

beforeEach(async () => {
  h = await paymentHarness();
  service = h.service();
});

const KEY = 'key-fault-000000000000001';

function onlyPayment(h: PaymentHarness) {
  expect(h.memory.tables.payments).toHaveLength(1);
  return h.memory.tables.payments[0];
}

describe.each<[GatewayMethod, string]>([
  ['createCustomer', 'payment_created'],
  ['attachPaymentMethod', 'payment_created'],
  ['createIntent', 'card_attached'],
  ['confirmIntent', 'intent_created'],
])('a %s that ends without an answer', (method, recoveryPoint) => {
  it.each<GatewayFaultKind>(['unavailable_before', 'unavailable_after'])(
    '(%s) leaves the payment pending, releases the key at its recovery point, and the retry charges once',
    async (kind) => {
      h.gateway.fail(method, kind);
      const attempt = service.create(...h.request(KEY));
      await expect(attempt).rejects.toBeInstanceOf(GatewayUnavailableError);
      await expect(attempt).rejects.toMatchObject({ retryable: true, code: 'dependency_unavailable' });

      expect(onlyPayment(h)).toMatchObject({ status: 'pending' });
      expect(h.memory.tables.subscriptions.map((s) => s.status)).toEqual(['incomplete']);
      expect(h.memory.tables.idempotencyKeys[0]).toMatchObject({
        lockedAt: null,
        recoveryPoint,
        responseStatus: null,
      });
      expect(h.gatewayCalls.at(-1)).toEqual({ call: expect.any(String), outcome: 'error' });

      const retry = await service.create(...h.request(KEY));
      expect(retry).toMatchObject({ replayed: false, result: { kind: 'succeeded' } });
      expect(onlyPayment(h)).toMatchObject({ status: 'succeeded' });
      expect(h.gateway.allIntents()).toHaveLength(1);
      expect(h.gateway.allIntents()[0]?.status).toBe('succeeded');
      expect(h.gateway.customerCount()).toBe(1);
      // The retried call carried the same key: Stripe answered it from its cache when it had acted.
      const sent = h.gateway.calls.filter((c) => c.method === method);
      expect(sent).toHaveLength(2);
      expect(sent[0]?.idempotencyKey).toBe(sent[1]?.idempotencyKey);
      expect(sent[1]?.replayed).toBe(kind === 'unavailable_after');
      expect(h.memory.tables.paymentEvents.map((e) => e.toStatus)).toEqual(['pending', 'succeeded']);
    },
  );
});

it('passes Stripe’s rate limit on as a retryable error with its Retry-After, and resumes', async () => {
  h.gateway.fail('createIntent', 'rate_limited');
  const attempt = service.create(...h.request(KEY));
  await expect(attempt).rejects.toBeInstanceOf(GatewayRateLimitedError);
  await expect(attempt).rejects.toMatchObject({ retryable: true, context: { retryAfterSeconds: 1 } });
  expect((await service.create(...h.request(KEY))).result.kind).toBe('succeeded');
  expect(h.gateway.allIntents()).toHaveLength(1);
});

it('stores nothing for a state pay does not know: the key is released and the payment stays pending', async () => {
  h.gateway.fail('confirmIntent', 'unknown_state');
  await expect(service.create(...h.request(KEY))).rejects.toBeInstanceOf(UnknownGatewayStateError);
  expect(onlyPayment(h)).toMatchObject({ status: 'pending' });
  expect(h.memory.tables.idempotencyKeys[0]).toMatchObject({
    lockedAt: null,
    responseStatus: null,
    recoveryPoint: 'intent_created',
  });
  expect((await service.create(...h.request(KEY))).result.kind).toBe('succeeded');
});

it('keeps failing the same way while Stripe is down, never with a new key, and converges afterwards', async () => {
  h.gateway.fail('confirmIntent', 'unavailable_before', 3);
  for (let i = 0; i < 3; i++) {
    await expect(service.create(...h.request(KEY))).rejects.toBeInstanceOf(DependencyUnavailableError);
  }
  expect((await service.create(...h.request(KEY))).result.kind).toBe('succeeded');
  const confirmKeys = new Set(
    h.gateway.calls.filter((c) => c.method === 'confirmIntent').map((c) => c.idempotencyKey),
  );
  expect(confirmKeys.size).toBe(1);
  expect(h.gateway.count('createIntent')).toBe(1);
});

it('treats a database failure while recording a phase as retryable and resumes from the last committed point', async () => {
  let failNext = false;
  let armed = true;
  const flaky = h.service({
    store: {
      repos: h.store.repos,
      transaction: (fn) =>
        failNext
          ? ((failNext = false), Promise.reject(new Error('could not serialize access (40001)')))
          : h.store.transaction(fn),
    },
    observeGatewayCall: (call) => {
      if (call === 'create_intent' && armed) {
        armed = false;
        failNext = true;
      }
    },
  });
  const attempt = flaky.create(...h.request(KEY));
  await expect(attempt).rejects.toBeInstanceOf(DependencyUnavailableError);
  await expect(attempt).rejects.toMatchObject({ message: expect.stringMatching(/same Idempotency-Key/) });
  expect(h.memory.tables.idempotencyKeys[0]).toMatchObject({
    lockedAt: null,
    recoveryPoint: 'card_attached',
  });
  expect((await flaky.create(...h.request(KEY))).result.kind).toBe('succeeded');
  expect(h.gateway.allIntents()).toHaveLength(1);
  expect(h.gateway.calls.filter((c) => c.method === 'createIntent').map((c) => c.replayed)).toEqual([
    false,
    true,
  ]);
});
