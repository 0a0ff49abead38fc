import {
  PaymentService,
  silentLogger,
  type Account,
  type Clock,
  type CreatePaymentInput,
  type FaultPoints,
  type IdempotentRequest,
  type PaymentServiceDeps,
  type Plan,
  type Repositories,
  type Store,
} from '../../src/index.js';
import { MemoryGateway } from './memory-gateway.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current: Date = new Date('2026-01-31T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** What a crash point throws in a unit test, where the real build SIGKILLs the process. */
export class SimulatedCrash extends Error {
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
  }
}

/**
 * Crash points for unit tests: an armed point "kills the process" — it throws, and the store refuses
 * every later call, so nothing the dying process would not have written (a key release, a rollback's
 * aftermath) gets written. `restart()` brings the store back, as a new process would find it.
 */
export class CrashingFaults implements FaultPoints {
  readonly reached: string[] = [];
  private armed: string | null = null;
  halted = false;

  arm(point: string): void {
    this.armed = point;
  }

  reach(point: string): void {
    this.reached.push(point);
    if (point === this.armed) {
      this.armed = null;
      this.halted = true;
      throw new SimulatedCrash(point);
    }
  }

  restart(): void {
    this.halted = false;
    this.armed = null;
  }
}

/** `repos` that throw once the process has "crashed". */
function haltable(repos: Repositories, faults: CrashingFaults): Repositories {
  return new Proxy(repos, {
    get(target, name: keyof Repositories) {
      const repository = target[name] as unknown as Record<string, unknown>;
      return new Proxy(repository, {
        get(inner, method: string) {
          const fn = inner[method];
          if (typeof fn !== 'function') {
            return fn;
          }
          return (...args: unknown[]): unknown => {
            if (faults.halted) {
              return Promise.reject(new Error('the process is gone (simulated crash)'));
            }
            return (fn as (...a: unknown[]) => unknown).apply(inner, args);
          };
        },
      });
    },
  });
}

/** Serialises transactions (as PGlite's one connection does), so a rollback never undoes another's writes. */
export function serialised(store: Store, faults: CrashingFaults): Store {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    repos: haltable(store.repos, faults),
    transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      const run = queue.then(() => {
        if (faults.halted) {
          throw new Error('the process is gone (simulated crash)');
        }
        return store.transaction((tx) => fn(haltable(tx, faults)));
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

export const RETURN_ORIGIN = 'https://shop.example';
export const API_BASE = 'https://pay.example';

/** The service, its in-memory world, an account with a monthly plan (2000 usd), and request builders. */
export interface PaymentHarness {
  readonly clock: FakeClock;
  readonly memory: MemoryStore;
  readonly store: Store;
  readonly gateway: MemoryGateway;
  readonly faults: CrashingFaults;
  readonly account: Account;
  readonly plan: Plan;
  readonly gatewayCalls: { call: string; outcome: 'ok' | 'error' }[];
  /** A new service over the same world: what a restarted process builds. */
  service(overrides?: Partial<PaymentServiceDeps>): PaymentService;
  /** A payment request and its idempotency, for `key`. */
  request(
    key: string,
    input?: Partial<CreatePaymentInput>,
    request?: Partial<IdempotentRequest>,
  ): [CreatePaymentInput, IdempotentRequest];
}

export async function paymentHarness(): Promise<PaymentHarness> {
  const clock = new FakeClock();
  const memory = createMemoryStore({ clock });
  const faults = new CrashingFaults();
  const store = serialised(memory.store, faults);
  const gateway = new MemoryGateway(clock);
  const account = await memory.store.repos.accounts.create({ name: 'Acme' });
  const plan = await memory.store.repos.plans.create({
    accountId: account.id,
    name: 'Pro monthly',
    amount: 2000,
    currency: 'usd',
    interval: 'month',
  });
  const gatewayCalls: { call: string; outcome: 'ok' | 'error' }[] = [];
  let requests = 0;
  return {
    clock,
    memory,
    store,
    gateway,
    faults,
    account,
    plan,
    gatewayCalls,
    service: (overrides = {}) =>
      new PaymentService({
        store,
        gateway,
        clock,
        logger: silentLogger,
        threeDSecureReturnUrl: (id) => `${API_BASE}/api/v1/payments/${id}/return`,
        returnUrlOrigins: [RETURN_ORIGIN],
        faults,
        observeGatewayCall: (call, _seconds, outcome) => gatewayCalls.push({ call, outcome }),
        ...overrides,
      }),
    request: (key, input = {}, request = {}) => {
      requests += 1;
      const full: CreatePaymentInput = {
        accountId: account.id,
        userId: 'user-1',
        planId: plan.id,
        paymentMethodId: 'pm_card_visa',
        returnUrl: `${RETURN_ORIGIN}/thanks`,
        ...input,
      };
      return [
        full,
        {
          accountId: full.accountId,
          key,
          method: 'POST',
          path: '/api/v1/payments',
          params: {
            user_id: full.userId,
            plan_id: full.planId,
            payment_method_id: full.paymentMethodId,
            return_url: full.returnUrl,
          },
          requestId: `req_${requests}`,
          ...request,
        },
      ];
    },
  };
}
