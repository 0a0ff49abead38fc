import {
  DependencyUnavailableError,
  GatewayRejectedError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
  newId,
  silentLogger,
  type AttachOutcome,
  type AttachPaymentMethodInput,
  type IdempotentRequest,
  type RenewalOutcome,
  type Subscription,
  type SubscriptionId,
} from '../index.js';
import { API_BASE, paymentHarness, type PaymentHarness } from '../../test/memory/payment-harness.js';
import { MemoryGateway } from '../../test/memory/memory-gateway.js';
import { RenewalService } from './renewal-service.js';
import { SubscriptionService } from './subscription-service.js';

const MINUTE = 60_000;

/** A stub of the renewal scheduler's `renew`: records each call and charges the new card successfully. */
class RecordingRenewals {
  readonly calls: { id: SubscriptionId; now: Date | undefined }[] = [];
  failNext = false;
  constructor(private readonly h: PaymentHarness) {}

  async renew(subscriptionId: SubscriptionId, options: { now?: Date } = {}): Promise<RenewalOutcome> {
    this.calls.push({ id: subscriptionId, now: options.now });
    if (this.failNext) {
      this.failNext = false;
      throw new DependencyUnavailableError('Stripe did not answer the renewal (stub).');
    }
    const s = await this.h.store.repos.subscriptions.lockById(subscriptionId);
    if (s?.status !== 'past_due') {
      return { kind: 'not_due', subscriptionId };
    }
    await this.h.store.repos.subscriptions.transition(
      subscriptionId,
      { from: 'past_due', to: 'active', patch: { dunningAttempts: 0 } },
      { job: 'renewal' },
    );
    return { kind: 'renewed', subscriptionId, paymentId: newId('payment') };
  }
}

/** A gateway whose attaches wait for `open()`: a request caught mid-flight, holding its key. */
class GatedGateway extends MemoryGateway {
  private gate: Promise<void> | null = null;
  private opener: (() => void) | null = null;
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.opener = resolve;
    });
  }
  open(): void {
    this.opener?.();
    this.gate = null;
  }
  override async attachPaymentMethod(input: AttachPaymentMethodInput): Promise<AttachOutcome> {
    if (this.gate !== null) {
      await this.gate;
    }
    return super.attachPaymentMethod(input);
  }
}

interface World {
  h: PaymentHarness;
  renewals: RecordingRenewals;
  service: SubscriptionService;
  /** An active subscription of `userId`, started by a real first payment on a visa card. */
  subscribe(userId?: string): Promise<Subscription>;
  post(key: string, path: string, params: unknown, accountId?: string): IdempotentRequest;
  events(id: SubscriptionId): Promise<[string | null, string][]>;
  key(key: string): Promise<unknown>;
}

async function world(gateway?: MemoryGateway): Promise<World> {
  const h = await paymentHarness();
  const renewals = new RecordingRenewals(h);
  const stripe = gateway ?? h.gateway;
  const service = new SubscriptionService({
    store: h.store,
    gateway: stripe,
    clock: h.clock,
    logger: silentLogger,
    renewals,
  });
  let payments = 0;
  let requests = 0;
  return {
    h,
    renewals,
    service,
    async subscribe(userId = 'user-1') {
      payments += 1;
      const attempt = await h
        .service({ gateway: stripe })
        .create(...h.request(`pay-${payments}`, { userId }));
      h.clock.advance(MINUTE);
      const id = attempt.result.view.payment.subscriptionId;
      const subscription = id === null ? null : await h.store.repos.subscriptions.findById(h.account.id, id);
      if (subscription?.status !== 'active') {
        throw new Error(`the first payment did not activate a subscription: ${JSON.stringify(attempt)}`);
      }
      return subscription;
    },
    post(key, path, params, accountId = h.account.id) {
      requests += 1;
      return {
        accountId: accountId as IdempotentRequest['accountId'],
        key,
        method: 'POST',
        path,
        params,
        requestId: `req_sub_${requests}`,
      };
    },
    async events(id) {
      return (await h.store.repos.subscriptions.listEvents(id)).map((e) => [e.fromStatus, e.toStatus]);
    },
    key: (key) => h.store.repos.idempotencyKeys.find(h.account.id, key),
  };
}

