import { TransactionMisuseError, type AccountId } from '@pay/core';
import { deferred, seed, sleep, unique, within } from '../support/fixtures.js';
import type { SuiteContext } from './context.js';

export function storeTests(ctx: SuiteContext): void {
  describe('store', () => {
    it('answers ping and reports every migration applied', async () => {
      await ctx.db().ping();
      const state = await ctx.db().migrationState();
      expect(state.total).toBeGreaterThanOrEqual(2);
      expect(state.applied).toBe(state.total);
    });

    it('commits a transaction when its callback resolves', async () => {
      const { store } = ctx.db();
      const account = await store.transaction(async (tx) => {
        const created = await tx.accounts.create({ name: 'committed' });
        await tx.customers.create({ accountId: created.id, userId: 'u' });
        return created;
      });
      expect(await store.repos.customers.findByUserId(account.id, 'u')).not.toBeNull();
    });

    it('rolls everything back when the callback throws', async () => {
      const { store } = ctx.db();
      const name = unique('rolled-back');
      let accountId: AccountId | undefined;
      await expect(
        store.transaction(async (tx) => {
          const s = await seed(tx);
          accountId = s.account.id;
          await tx.payments.create(
            {
              accountId: s.account.id,
              customerId: s.customer.id,
              billingReason: 'manual',
              amount: 1,
              currency: 'usd',
              stripeIdempotencyKey: unique('k'),
            },
            { job: name },
          );
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      if (accountId === undefined) {
        throw new Error('the transaction never ran');
      }
      expect(await store.repos.accounts.findById(accountId)).toBeNull();
    });

    it('fails fast with TransactionMisuseError when root repositories are used inside a transaction', async () => {
      const { store } = ctx.db();
      const { account } = await seed(store.repos);
      const misuse = store.transaction(async (tx) => {
        await tx.accounts.findById(account.id); // fine: the transaction's own repositories
        return store.repos.accounts.findById(account.id); // the bug: on PGlite this would hang forever
      });
      const err: unknown = await within(5_000, misuse, 'a root query inside a transaction').catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TransactionMisuseError);
      expect((err as Error).message).toMatch(/inside store\.transaction\(\)/);
      // The transaction rolled back and the store still works.
      expect(await store.repos.accounts.findById(account.id)).not.toBeNull();
    });

    it('fails fast when a transaction is opened inside another, or ping is called inside one', async () => {
      const { store } = ctx.db();
      await expect(
        within(
          5_000,
          store.transaction(() => store.transaction(() => Promise.resolve(1))),
          'nested',
        ),
      ).rejects.toBeInstanceOf(TransactionMisuseError);
      await expect(
        within(
          5_000,
          store.transaction(() => ctx.db().ping()),
          'ping',
        ),
      ).rejects.toBeInstanceOf(TransactionMisuseError);
    });

    it('lets other callers use the root repositories while a transaction is open (they are not misuse)', async () => {
      const { store } = ctx.db();
      const { account } = await seed(store.repos);
      const inside = deferred();
      const release = deferred();
      const tx = store.transaction(async (t) => {
        await t.accounts.findById(account.id);
        inside.resolve();
        await release.promise;
      });
      await inside.promise;
      // Another request, on its own async path: PostgreSQL answers at once; PGlite makes it wait.
      const outside = store.repos.accounts.findById(account.id);
      if (ctx.db().driver === 'postgres') {
        expect((await within(5_000, outside, 'a concurrent root query'))?.id).toBe(account.id);
        release.resolve();
      } else {
        await sleep(50);
        release.resolve();
        expect((await within(5_000, outside, 'a queued root query'))?.id).toBe(account.id);
      }
      await tx;
    });

    it('runs transactions one after the other on PGlite, concurrently on PostgreSQL', async () => {
      const { store } = ctx.db();
      const steps: string[] = [];
      const first = store.transaction(async (tx) => {
        steps.push('a:start');
        await tx.accounts.create({ name: 'a' });
        await sleep(100);
        steps.push('a:end');
      });
      const second = store.transaction(async (tx) => {
        steps.push('b:start');
        await tx.accounts.create({ name: 'b' });
        steps.push('b:end');
      });
      await Promise.all([first, second]);
      if (ctx.db().driver === 'pglite') {
        expect(steps).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
      } else {
        expect(steps.indexOf('b:end')).toBeLessThan(steps.indexOf('a:end'));
      }
    });
  });
}
