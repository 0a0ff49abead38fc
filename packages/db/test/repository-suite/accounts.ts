import { newId } from '@pay/core';
import { isUniqueViolation } from '../../src/index.js';
import { seed, unique } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

export function accountTests(ctx: SuiteContext): void {
  describe('accounts', () => {
    it('creates an account and finds it by id', async () => {
      const account = await ctx.repos().accounts.create({ name: 'Acme' });
      expect(account.id).toMatch(/^acc_/);
      expect(account.createdAt).toBeInstanceOf(Date);
      expect(await ctx.repos().accounts.findById(account.id)).toEqual(account);
    });

    it('returns null for an unknown account', async () => {
      expect(await ctx.repos().accounts.findById(newId('account'))).toBeNull();
    });

    it('lists accounts newest first, a page at a time', async () => {
      const made = [
        await ctx.repos().accounts.create({ name: 'One' }),
        await ctx.repos().accounts.create({ name: 'Two' }),
      ];
      const all = (await ctx.repos().accounts.list({ limit: 100 })).data;
      expect(all.map((a) => a.id)).toEqual([...all.map((a) => a.id)].sort().reverse());
      expect(all).toEqual(expect.arrayContaining(made));
      const [newest, second] = all;
      expect(await ctx.repos().accounts.list({ limit: 1 })).toEqual({ data: [newest], hasMore: true });
      const next = await ctx.repos().accounts.list({ limit: 1, startingAfter: newest?.id });
      expect(next.data).toEqual([second]);
    });
  });

  describe('api keys', () => {
    it('creates a key, finds it by hash while active, and lists it', async () => {
      const { account } = await seed(ctx.repos());
      const keyHash = unique('hash');
      const key = await ctx.repos().apiKeys.create({
        accountId: account.id,
        name: 'server',
        role: 'admin',
        keyHash,
        keyPrefix: 'sk_pay_ab',
      });
      expect(key).toMatchObject({ accountId: account.id, role: 'admin', revokedAt: null });
      expect(await ctx.repos().apiKeys.findActiveByHash(keyHash)).toEqual(key);
      expect(await ctx.repos().apiKeys.listByAccount(account.id)).toEqual([key]);
    });

    it('revokes a key once: the second revoke keeps the first time, and the hash stops matching', async () => {
      const { account } = await seed(ctx.repos());
      const keyHash = unique('hash');
      const key = await ctx.repos().apiKeys.create({
        accountId: account.id,
        name: 'old',
        role: 'service',
        keyHash,
        keyPrefix: 'sk_pay_cd',
      });
      const first = new Date('2026-01-01T00:00:00Z');
      expect((await ctx.repos().apiKeys.revoke(account.id, key.id, first))?.revokedAt).toEqual(first);
      const again = await ctx.repos().apiKeys.revoke(account.id, key.id, new Date('2026-02-01T00:00:00Z'));
      expect(again?.revokedAt).toEqual(first);
      expect(await ctx.repos().apiKeys.findActiveByHash(keyHash)).toBeNull();
    });

    it("does not revoke another account's key", async () => {
      const mine = await seed(ctx.repos());
      const theirs = await seed(ctx.repos());
      const key = await ctx.repos().apiKeys.create({
        accountId: theirs.account.id,
        name: 'theirs',
        role: 'service',
        keyHash: unique('hash'),
        keyPrefix: 'sk_pay_ef',
      });
      expect(await ctx.repos().apiKeys.revoke(mine.account.id, key.id, new Date())).toBeNull();
      expect(await ctx.repos().apiKeys.findActiveByHash(key.keyHash)).not.toBeNull();
    });
  });

  describe('customers', () => {
    it('creates a customer and finds it by id, user id and Stripe id', async () => {
      const { account } = await seed(ctx.repos());
      const stripeCustomerId = unique('cus');
      const customer = await ctx.repos().customers.create({
        accountId: account.id,
        userId: 'user-1',
        email: 'a@example.com',
        stripeCustomerId,
      });
      expect(customer).toMatchObject({ userId: 'user-1', email: 'a@example.com', stripeCustomerId });
      expect(await ctx.repos().customers.findById(account.id, customer.id)).toEqual(customer);
      expect(await ctx.repos().customers.findByUserId(account.id, 'user-1')).toEqual(customer);
      expect(await ctx.repos().customers.findByStripeId(stripeCustomerId)).toEqual(customer);
    });

    it('hides a customer from another account', async () => {
      const mine = await seed(ctx.repos());
      const theirs = await seed(ctx.repos());
      expect(await ctx.repos().customers.findById(mine.account.id, theirs.customer.id)).toBeNull();
      expect(await ctx.repos().customers.findByUserId(mine.account.id, theirs.customer.userId)).toBeNull();
    });

    it('rejects a second customer for the same (account, user) as a unique violation', async () => {
      const { account, customer } = await seed(ctx.repos());
      const err: unknown = await ctx
        .repos()
        .customers.create({ accountId: account.id, userId: customer.userId })
        .catch((e: unknown) => e);
      expect(isUniqueViolation(err)).toBe(true);
    });

    it('records the Stripe customer once (compare-and-set)', async () => {
      const { customer } = await seed(ctx.repos());
      const first = unique('cus');
      expect((await ctx.repos().customers.setStripeCustomerId(customer.id, first))?.stripeCustomerId).toBe(
        first,
      );
      // The same id again (a retried request) is not a loss…
      expect((await ctx.repos().customers.setStripeCustomerId(customer.id, first))?.stripeCustomerId).toBe(
        first,
      );
      // …but another id is: the first one recorded stays.
      expect(await ctx.repos().customers.setStripeCustomerId(customer.id, unique('cus'))).toBeNull();
      expect((await ctx.repos().customers.findByStripeId(first))?.id).toBe(customer.id);
    });
  });

  describe('payment methods', () => {
    it('upserts by Stripe id: the second call returns the stored row', async () => {
      const { account, customer } = await seed(ctx.repos());
      const input = {
        accountId: account.id,
        customerId: customer.id,
        stripePaymentMethodId: unique('pm'),
        brand: 'mastercard',
        last4: '4444',
        expMonth: 1,
        expYear: 2031,
      };
      const first = await ctx.repos().paymentMethods.upsertByStripeId(input);
      const second = await ctx.repos().paymentMethods.upsertByStripeId({ ...input, last4: '0000' });
      expect(second).toEqual(first);
      expect(first).toMatchObject({ brand: 'mastercard', last4: '4444', expMonth: 1, expYear: 2031 });
    });

    it('upserts concurrently into exactly one row', async () => {
      const { account, customer } = await seed(ctx.repos());
      const input = {
        accountId: account.id,
        customerId: customer.id,
        stripePaymentMethodId: unique('pm'),
        brand: 'visa',
        last4: '1111',
        expMonth: 5,
        expYear: 2030,
      };
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => ctx.repos().paymentMethods.upsertByStripeId(input)),
      );
      expect(new Set(results.map((pm) => pm.id)).size).toBe(1);
    });

    it('finds by id within the account, by Stripe id, and lists by customer', async () => {
      const mine = await seed(ctx.repos());
      const theirs = await seed(ctx.repos());
      const repos = ctx.repos();
      expect(await repos.paymentMethods.findById(mine.account.id, mine.card.id)).toEqual(mine.card);
      expect(await repos.paymentMethods.findById(mine.account.id, theirs.card.id)).toBeNull();
      expect(await repos.paymentMethods.findByStripeId(mine.card.stripePaymentMethodId)).toEqual(mine.card);
      expect(await repos.paymentMethods.listByCustomer(mine.account.id, mine.customer.id)).toEqual([
        mine.card,
      ]);
      expect(await repos.paymentMethods.listByCustomer(mine.account.id, theirs.customer.id)).toEqual([]);
    });
  });

  describe('plans', () => {
    it('creates a plan and finds it only within its account', async () => {
      const mine = await seed(ctx.repos());
      const theirs = await seed(ctx.repos());
      expect(mine.plan).toMatchObject({ amount: 2_000, currency: 'usd', interval: 'month', active: true });
      expect(await ctx.repos().plans.findById(mine.account.id, mine.plan.id)).toEqual(mine.plan);
      expect(await ctx.repos().plans.findById(mine.account.id, theirs.plan.id)).toBeNull();
    });

    it('lists newest first in pages of `limit`, continuing after `startingAfter`', async () => {
      const { account, plan } = await seed(ctx.repos());
      for (const amount of [100, 200, 300, 400]) {
        await ctx.repos().plans.create({
          accountId: account.id,
          name: `p${amount}`,
          amount,
          currency: 'eur',
          interval: 'year',
        });
      }
      const all = await ctx.repos().plans.list(account.id, { limit: 100 });
      expect(all.hasMore).toBe(false);
      expect(all.data).toHaveLength(5);
      const ids = all.data.map((p) => p.id);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(ids).toContain(plan.id);

      const first = await ctx.repos().plans.list(account.id, { limit: 2 });
      expect(first.data.map((p) => p.id)).toEqual(ids.slice(0, 2));
      expect(first.hasMore).toBe(true);
      const second = await ctx.repos().plans.list(account.id, { limit: 2, startingAfter: ids[1] });
      expect(second.data.map((p) => p.id)).toEqual(ids.slice(2, 4));
      expect(second.hasMore).toBe(true);
      const last = await ctx.repos().plans.list(account.id, { limit: 2, startingAfter: ids[3] });
      expect(last.data.map((p) => p.id)).toEqual(ids.slice(4));
      expect(last.hasMore).toBe(false);
    });
  });
}