const cancelPath = (id: string) => `/api/v1/subscriptions/${id}/cancel`;
const resumePath = (id: string) => `/api/v1/subscriptions/${id}/resume`;
const cardPath = (id: string) => `/api/v1/subscriptions/${id}/payment-method`;

async function moveTo(w: World, s: Subscription, to: 'past_due' | 'expired'): Promise<Subscription> {
  const repos = w.h.store.repos;
  let current = s;
  if (current.status === 'active') {
    current =
      (await repos.subscriptions.transition(
        s.id,
        { from: 'active', to: 'past_due', patch: { dunningAttempts: 1 } },
        { job: 'renewal' },
      )) ?? current;
  }
  if (to === 'expired') {
    current =
      (await repos.subscriptions.transition(
        s.id,
        { from: 'past_due', to: 'expired', patch: { endedAt: w.h.clock.now(), nextBillingAt: null } },
        { job: 'renewal' },
      )) ?? current;
  }
  return current;
}

describe('SubscriptionService reads', () => {
  it('shows a subscription with its plan, card, user and first payment', async () => {
    const w = await world();
    const s = await w.subscribe();
    const view = await w.service.get(w.h.account.id, s.id);
    expect(view).toMatchObject({
      subscription: { id: s.id, status: 'active' },
      userId: 'user-1',
      plan: { id: w.h.plan.id, amount: 2000, interval: 'month' },
      card: { brand: 'visa', last4: '4242' },
    });
    expect(view.recentPayments.map((p) => [p.billingReason, p.status])).toEqual([
      ['subscription_create', 'succeeded'],
    ]);
  });

  it('shows at most the 5 latest payments, newest first', async () => {
    const w = await world();
    const s = await w.subscribe();
    const repos = w.h.store.repos;
    for (let attempt = 0; attempt < 6; attempt++) {
      w.h.clock.advance(MINUTE);
      await repos.payments.create(
        {
          accountId: s.accountId,
          customerId: s.customerId,
          subscriptionId: s.id,
          planId: s.planId,
          billingReason: 'subscription_cycle',
          amount: 2000,
          currency: 'usd',
          stripeIdempotencyKey: `test:${attempt}`,
          renewal: { periodStart: s.currentPeriodEnd, periodEnd: s.currentPeriodEnd, attempt },
        },
        { job: 'renewal' },
      );
    }
    const view = await w.service.get(w.h.account.id, s.id);
    expect(view.recentPayments.map((p) => p.renewalAttempt)).toEqual([5, 4, 3, 2, 1]);
  });

  it('answers 404 for a malformed id, an unknown one and another account’s', async () => {
    const w = await world();
    const s = await w.subscribe();
    const other = await w.h.store.repos.accounts.create({ name: 'Other' });
    await expect(w.service.get(w.h.account.id, 'subs_nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.service.get(w.h.account.id, newId('subscription'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.service.get(other.id, s.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists one user’s subscriptions newest first, page by page; an unknown user has none', async () => {
    const w = await world();
    const first = await w.subscribe('user-a');
    const second = await w.subscribe('user-a');
    await w.subscribe('user-b');
    const page = await w.service.listByUser(w.h.account.id, 'user-a', { limit: 1 });
    expect(page.data.map((v) => v.subscription.id)).toEqual([second.id]);
    expect(page.hasMore).toBe(true);
    const rest = await w.service.listByUser(w.h.account.id, 'user-a', {
      limit: 10,
      startingAfter: second.id,
    });
    expect(rest).toEqual({ data: [expect.objectContaining({ userId: 'user-a' })], hasMore: false });
    expect(rest.data[0]?.subscription.id).toBe(first.id);
    expect(await w.service.listByUser(w.h.account.id, 'nobody', { limit: 10 })).toEqual({
      data: [],
      hasMore: false,
    });
    await expect(w.service.listByUser(w.h.account.id, 'user-a', { limit: 0 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('counts subscriptions by status', async () => {
    const w = await world();
    const s = await w.subscribe();
    await w.subscribe();
    await moveTo(w, s, 'past_due');
    expect(await w.service.countByStatus()).toEqual({
      incomplete: 0,
      active: 1,
      past_due: 1,
      canceled: 0,
      expired: 0,
    });
  });
});

describe('SubscriptionService.cancel', () => {
  it('cancels now: canceled, ended, no next billing, with its event row and stored answer', async () => {
    const w = await world();
    const s = await w.subscribe();
    const now = w.h.clock.now();
    const change = await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false },
      w.post('c-1', cancelPath(s.id), { at_period_end: false }),
    );
    expect(change.replayed).toBe(false);
    expect(change.view.subscription).toMatchObject({
      status: 'canceled',
      canceledAt: now,
      endedAt: now,
      nextBillingAt: null,
      cancelAtPeriodEnd: false,
    });
    expect(await w.events(s.id)).toEqual([
      [null, 'incomplete'],
      ['incomplete', 'active'],
      ['active', 'canceled'],
    ]);
    const events = await w.h.store.repos.subscriptions.listEvents(s.id);
    expect(events.at(-1)?.cause).toEqual({ requestId: 'req_sub_1' });
    expect(await w.key('c-1')).toMatchObject({
      responseStatus: 200,
      recoveryPoint: 'finished',
      lockedAt: null,
    });
  });

  it('cancels a past-due subscription now', async () => {
    const w = await world();
    const s = await moveTo(w, await w.subscribe(), 'past_due');
    const change = await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false },
      w.post('c-1', cancelPath(s.id), { at_period_end: false }),
    );
    expect(change.view.subscription.status).toBe('canceled');
  });

  it('cancels at period end: stays active, billed no more, the scheduler reaches it at the period end', async () => {
    const w = await world();
    const s = await w.subscribe();
    const now = w.h.clock.now();
    const change = await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: true },
      w.post('c-1', cancelPath(s.id), { at_period_end: true }),
    );
    expect(change.view.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: true,
      canceledAt: now,
      endedAt: null,
      nextBillingAt: s.currentPeriodEnd,
    });
    expect((await w.events(s.id)).at(-1)).toEqual(['active', 'active']);
  });

  it('answers a second cancellation at period end as it stands, writing nothing', async () => {
    const w = await world();
    const s = await w.subscribe();
    const first = await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: true },
      w.post('c-1', cancelPath(s.id), { at_period_end: true }),
    );
    w.h.clock.advance(MINUTE);
    const again = await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: true },
      w.post('c-2', cancelPath(s.id), { at_period_end: true }),
    );
    expect(again.replayed).toBe(false);
    expect(again.view.subscription).toEqual(first.view.subscription);
    expect(await w.events(s.id)).toHaveLength(3);
  });

  it('replays the stored answer for the same key, dates and all, writing nothing', async () => {
    const w = await world();
    const s = await w.subscribe();
    const request = w.post('c-1', cancelPath(s.id), { at_period_end: false });
    const input = { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false };
    const first = await w.service.cancel(input, request);
    w.h.clock.advance(MINUTE);
    const replay = await w.service.cancel(input, { ...request, requestId: 'req_retry' });
    expect(replay).toEqual({ view: first.view, replayed: true });
    expect(replay.view.subscription.canceledAt).toBeInstanceOf(Date);
    expect(replay.view.recentPayments[0]?.createdAt).toBeInstanceOf(Date);
    expect(await w.events(s.id)).toHaveLength(3);
  });

  it('refuses the same key with other parameters (422) or on another path (422)', async () => {
    const w = await world();
    const s = await w.subscribe();
    const input = { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: true };
    await w.service.cancel(input, w.post('c-1', cancelPath(s.id), { at_period_end: true }));
    await expect(
      w.service.cancel(
        { ...input, atPeriodEnd: false },
        w.post('c-1', cancelPath(s.id), { at_period_end: false }),
      ),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(w.service.resume(input, w.post('c-1', resumePath(s.id), {}))).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    expect((await w.service.get(w.h.account.id, s.id)).subscription.status).toBe('active');
  });

  it.each([
    ['canceled', false],
    ['canceled', true],
    ['expired', false],
    ['expired', true],
  ] as const)(
    'refuses to cancel a subscription that is %s (at period end: %s) with 409, writing nothing',
    async (status, atPeriodEnd) => {
      const w = await world();
      let s = await w.subscribe();
      if (status === 'canceled') {
        s = (
          await w.service.cancel(
            { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false },
            w.post('setup', cancelPath(s.id), {}),
          )
        ).view.subscription;
      } else {
        s = await moveTo(w, s, 'expired');
      }
      const before = await w.events(s.id);
      const error = await w.service
        .cancel(
          { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd },
          w.post('c-1', cancelPath(s.id), { at_period_end: atPeriodEnd }),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidStateError);
      expect((error as InvalidStateError).message).toContain(status);
      expect(await w.events(s.id)).toEqual(before);
      expect(await w.key('c-1')).toBeNull();
    },
  );

  it('refuses to cancel an incomplete subscription (first payment awaiting 3-D Secure)', async () => {
    const w = await world();
    const attempt = await w.h
      .service()
      .create(...w.h.request('pay-3ds', { paymentMethodId: 'pm_card_threeDSecure2Required' }));
    const id = attempt.result.view.payment.subscriptionId as SubscriptionId;
    await expect(
      w.service.cancel(
        { accountId: w.h.account.id, subscriptionId: id, atPeriodEnd: false },
        w.post('c-1', cancelPath(id), {}),
      ),
    ).rejects.toThrow(/incomplete/);
    expect(await w.events(id)).toEqual([[null, 'incomplete']]);
    expect(await w.key('c-1')).toBeNull();
  });

  it('answers 404 for another account’s subscription, writing nothing', async () => {
    const w = await world();
    const s = await w.subscribe();
    const other = await w.h.store.repos.accounts.create({ name: 'Other' });
    await expect(
      w.service.cancel(
        { accountId: other.id, subscriptionId: s.id, atPeriodEnd: false },
        w.post('c-1', cancelPath(s.id), {}, other.id),
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await w.h.store.repos.idempotencyKeys.find(other.id, 'c-1')).toBeNull();
    expect((await w.service.get(w.h.account.id, s.id)).subscription.status).toBe('active');
  });
});

