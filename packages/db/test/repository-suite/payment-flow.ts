import { newId, type Payment, type Repositories } from '@pay/core';
import { seed, unique, type Seed } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

/* The lookups the payment flow and its recovery job add to the ports (core's payment-service). */

function createPayment(
  repos: Repositories,
  s: Seed,
  overrides: { customerId?: Seed['customer']['id'] } = {},
) {
  return repos.payments.create(
    {
      accountId: s.account.id,
      customerId: overrides.customerId ?? s.customer.id,
      billingReason: 'manual',
      amount: 1_000,
      currency: 'usd',
      stripeIdempotencyKey: unique('pay'),
    },
    { requestId: unique('req') },
  );
}

const ids = (rows: readonly Payment[]) => rows.map((p) => p.id);

export function paymentFlowTests(ctx: SuiteContext): void {
  describe('customers.findOrCreate', () => {
    it('creates the customer of a new user once and returns the same row afterwards', async () => {
      const { account } = await seed(ctx.repos());
      const userId = unique('user');
      const first = await ctx.repos().customers.findOrCreate({ accountId: account.id, userId });
      expect(first).toMatchObject({ accountId: account.id, userId, stripeCustomerId: null, email: null });
      expect(await ctx.repos().customers.findOrCreate({ accountId: account.id, userId })).toEqual(first);
      expect(await ctx.repos().customers.findByUserId(account.id, userId)).toEqual(first);
    });

    it('gives two concurrent first requests of one user the same customer, in transactions too', async () => {
      const { account } = await seed(ctx.repos());
      const userId = unique('user');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          i % 2 === 0
            ? ctx.repos().customers.findOrCreate({ accountId: account.id, userId })
            : ctx
                .db()
                .store.transaction((tx) => tx.customers.findOrCreate({ accountId: account.id, userId })),
        ),
      );
      expect(new Set(results.map((c) => c.id)).size).toBe(1);
    });

    it('keeps users of different accounts apart', async () => {
      const a = await seed(ctx.repos());
      const b = await seed(ctx.repos());
      const userId = unique('user');
      const mine = await ctx.repos().customers.findOrCreate({ accountId: a.account.id, userId });
      const theirs = await ctx.repos().customers.findOrCreate({ accountId: b.account.id, userId });
      expect(mine.id).not.toBe(theirs.id);
      expect(theirs.accountId).toBe(b.account.id);
    });
  });

  describe('payments by id across accounts and by customer', () => {
    it('finds a payment by id whatever its account, and null for an unknown id', async () => {
      const s = await seed(ctx.repos());
      const payment = await createPayment(ctx.repos(), s);
      expect(await ctx.repos().payments.findByIdAcrossAccounts(payment.id)).toEqual(payment);
      expect(await ctx.repos().payments.findByIdAcrossAccounts(newId('payment'))).toBeNull();
    });

    it('records the payment’s card once; the same card again is a no-op, another one is refused', async () => {
      const s = await seed(ctx.repos());
      const payment = await createPayment(ctx.repos(), s);
      expect(payment.paymentMethodId).toBeNull();
      const recorded = await ctx.repos().payments.setPaymentMethodId(payment.id, s.card.id);
      expect(recorded?.paymentMethodId).toBe(s.card.id);
      expect((await ctx.repos().payments.setPaymentMethodId(payment.id, s.card.id))?.paymentMethodId).toBe(
        s.card.id,
      );
      const other = await ctx.repos().paymentMethods.upsertByStripeId({
        accountId: s.account.id,
        customerId: s.customer.id,
        stripePaymentMethodId: unique('pm'),
        brand: 'mastercard',
        last4: '4444',
        expMonth: 1,
        expYear: 2030,
      });
      expect(await ctx.repos().payments.setPaymentMethodId(payment.id, other.id)).toBeNull();
      expect((await ctx.repos().payments.findById(s.account.id, payment.id))?.paymentMethodId).toBe(
        s.card.id,
      );
      // Only status changes write event rows.
      expect(await ctx.repos().payments.listEvents(payment.id)).toHaveLength(1);
    });

    it('lists one customer’s payments newest first, page by page, and no one else’s', async () => {
      const s = await seed(ctx.repos());
      const other = await ctx.repos().customers.create({ accountId: s.account.id, userId: unique('user') });
      const mine: Payment[] = [];
      for (let i = 0; i < 3; i++) {
        mine.push(await createPayment(ctx.repos(), s));
        await createPayment(ctx.repos(), s, { customerId: other.id });
      }
      const newestFirst = ids(mine).sort().reverse();
      const page1 = await ctx.repos().payments.listByCustomer(s.account.id, s.customer.id, { limit: 2 });
      expect({ ids: ids(page1.data), hasMore: page1.hasMore }).toEqual({
        ids: newestFirst.slice(0, 2),
        hasMore: true,
      });
      const page2 = await ctx
        .repos()
        .payments.listByCustomer(s.account.id, s.customer.id, { limit: 2, startingAfter: newestFirst[1] });
      expect({ ids: ids(page2.data), hasMore: page2.hasMore }).toEqual({
        ids: newestFirst.slice(2),
        hasMore: false,
      });
      const stranger = await seed(ctx.repos());
      expect(
        await ctx.repos().payments.listByCustomer(stranger.account.id, s.customer.id, { limit: 10 }),
      ).toEqual({ data: [], hasMore: false });
    });
  });

  describe('payments.listInFlight', () => {
    it('lists pending, requires_action and processing payments created before the cutoff, by id', async () => {
      const s = await seed(ctx.repos());
      const [pending, action, processing, succeeded, failed] = [
        await createPayment(ctx.repos(), s),
        await createPayment(ctx.repos(), s),
        await createPayment(ctx.repos(), s),
        await createPayment(ctx.repos(), s),
        await createPayment(ctx.repos(), s),
      ] as const;
      const cause = { job: 'test' };
      await ctx.repos().payments.transition(action.id, { from: 'pending', to: 'requires_action' }, cause);
      await ctx.repos().payments.transition(processing.id, { from: 'pending', to: 'processing' }, cause);
      await ctx.repos().payments.transition(succeeded.id, { from: 'pending', to: 'succeeded' }, cause);
      await ctx.repos().payments.transition(failed.id, { from: 'pending', to: 'failed' }, cause);
      const later = new Date(Date.now() + 60_000);
      const mineOnly = (rows: readonly Payment[]) => rows.filter((p) => p.accountId === s.account.id);

      const all = mineOnly(await ctx.repos().payments.listInFlight({ createdBefore: later, limit: 10_000 }));
      const expected = [pending, action, processing].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(ids(all)).toEqual(ids(expected));
      expect(new Set(all.map((p) => p.status))).toEqual(
        new Set(['pending', 'requires_action', 'processing']),
      );

      const afterFirst = mineOnly(
        await ctx
          .repos()
          .payments.listInFlight({ createdBefore: later, afterId: expected[0]?.id, limit: 10_000 }),
      );
      expect(ids(afterFirst)).toEqual(ids(expected.slice(1)));

      const before = mineOnly(
        await ctx.repos().payments.listInFlight({ createdBefore: pending.createdAt, limit: 10_000 }),
      );
      expect(before).toEqual([]);
    });

    it('returns at most `limit` rows', async () => {
      const s = await seed(ctx.repos());
      await createPayment(ctx.repos(), s);
      await createPayment(ctx.repos(), s);
      const page = await ctx
        .repos()
        .payments.listInFlight({ createdBefore: new Date(Date.now() + 60_000), limit: 1 });
      expect(page).toHaveLength(1);
    });
  });

  describe('idempotencyKeys.listResumable', () => {
    it('lists keys without a response, free or stale, young enough and of the asked kind, by id', async () => {
      const { account } = await seed(ctx.repos());
      // A time of this test's own, so keys of other tests in this database never match.
      const t0 = new Date(Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 1e9));
      const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
      const insert = async (seconds: number, resourceId: string | null) => {
        const { key } = await ctx.repos().idempotencyKeys.insert({
          accountId: account.id,
          key: unique('key'),
          requestMethod: 'POST',
          requestPath: '/api/v1/payments',
          paramsHash: 'h',
          now: at(seconds),
        });
        return ctx.repos().idempotencyKeys.update(key.id, { resourceId });
      };
      await insert(0, 'pay_old'); // created before the window
      const stale = await insert(10, 'pay_stale');
      const free = await insert(20, 'pay_free');
      await insert(100, 'pay_held'); // locked after staleBefore: its request is alive
      const finished = await insert(30, 'pay_done');
      const refund = await insert(40, 'rfnd_1');
      const underscore = await insert(50, 'payXother');
      await ctx.repos().idempotencyKeys.update(free.id, { lockedAt: null });
      await ctx
        .repos()
        .idempotencyKeys.update(finished.id, { lockedAt: null, responseStatus: 201, responseBody: {} });

      const query = { createdAfter: at(5), staleBefore: at(60), limit: 100 };
      const listed = await ctx.repos().idempotencyKeys.listResumable(query);
      expect(listed.map((k) => k.id)).toEqual([stale, free, refund, underscore].map((k) => k.id).sort());
      const payments = await ctx
        .repos()
        .idempotencyKeys.listResumable({ ...query, resourceIdPrefix: 'pay_' });
      expect(payments.map((k) => k.resourceId).sort()).toEqual(['pay_free', 'pay_stale']);
      const [first] = payments;
      const rest = await ctx
        .repos()
        .idempotencyKeys.listResumable({ ...query, resourceIdPrefix: 'pay_', afterId: first?.id });
      expect(rest.map((k) => k.id)).toEqual(payments.slice(1).map((k) => k.id));
      expect(await ctx.repos().idempotencyKeys.listResumable({ ...query, limit: 1 })).toHaveLength(1);
    });
  });
}
