import {
  PaymentService,
  WebhookService,
  silentLogger,
  type Account,
  type Payment,
  type Plan,
  type Store,
  type WebhookOutcome,
  type WebhookServiceDeps,
} from '../../src/index.js';
import { MemoryStripe, type Delivery } from './memory-stripe.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';
import { API_BASE, CrashingFaults, FakeClock, RETURN_ORIGIN, serialised } from './payment-harness.js';

/** The webhook service over an in-memory world where payments are taken through pay's own flow. */
export interface WebhookHarness {
  readonly clock: FakeClock;
  readonly memory: MemoryStore;
  readonly store: Store;
  readonly stripe: MemoryStripe;
  readonly faults: CrashingFaults;
  readonly account: Account;
  readonly plan: Plan;
  readonly outcomes: WebhookOutcome[];
  /** Stripe calls made while a transaction was open: must stay empty (STYLE.md R7). */
  readonly callsInTransaction: string[];
  readonly payments: PaymentService;
  readonly webhooks: WebhookService;
  /** A new webhook service over the same world (another worker, or a restarted process). */
  worker(overrides?: Partial<WebhookServiceDeps>): WebhookService;
  /** Takes a 2000 usd payment with `card` through the payment flow; returns it and its intent's id. */
  pay(card?: string): Promise<{ payment: Payment; intentId: string }>;
  /** The payment as stored now. */
  payment(id: Payment['id']): Payment;
  /** Delivers each event (the API's part: verified, then stored). */
  deliver(...deliveries: readonly Delivery[]): Promise<void>;
  /** Runs `hook` once, as the next transaction opens (before its first statement). */
  onNextTransaction(hook: () => void): void;
}

export async function webhookHarness(overrides: Partial<WebhookServiceDeps> = {}): Promise<WebhookHarness> {
  const clock = new FakeClock();
  const memory = createMemoryStore({ clock });
  const faults = new CrashingFaults();
  const serial = serialised(memory.store, faults);
  // Transactions run one at a time here, so a counter tells whether one is open.
  let open = 0;
  let nextTransactionHook: (() => void) | null = null;
  const store: Store = {
    repos: serial.repos,
    transaction: (fn) =>
      serial.transaction(async (tx) => {
        const hook = nextTransactionHook;
        nextTransactionHook = null;
        hook?.();
        open += 1;
        try {
          return await fn(tx);
        } finally {
          open -= 1;
        }
      }),
  };
  const stripe = new MemoryStripe(clock);
  const callsInTransaction: string[] = [];
  stripe.beforeRetrieve = (method) => {
    if (open > 0) {
      callsInTransaction.push(method);
    }
  };
  const account = await memory.store.repos.accounts.create({ name: 'Acme' });
  const plan = await memory.store.repos.plans.create({
    accountId: account.id,
    name: 'Pro monthly',
    amount: 2000,
    currency: 'usd',
    interval: 'month',
  });
  const outcomes: WebhookOutcome[] = [];
  const payments = new PaymentService({
    store,
    gateway: stripe,
    clock,
    logger: silentLogger,
    threeDSecureReturnUrl: (id) => `${API_BASE}/api/v1/payments/${id}/return`,
    returnUrlOrigins: [RETURN_ORIGIN],
  });
  const worker = (more: Partial<WebhookServiceDeps> = {}) =>
    new WebhookService({
      store,
      gateway: stripe,
      clock,
      logger: silentLogger,
      faults,
      observe: (outcome) => outcomes.push(outcome),
      ...overrides,
      ...more,
    });
  let users = 0;
  const harness: WebhookHarness = {
    clock,
    memory,
    store,
    stripe,
    faults,
    account,
    plan,
    outcomes,
    callsInTransaction,
    payments,
    webhooks: worker(),
    worker,
    onNextTransaction(hook) {
      nextTransactionHook = hook;
    },
    async pay(card = 'pm_card_visa') {
      users += 1;
      const attempt = await payments.create(
        {
          accountId: account.id,
          userId: `user-${users}`,
          planId: plan.id,
          paymentMethodId: card,
          returnUrl: `${RETURN_ORIGIN}/thanks`,
        },
        {
          accountId: account.id,
          key: `key-${users}-${'x'.repeat(24)}`,
          method: 'POST',
          path: '/api/v1/payments',
          params: { card, users },
          requestId: `req_${users}`,
        },
      );
      const payment = harness.payment(attempt.result.view.payment.id);
      if (payment.stripePaymentIntentId === null) {
        throw new Error('setup: the payment has no intent');
      }
      return { payment, intentId: payment.stripePaymentIntentId };
    },
    payment(id) {
      const payment = memory.tables.payments.find((p) => p.id === id);
      if (payment === undefined) {
        throw new Error(`no payment ${id}`);
      }
      return payment;
    },
    async deliver(...deliveries) {
      for (const delivery of deliveries) {
        await harness.webhooks.receive(delivery.payload);
      }
    },
  };
  return harness;
}