describe('SubscriptionService.resume', () => {
  it('undoes a pending cancellation with a same-status event row', async () => {
    const w = await world();
    const s = await w.subscribe();
    await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: true },
      w.post('c-1', cancelPath(s.id), { at_period_end: true }),
    );
    const change = await w.service.resume(
      { accountId: w.h.account.id, subscriptionId: s.id },
      w.post('r-1', resumePath(s.id), {}),
    );
    expect(change.view.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: false,
      canceledAt: null,
      nextBillingAt: s.currentPeriodEnd,
    });
    expect((await w.events(s.id)).slice(-2)).toEqual([
      ['active', 'active'],
      ['active', 'active'],
    ]);
  });

  it('refuses with 409, writing nothing, when no cancellation is pending or the subscription ended', async () => {
    const w = await world();
    const s = await w.subscribe();
    await expect(
      w.service.resume(
        { accountId: w.h.account.id, subscriptionId: s.id },
        w.post('r-1', resumePath(s.id), {}),
      ),
    ).rejects.toThrow(/no cancellation is pending/);
    await w.service.cancel(
      { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false },
      w.post('c-1', cancelPath(s.id), {}),
    );
    const before = await w.events(s.id);
    const error = await w.service
      .resume({ accountId: w.h.account.id, subscriptionId: s.id }, w.post('r-2', resumePath(s.id), {}))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toContain('canceled');
    expect(await w.events(s.id)).toEqual(before);
    expect(await w.key('r-1')).toBeNull();
    expect(await w.key('r-2')).toBeNull();
  });
});

