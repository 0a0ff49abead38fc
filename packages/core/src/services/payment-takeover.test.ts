import type { CreateIntentInput, GatewayIntent } from '../index.js';
import { paymentHarness } from '../../test/memory/payment-harness.js';

/*
 * Found by the interleaving test (RELIABILITY.md I2): a request stalls while Stripe creates its intent,
 * its lock goes stale, and the client's retry takes the key over and finishes the payment with the same
 * Stripe keys. When the stalled request wakes, Stripe answers it with that same intent — which the
 * payment now records. It used to read "the payment moved on without this intent" and cancel the intent
 * at Stripe: a 409 for a payment that succeeded, or a live 3-D Secure challenge canceled under the card
 * holder. The intent is the payment's own: the stalled request now carries on from it.
 */

const KEY = 'takeover-key-00000000000000001';
const LOCK_TIMEOUT_MS = 60_000;

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe.each([
  ['pm_card_visa', 'succeeded'],
  ['pm_card_threeDSecure2Required', 'requires_action'],
] as const)('a request that wakes after its retry took the key over (%s)', (card, outcome) => {
  it('answers as the retry did and never cancels the payment’s intent', async () => {
    const h = await paymentHarness();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = false;
    // The first createIntent stalls before Stripe acts; every other call goes straight to the twin.
    const gateway = new Proxy(h.gateway, {
      get(target, name, receiver) {
        if (name === 'createIntent') {
          return async (input: CreateIntentInput): Promise<GatewayIntent> => {
            if (!stalled) {
              stalled = true;
              await held;
            }
            return target.createIntent(input);
          };
        }
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const service = h.service({ gateway });

    const first = service.create(...h.request(KEY, { paymentMethodId: card }));
    while (!stalled) {
      await settle();
    }
    h.clock.advance(LOCK_TIMEOUT_MS + 1_000);
    const retry = await service.create(...h.request(KEY, { paymentMethodId: card }));
    expect(retry).toMatchObject({ replayed: false, result: { kind: outcome } });

    release();
    const woke = await first;
    expect(woke.result.kind).toBe(outcome);
    expect(h.gateway.count('cancelIntent')).toBe(0);
    expect(h.gateway.allIntents().map((i) => i.status)).toEqual([outcome]);
    expect(h.memory.tables.payments.map((p) => p.status)).toEqual([outcome]);
    expect(h.memory.tables.idempotencyKeys[0]).toMatchObject({ lockedAt: null, recoveryPoint: 'finished' });
  });
});
