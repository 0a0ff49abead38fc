import { InternalError, type NewWebhookEvent, type WebhookEvent } from '@pay/core';
import { isConnectionLoss } from '../connection-loss.js';

/** What storing one delivery answers: the stored row, and whether this delivery stored it. */
export interface StoredDelivery {
  readonly event: WebhookEvent;
  readonly inserted: boolean;
}

/** Stores a batch of deliveries (distinct Stripe ids) in one statement; the answer per Stripe id. */
export type StoreDeliveries = (
  inputs: readonly NewWebhookEvent[],
) => Promise<ReadonlyMap<string, StoredDelivery>>;

interface Waiting {
  readonly input: NewWebhookEvent;
  readonly resolve: (stored: StoredDelivery) => void;
  readonly reject: (error: unknown) => void;
}

/** The most deliveries one INSERT carries: about 250 KB of 2.4 KB events. */
export const MAX_DELIVERIES_PER_STATEMENT = 100;

/**
 * Group commit for the webhook inbox. A delivery that arrives while nothing is being stored is stored at
 * once, alone; those that arrive while a statement runs wait for it and then go together in the next
 * one. No timer: a quiet inbox pays no delay, a busy one pays one round trip and one commit per batch
 * instead of per delivery. Each caller is answered only after its batch committed, so nothing is
 * acknowledged before it is durable.
 *
 * A batch that fails for any reason but the connection (lost, refused) is stored again one delivery at a time, so
 * one delivery the database refuses fails alone and never takes its neighbours' acknowledgements with
 * it. A connection failure fails the whole batch: every caller answers 503 and Stripe delivers again.
 */
export class DeliveryBatcher {
  private waiting: Waiting[] = [];
  private flushing = false;

  constructor(private readonly storeMany: StoreDeliveries) {}

  store(input: NewWebhookEvent): Promise<StoredDelivery> {
    return new Promise<StoredDelivery>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.flushing) {
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_DELIVERIES_PER_STATEMENT);
        await this.storeBatch(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async storeBatch(batch: readonly Waiting[]): Promise<void> {
    try {
      answer(batch, await this.storeMany(distinct(batch)));
    } catch (error) {
      if (batch.length === 1 || isConnectionLoss(error)) {
        for (const waiting of batch) {
          waiting.reject(error);
        }
        return;
      }
      await Promise.all(batch.map((waiting) => this.storeBatch([waiting])));
    }
  }
}

/** The batch's inputs with each Stripe id once (the first delivery of it stands for the rest). */
function distinct(batch: readonly Waiting[]): NewWebhookEvent[] {
  const byId = new Map<string, NewWebhookEvent>();
  for (const { input } of batch) {
    if (!byId.has(input.stripeEventId)) {
      byId.set(input.stripeEventId, input);
    }
  }
  return [...byId.values()];
}

/** Answers each caller; only the first delivery of a Stripe id in the batch can have inserted it. */
function answer(batch: readonly Waiting[], stored: ReadonlyMap<string, StoredDelivery>): void {
  const answered = new Set<string>();
  for (const waiting of batch) {
    const id = waiting.input.stripeEventId;
    const result = stored.get(id);
    if (result === undefined) {
      waiting.reject(
        new InternalError('A webhook event was stored but cannot be read back.', {
          context: { stripeEventId: id },
        }),
      );
      continue;
    }
    waiting.resolve(answered.has(id) ? { event: result.event, inserted: false } : result);
    answered.add(id);
  }
}
