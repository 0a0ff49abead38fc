import type { NewWebhookEvent, WebhookEvent } from '@pay/core';
import { DeliveryBatcher, type StoreDeliveries, type StoredDelivery } from './delivery-batcher.js';

function delivery(stripeEventId: string): NewWebhookEvent {
  const at = new Date('2026-11-26T12:00:00Z');
  return {
    stripeEventId,
    type: 'payment_intent.succeeded',
    apiVersion: null,
    livemode: false,
    objectId: null,
    payload: '{}',
    signatureVerified: true,
    stripeCreatedAt: at,
    receivedAt: at,
  };
}

function rowOf(input: NewWebhookEvent): WebhookEvent {
  return {
    ...input,
    id: `whevt_${input.stripeEventId}` as WebhookEvent['id'],
    status: 'pending',
    attempts: 0,
    nextAttemptAt: input.receivedAt,
    lastError: null,
    processedAt: null,
  };
}

/** A store that records each statement's batch and answers when told to. */
function recordingStore(fail: (ids: readonly string[]) => Error | null = () => null) {
  const statements: string[][] = [];
  const pending: (() => void)[] = [];
  const storeMany: StoreDeliveries = (inputs) => {
    const ids = inputs.map((input) => input.stripeEventId);
    statements.push(ids);
    return new Promise((resolve, reject) => {
      pending.push(() => {
        const error = fail(ids);
        if (error !== null) {
          reject(error);
          return;
        }
        resolve(
          new Map<string, StoredDelivery>(
            inputs.map((input) => [input.stripeEventId, { event: rowOf(input), inserted: true }]),
          ),
        );
      });
    });
  };
  /** Lets every statement sent so far answer, and the ones they lead to, until none is left. */
  async function settle(): Promise<void> {
    for (let rounds = 0; rounds < 20; rounds++) {
      await new Promise((resolve) => setImmediate(resolve));
      const due = pending.splice(0);
      for (const answer of due) {
        answer();
      }
    }
  }
  return { storeMany, statements, settle };
}

describe('DeliveryBatcher: the webhook inbox group commit', () => {
  it('stores a delivery that arrives alone at once, in a statement of its own', async () => {
    const store = recordingStore();
    const batcher = new DeliveryBatcher(store.storeMany);
    const stored = batcher.store(delivery('evt_1'));
    expect(store.statements).toEqual([['evt_1']]);
    await store.settle();
    expect(await stored).toMatchObject({ inserted: true, event: { stripeEventId: 'evt_1' } });
  });

  it('stores the deliveries that arrive while a statement runs together, in the next one', async () => {
    const store = recordingStore();
    const batcher = new DeliveryBatcher(store.storeMany);
    const all = ['evt_1', 'evt_2', 'evt_3', 'evt_4'].map((id) => batcher.store(delivery(id)));
    await store.settle();
    expect(store.statements).toEqual([['evt_1'], ['evt_2', 'evt_3', 'evt_4']]);
    expect((await Promise.all(all)).map((s) => s.inserted)).toEqual([true, true, true, true]);
  });

  it('answers no caller before its own statement has answered', async () => {
    const store = recordingStore();
    const batcher = new DeliveryBatcher(store.storeMany);
    let answered = false;
    void batcher.store(delivery('evt_1')).then(() => {
      answered = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    await store.settle();
    expect(answered).toBe(true);
  });

  it('stores two deliveries of one event in one batch once: only the first says it inserted it', async () => {
    const store = recordingStore();
    const batcher = new DeliveryBatcher(store.storeMany);
    void batcher.store(delivery('evt_0'));
    const twice = [batcher.store(delivery('evt_1')), batcher.store(delivery('evt_1'))];
    await store.settle();
    expect(store.statements).toEqual([['evt_0'], ['evt_1']]);
    const [first, second] = await Promise.all(twice);
    expect(first?.inserted).toBe(true);
    expect(second).toEqual({ event: first?.event, inserted: false });
  });

  it('fails only the delivery the database refuses: a failed batch is stored again one by one', async () => {
    const refused = new Error('new row violates check constraint');
    const store = recordingStore((ids) => (ids.includes('evt_bad') ? refused : null));
    const batcher = new DeliveryBatcher(store.storeMany);
    void batcher.store(delivery('evt_0'));
    const results = Promise.allSettled(
      ['evt_1', 'evt_bad', 'evt_2'].map((id) => batcher.store(delivery(id))),
    );
    await store.settle();
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[1]).toEqual({ status: 'rejected', reason: refused });
    expect(store.statements).toEqual([
      ['evt_0'],
      ['evt_1', 'evt_bad', 'evt_2'],
      ['evt_1'],
      ['evt_bad'],
      ['evt_2'],
    ]);
  });

  it('fails the whole batch at once when the connection is lost: nothing is tried again', async () => {
    const lost = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    const store = recordingStore((ids) => (ids.length > 1 ? lost : null));
    const batcher = new DeliveryBatcher(store.storeMany);
    void batcher.store(delivery('evt_0'));
    const results = Promise.allSettled(['evt_1', 'evt_2'].map((id) => batcher.store(delivery(id))));
    await store.settle();
    expect((await results).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(store.statements).toEqual([['evt_0'], ['evt_1', 'evt_2']]);
  });
});