describe('SubscriptionService.changePaymentMethod', () => {
  const change = (w: World, s: Subscription, key: string, paymentMethodId: string) =>
    w.service.changePaymentMethod(
      { accountId: w.h.account.id, subscriptionId: s.id, paymentMethodId },
      w.post(key, cardPath(s.id), { payment_method_id: paymentMethodId }),
    );

  it('attaches the new card at Stripe and bills it from now on', async () => {
    const w = await world();
    const s = await w.subscribe();
    const attachesBefore = w.h.gateway.count('attachPaymentMethod');
    const result = await change(w, s, 'k-1', 'pm_card_mastercard');
    expect(result.replayed).toBe(false);
    expect(result.view.card).toEqual({ brand: 'mastercard', last4: '4444' });
    expect(result.view.subscription.status).toBe('active');
    expect(result.view.subscription.paymentMethodId).not.toBe(s.paymentMethodId);
    expect((await w.events(s.id)).at(-1)).toEqual(['active', 'active']);
    const attach = w.h.gateway.calls.filter((c) => c.method === 'attachPaymentMethod').at(-1);
    expect(attach?.idempotencyKey).toMatch(new RegExp(`^pay:${s.id}:attach:[0-9a-f]{16}$`));
    expect(w.h.gateway.count('attachPaymentMethod')).toBe(attachesBefore + 1);
    expect(w.renewals.calls).toEqual([]);

    const replay = await change(w, s, 'k-1', 'pm_card_mastercard');
    expect(replay).toEqual({ view: result.view, replayed: true });
    expect(w.h.gateway.count('attachPaymentMethod')).toBe(attachesBefore + 1);
  });

  it('retries a past-due subscription at once on its new card and answers after that attempt', async () => {
    const w = await world();
    const s = await moveTo(w, await w.subscribe(), 'past_due');
    const now = w.h.clock.now();
    const result = await change(w, s, 'k-1', 'pm_card_mastercard');
    expect(w.renewals.calls).toEqual([{ id: s.id, now }]);
    expect(result.view.subscription.status).toBe('active');
    expect(await w.events(s.id)).toEqual([
      [null, 'incomplete'],
      ['incomplete', 'active'],
      ['active', 'past_due'],
      ['past_due', 'past_due'],
      ['past_due', 'active'],
    ]);
    const changed = (await w.h.store.repos.subscriptions.listEvents(s.id)).at(-2);
    expect(changed?.cause).toEqual({ requestId: 'req_sub_1' });
  });

  it('refuses a card the bank declines (400 invalid_request, payment_method_id) and replays that refusal', async () => {
    const w = await world();
    const s = await w.subscribe();
    const error = await change(w, s, 'k-1', 'pm_card_chargeDeclined').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRejectedError);
    expect(error).toMatchObject({
      code: 'invalid_request',
      param: 'payment_method_id',
      gatewayCode: 'card_declined',
    });
    expect((await w.service.get(w.h.account.id, s.id)).subscription.paymentMethodId).toBe(s.paymentMethodId);
    expect(await w.events(s.id)).toHaveLength(2);
    expect(await w.key('k-1')).toMatchObject({ responseStatus: 400, lockedAt: null });
    const attaches = w.h.gateway.count('attachPaymentMethod');
    const replayed = await change(w, s, 'k-1', 'pm_card_chargeDeclined').catch((e: unknown) => e);
    expect(replayed).toMatchObject({
      code: 'invalid_request',
      message: (error as Error).message,
      param: 'payment_method_id',
    });
    expect(w.h.gateway.count('attachPaymentMethod')).toBe(attaches);
  });

  it('refuses a payment method Stripe does not know, naming payment_method_id', async () => {
    const w = await world();
    const s = await w.subscribe();
    await expect(change(w, s, 'k-1', 'pm_unknown')).rejects.toMatchObject({
      code: 'invalid_request',
      param: 'payment_method_id',
    });
  });

  it('answers 503 when Stripe does not answer, and the retry with the same key finishes the change', async () => {
    const w = await world();
    const s = await w.subscribe();
    w.h.gateway.fail('attachPaymentMethod', 'unavailable_after');
    const error = await change(w, s, 'k-1', 'pm_card_mastercard').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).retryable).toBe(true);
    expect((await w.service.get(w.h.account.id, s.id)).subscription.paymentMethodId).toBe(s.paymentMethodId);
    expect(await w.key('k-1')).toMatchObject({
      responseStatus: null,
      lockedAt: null,
      recoveryPoint: 'started',
    });

    const retried = await change(w, s, 'k-1', 'pm_card_mastercard');
    expect(retried.view.card).toEqual({ brand: 'mastercard', last4: '4444' });
    const attaches = w.h.gateway.calls.filter((c) => c.method === 'attachPaymentMethod').slice(-2);
    expect(attaches[0]?.idempotencyKey).toBe(attaches[1]?.idempotencyKey);
    expect(attaches[1]?.replayed).toBe(true);
    expect(await w.h.store.repos.paymentMethods.listByCustomer(s.accountId, s.customerId)).toHaveLength(2);
  });

  it('resumes after the card was recorded when the immediate retry could not run', async () => {
    const w = await world();
    const s = await moveTo(w, await w.subscribe(), 'past_due');
    w.renewals.failNext = true;
    await expect(change(w, s, 'k-1', 'pm_card_mastercard')).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(await w.key('k-1')).toMatchObject({ recoveryPoint: 'card_changed', lockedAt: null });
    const current = await w.service.get(w.h.account.id, s.id);
    expect(current.subscription).toMatchObject({ status: 'past_due', nextBillingAt: w.h.clock.now() });
    expect(current.card?.last4).toBe('4444');
    const attaches = w.h.gateway.count('attachPaymentMethod');

    const retried = await change(w, s, 'k-1', 'pm_card_mastercard');
    expect(retried.view.subscription.status).toBe('active');
    expect(w.renewals.calls).toHaveLength(2);
    expect(w.h.gateway.count('attachPaymentMethod')).toBe(attaches);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const gateway = new GatedGateway();
    const w = await world(gateway);
    const s = await w.subscribe();
    gateway.hold();
    const first = change(w, s, 'k-1', 'pm_card_mastercard');
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(change(w, s, 'k-1', 'pm_card_mastercard')).rejects.toBeInstanceOf(IdempotencyKeyInUseError);
    gateway.open();
    expect((await first).view.card?.last4).toBe('4444');
  });

  it.each(['canceled', 'expired'] as const)(
    'refuses to change the card of a subscription that is %s with 409, calling nobody and writing nothing',
    async (status) => {
      const w = await world();
      let s = await w.subscribe();
      if (status === 'canceled') {
        s = (
          await w.service.cancel(
            { accountId: w.h.account.id, subscriptionId: s.id, atPeriodEnd: false },
            w.post('setup', cancelPath(s.id), {}),
          )
        ).view.subscription;
      } else {
        s = await moveTo(w, s, 'expired');
      }
      const calls = w.h.gateway.count();
      const before = await w.events(s.id);
      await expect(change(w, s, 'k-1', 'pm_card_mastercard')).rejects.toThrow(new RegExp(status));
      expect(w.h.gateway.count()).toBe(calls);
      expect(await w.events(s.id)).toEqual(before);
      expect(await w.key('k-1')).toBeNull();
    },
  );
});

