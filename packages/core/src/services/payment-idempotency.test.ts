import { paymentHarness, SimulatedCrash, type PaymentHarness } from '../../test/memory/payment-harness.js';
import type { MemoryTables } from '../../test/memory/memory-store.js';
import {
  DependencyUnavailableError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import { newId } from '../ids.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS } from './idempotency.js';
import type { PaymentService } from './payment-service.js';
import type { CreatePaymentInput } from './payment-results.js';

let h: PaymentHarness;
let service: PaymentService;

beforeEach(async () => {
  h = await paymentHarness();
  service = h.service();
});

/** Row counts of every table the payment flow writes. */
function written(tables: MemoryTables) {
  return {
    keys: tables.idempotencyKeys.length,
    customers: tables.customers.length,
    cards: tables.paymentMethods.length,
    payments: tables.payments.length,
    paymentEvents: tables.paymentEvents.length,
    subscriptions: tables.subscriptions.length,
    subscriptionEvents: tables.subscriptionEvents.length,
  };
}

const NOTHING = {
  keys: 0,
  customers: 0,
  cards: 0,
  payments: 0,
  paymentEvents: 0,
  subscriptions: 0,
  subscriptionEvents: 0,
};

describe('same key, other request', () => {
  it.each([
    ['another plan', { input: { userId: 'user-2' } }],
    ['another card', { input: { paymentMethodId: 'pm_card_mastercard' } }],
    ['another path', { request: { path: '/api/v1/refunds' } }],
  ])('with %s is refused (422) and neither writes nor calls Stripe', async (_what, change) => {
    const first = await service.create(...h.request('key-reuse-000000000000001'));
    const before = written(h.memory.tables);
    const calls = h.gateway.count();
    const [input, request] = h.request(
      'key-reuse-000000000000001',
      'input' in change ? change.input : {},
      'request' in change ? change.request : {},
    );
    const attempt = service.create(input, request);
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect(written(h.memory.tables)).toEqual(before);
    expect(h.gateway.count()).toBe(calls);
    // The stored answer is untouched: the original request still replays.
    expect(await service.create(...h.request('key-reuse-000000000000001'))).toEqual({
      replayed: true,
      result: first.result,
    });
  });

  it('of another account is another key: two payments, neither visible to the other account', async () => {
    const other = await h.memory.store.repos.accounts.create({ name: 'Other' });
    const theirPlan = await h.memory.store.repos.plans.create({
      accountId: other.id,
      name: 'Theirs',
      amount: 500,
      currency: 'eur',
      interval: 'year',
    });
    const mine = await service.create(...h.request('key-shared-00000000000001'));
    const theirs = await service.create(
      ...h.request('key-shared-00000000000001', { accountId: other.id, planId: theirPlan.id }),
    );
    expect(theirs.replayed).toBe(false);
    expect(theirs.result.view.payment).toMatchObject({ accountId: other.id, amount: 500, currency: 'eur' });
    expect(h.memory.tables.payments).toHaveLength(2);
    await expect(service.get(other.id, mine.result.view.payment.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('a key whose first request is still running', () => {
  it('is refused with 409 and Retry-After, then taken over once the lock is stale', async () => {
    h.faults.arm('payment.after_key_insert');
    await expect(service.create(...h.request('key-running-0000000000001'))).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    h.faults.restart();
    const restarted = h.service();

    const busy = restarted.create(...h.request('key-running-0000000000001'));
    await expect(busy).rejects.toBeInstanceOf(IdempotencyKeyInUseError);
    await expect(busy).rejects.toMatchObject({ retryable: true, context: { retryAfterSeconds: 1 } });
    expect(h.gateway.count()).toBe(0);
    expect(h.memory.tables.payments.map((p) => p.status)).toEqual(['pending']);

    h.clock.advance(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1);
    const resumed = await restarted.create(...h.request('key-running-0000000000001'));
    expect(resumed).toMatchObject({ replayed: false, result: { kind: 'succeeded' } });
    expect(h.memory.tables.payments).toHaveLength(1);
    expect(h.gateway.allIntents()).toHaveLength(1);
  });

  it('answers 409 to the concurrent duplicate of a request in flight; exactly one charge is made', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, () => service.create(...h.request('key-storm-000000000000001'))),
    );
    const fulfilled = attempts.filter((a) => a.status === 'fulfilled');
    const rejected = attempts.filter((a) => a.status === 'rejected');
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    for (const r of rejected) {
      expect(r.reason).toBeInstanceOf(IdempotencyKeyInUseError);
    }
    expect(h.memory.tables.payments).toHaveLength(1);
    expect(h.gateway.allIntents()).toHaveLength(1);
    expect(h.gateway.count('confirmIntent')).toBe(1);
  });
});

describe('two first payments of one new user at once, with different keys', () => {
  it('share one customer and one Stripe customer', async () => {
    const results = await Promise.all([
      service.create(...h.request('key-user-a-00000000000001', { userId: 'newcomer' })),
      service.create(...h.request('key-user-b-00000000000001', { userId: 'newcomer' })),
    ]);
    expect(results.map((r) => r.result.kind)).toEqual(['succeeded', 'succeeded']);
    expect(h.memory.tables.customers).toHaveLength(1);
    expect(h.gateway.customerCount()).toBe(1);
    expect(new Set(h.memory.tables.payments.map((p) => p.customerId)).size).toBe(1);
  });
});

describe('validation', () => {
  const cases: [string, Partial<CreatePaymentInput>, string, RegExp][] = [
    ['an empty user_id', { userId: '' }, 'user_id', /1 to 255/],
    ['a user_id too long', { userId: 'u'.repeat(256) }, 'user_id', /1 to 255/],
    ['a plan id of the wrong kind', { planId: 'price_123' }, 'plan_id', /not a valid plan id/],
    ['a card number as payment method', { paymentMethodId: '4242424242424242' }, 'payment_method_id', /pm_/],
    ['a payment method with odd characters', { paymentMethodId: 'pm_abc;drop' }, 'payment_method_id', /pm_/],
    ['a relative return_url', { returnUrl: '/thanks' }, 'return_url', /absolute/],
    [
      'a return_url of another origin',
      { returnUrl: 'https://evil.example/x' },
      'return_url',
      /allowed origins/,
    ],
    [
      'an http return_url for an https origin',
      { returnUrl: 'http://shop.example/x' },
      'return_url',
      /allowed/,
    ],
    ['a javascript: return_url', { returnUrl: 'javascript:alert(1)' }, 'return_url', /https/],
    ['a data: return_url', { returnUrl: 'data:text/html,hi' }, 'return_url', /https/],
    [
      'user info before the host',
      { returnUrl: 'https://shop.example@evil.example/' },
      'return_url',
      /user info/,
    ],
    [
      'user info on the allowed host',
      { returnUrl: 'https://user:pw@shop.example/' },
      'return_url',
      /user info/,
    ],
    ['a tab in the URL', { returnUrl: 'https://shop.example\t.evil.example/' }, 'return_url', /control/],
    [
      'a backslash in the URL',
      { returnUrl: 'https://evil.example\\@shop.example/' },
      'return_url',
      /backslash/,
    ],
    ['an IDN look-alike host', { returnUrl: 'https://sh\u043ep.example/x' }, 'return_url', /allowed/],
    [
      'a longer host ending like the origin',
      { returnUrl: 'https://shop.example.evil.example/' },
      'return_url',
      /allowed/,
    ],
  ];

  it.each(cases)(
    'refuses %s before writing anything or calling Stripe',
    async (_what, input, param, message) => {
      const attempt = service.create(...h.request('key-invalid-0000000000001', input));
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ param, message: expect.stringMatching(message) });
      expect(written(h.memory.tables)).toEqual(NOTHING);
      expect(h.gateway.count()).toBe(0);
      // Not stored: the corrected request with the same key goes through.
      const corrected = await service.create(...h.request('key-invalid-0000000000001'));
      expect(corrected).toMatchObject({ replayed: false, result: { kind: 'succeeded' } });
    },
  );

  it('refuses a plan of another account, or none, as not found', async () => {
    const other = await h.memory.store.repos.accounts.create({ name: 'Other' });
    const theirPlan = await h.memory.store.repos.plans.create({
      accountId: other.id,
      name: 'Theirs',
      amount: 500,
      currency: 'usd',
      interval: 'month',
    });
    for (const planId of [theirPlan.id, newId('plan')]) {
      await expect(service.create(...h.request('key-plan-00000000000001', { planId }))).rejects.toMatchObject(
        {
          code: 'not_found',
          param: 'plan_id',
        },
      );
    }
    expect(written(h.memory.tables)).toEqual(NOTHING);
  });

  it('refuses every return_url when no origin is configured, and takes http only for an http origin', async () => {
    const closed = h.service({ returnUrlOrigins: [] });
    await expect(closed.create(...h.request('key-closed-0000000000001'))).rejects.toMatchObject({
      param: 'return_url',
      message: expect.stringMatching(/no return URL origins/),
    });
    const local = h.service({ returnUrlOrigins: ['http://localhost:3000'] });
    const result = await local.create(
      ...h.request('key-local-00000000000001', { returnUrl: 'http://localhost:3000/done?x=1' }),
    );
    expect(result.result.view.payment.returnUrl).toBe('http://localhost:3000/done?x=1');
    await expect(
      local.create(...h.request('key-local-00000000000002', { returnUrl: 'http://localhost:3001/done' })),
    ).rejects.toMatchObject({ param: 'return_url' });
  });

  it('takes a payment without a return_url', async () => {
    const [input, request] = h.request('key-no-return-00000000001');
    const { returnUrl: _dropped, ...withoutReturn } = input;
    const attempt = await service.create(withoutReturn, request);
    expect(attempt.result.view.payment.returnUrl).toBeNull();
  });
});

it('turns a database failure in the first phase into a retryable error', async () => {
  const broken = h.service({
    store: {
      repos: h.store.repos,
      transaction: () => Promise.reject(new Error('connection terminated unexpectedly')),
    },
  });
  const attempt = broken.create(...h.request('key-db-down-0000000000001'));
  await expect(attempt).rejects.toBeInstanceOf(DependencyUnavailableError);
  await expect(attempt).rejects.toMatchObject({
    retryable: true,
    message: expect.stringMatching(/same Idempotency-Key/),
  });
});
