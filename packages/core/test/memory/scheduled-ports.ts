import { createHash } from 'node:crypto';
import type fc from 'fast-check';
import type { GatewayEvents, PaymentGateway, RefundGateway, Repositories, Store } from '../../src/index.js';

/*
 * The in-memory ports with their async points handed to a fast-check scheduler (RELIABILITY.md I2), so a
 * property can try every order in which concurrent requests, webhooks and recovery reach them: each
 * gateway call waits for the scheduler before Stripe acts and again before its answer comes back (the
 * answer may be overtaken), each transaction waits before it begins, and each single read or write made
 * outside a transaction waits before it runs. Failures shrink to a minimal ordering, which the
 * scheduler's report names by these labels.
 */

/** Everything the payment flow, refunds and the webhook worker ask of Stripe. */
export type SchedulableGateway = PaymentGateway & RefundGateway & GatewayEvents;

/** Waits for the scheduler to let `label` through. */
function turn(s: fc.Scheduler, label: string): Promise<void> {
  return s.schedule(Promise.resolve(), label);
}

/** `gateway` whose calls are released by `s`: once before Stripe acts, once before the caller hears. */
export function scheduledGateway(gateway: SchedulableGateway, s: fc.Scheduler): SchedulableGateway {
  const call =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await turn(s, `stripe ${name}: sent`);
      const answer = await fn(...args).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await turn(s, `stripe ${name}: answered`);
      if (!answer.ok) {
        throw answer.error;
      }
      return answer.value;
    };
  return {
    createCustomer: call('createCustomer', (input) => gateway.createCustomer(input)),
    attachPaymentMethod: call('attachPaymentMethod', (input) => gateway.attachPaymentMethod(input)),
    createIntent: call('createIntent', (input) => gateway.createIntent(input)),
    confirmIntent: call('confirmIntent', (input) => gateway.confirmIntent(input)),
    retrieveIntent: call('retrieveIntent', (id) => gateway.retrieveIntent(id)),
    findIntentByPaymentId: call('findIntentByPaymentId', (input) => gateway.findIntentByPaymentId(input)),
    cancelIntent: call('cancelIntent', (input) => gateway.cancelIntent(input)),
    createRefund: call('createRefund', (input) => gateway.createRefund(input)),
    retrieveRefund: call('retrieveRefund', (id) => gateway.retrieveRefund(id)),
    findRefundByRefundId: call('findRefundByRefundId', (input) => gateway.findRefundByRefundId(input)),
    retrieveCharge: call('retrieveCharge', (id) => gateway.retrieveCharge(id)),
    retrieveDispute: call('retrieveDispute', (id) => gateway.retrieveDispute(id)),
    listEvents: call('listEvents', (query) => gateway.listEvents(query)),
    // Decoding is local work, not a call to Stripe.
    decodeEvent: (payload) => gateway.decodeEvent(payload),
  };
}

/** `repos` whose every call waits for the scheduler first (reads and writes made outside a transaction). */
function scheduledRepos(repos: Repositories, s: fc.Scheduler): Repositories {
  return new Proxy(repos, {
    get(target, name: keyof Repositories) {
      const repository = target[name] as unknown as Record<string, unknown>;
      return new Proxy(repository, {
        get(inner, method: string) {
          const fn = inner[method];
          if (typeof fn !== 'function') {
            return fn;
          }
          return async (...args: unknown[]): Promise<unknown> => {
            await turn(s, `db ${String(name)}.${method}`);
            return (fn as (...a: unknown[]) => unknown).apply(inner, args);
          };
        },
      });
    },
  });
}

/**
 * `store` whose transactions wait for the scheduler before they begin, and whose direct repository calls
 * wait before they run. A transaction's own calls run unscheduled: it is atomic, as the serialised store
 * makes it.
 */
export function scheduledStore(store: Store, s: fc.Scheduler): Store {
  return {
    repos: scheduledRepos(store.repos, s),
    transaction: async (fn) => {
      await turn(s, 'db transaction');
      return store.transaction(fn);
    },
  };
}

/**
 * Makes `crypto.subtle.digest` (pay hashes idempotent requests with it) answer SHA-256 without going
 * through libuv's thread pool — the same bytes, from `node:crypto` — so the only async points a scheduled
 * property meets are the scheduler's own, and an order replays the same way. Returns the undo.
 */
export function digestWithoutThreadPool(): () => void {
  const subtle = globalThis.crypto.subtle;
  const original = Object.getOwnPropertyDescriptor(subtle, 'digest');
  const digest: typeof subtle.digest = (algorithm, data) => {
    const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
    if (name.toUpperCase() !== 'SHA-256') {
      return Promise.reject(new Error(`digestWithoutThreadPool knows SHA-256 only, not ${name}`));
    }
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    const hash = createHash('sha256').update(bytes).digest();
    return Promise.resolve(hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength));
  };
  Object.defineProperty(subtle, 'digest', { value: digest, configurable: true, writable: true });
  return () => {
    if (original === undefined) {
      Reflect.deleteProperty(subtle, 'digest');
    } else {
      Object.defineProperty(subtle, 'digest', original);
    }
  };
}