describe('SubscriptionService.changePaymentMethod with the real renewal scheduler', () => {
  it('recovers a past-due subscription on its new card at once, the retry among its recent payments', async () => {
    const h = await paymentHarness();
    const deps = { store: h.store, gateway: h.gateway, clock: h.clock, logger: silentLogger };
    const renewals = new RenewalService({
      ...deps,
      threeDSecureReturnUrl: (id) => `${API_BASE}/api/v1/payments/${id}/return`,
    });
    const service = new SubscriptionService({ ...deps, renewals });
    const first = await h.service().create(...h.request('first'));
    const id = first.result.view.payment.subscriptionId as SubscriptionId;
    const post = (key: string, params: unknown): IdempotentRequest => ({
      accountId: h.account.id,
      key,
      method: 'POST',
      path: cardPath(id),
      params,
      requestId: `req_${key}`,
    });
    await service.changePaymentMethod(
      { accountId: h.account.id, subscriptionId: id, paymentMethodId: 'pm_card_chargeCustomerFail' },
      post('to-failing', { payment_method_id: 'pm_card_chargeCustomerFail' }),
    );
    const active = await service.get(h.account.id, id);
    h.clock.advance((active.subscription.nextBillingAt?.getTime() ?? 0) - h.clock.now().getTime());
    await renewals.renewDue();
    expect((await service.get(h.account.id, id)).subscription.status).toBe('past_due');
    h.clock.advance(MINUTE);

    const result = await service.changePaymentMethod(
      { accountId: h.account.id, subscriptionId: id, paymentMethodId: 'pm_card_visa' },
      post('to-visa', { payment_method_id: 'pm_card_visa' }),
    );
    expect(result.view.subscription).toMatchObject({ status: 'active', dunningAttempts: 0 });
    expect(result.view.subscription.currentPeriodStart).toEqual(active.subscription.currentPeriodEnd);
    expect(result.view.card).toEqual({ brand: 'visa', last4: '4242' });
    expect(result.view.recentPayments.map((p) => [p.billingReason, p.renewalAttempt, p.status])).toEqual([
      ['subscription_cycle', 1, 'succeeded'],
      ['subscription_cycle', 0, 'failed'],
      ['subscription_create', null, 'succeeded'],
    ]);
  });
});
