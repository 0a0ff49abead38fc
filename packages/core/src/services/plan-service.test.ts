import { createMemoryStore, type MemoryStore } from '../../test/memory/memory-store.js';
import type { Account } from '../domain/entities.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { newId, type AccountId } from '../ids.js';
import { MAX_AMOUNT } from '../money.js';
import { MAX_PAGE_LIMIT } from './page-limits.js';
import { PlanService, type CreatePlanInput } from './plan-service.js';

const operator = { type: 'cli_operator', id: 'ops-alice' } as const;

describe('PlanService', () => {
  let memory: MemoryStore;
  let plans: PlanService;
  let account: Account;

  beforeEach(async () => {
    memory = createMemoryStore();
    plans = new PlanService({ store: memory.store });
    account = await memory.store.repos.accounts.create({ name: 'Acme' });
  });

  const input = (overrides: Partial<CreatePlanInput> = {}): CreatePlanInput => ({
    accountId: account.id,
    name: 'Pro monthly',
    amount: 1500,
    currency: 'usd',
    interval: 'month',
    ...overrides,
  });

  describe('createPlan', () => {
    it('stores the plan in minor units and audits it with the operator, the amount and the currency', async () => {
      const plan = await plans.createPlan(input({ name: '  Pro monthly ', currency: 'USD' }), operator);
      expect(plan).toMatchObject({
        accountId: account.id,
        name: 'Pro monthly',
        amount: 1500,
        currency: 'usd',
        interval: 'month',
        active: true,
      });
      expect(memory.tables.plans).toEqual([plan]);
      expect(memory.tables.audit).toEqual([
        expect.objectContaining({
          accountId: account.id,
          actorType: 'cli_operator',
          actorId: 'ops-alice',
          action: 'plan.created',
          targetType: 'plan',
          targetId: plan.id,
          amount: 1500,
          currency: 'usd',
          details: { name: 'Pro monthly', interval: 'month' },
        }),
      ]);
    });

    it.each([
      ['a float amount', { amount: 15.5 }, 'amount', /integer number of minor units/],
      ['a zero amount', { amount: 0 }, 'amount', /greater than 0/],
      ['a negative amount', { amount: -100 }, 'amount', /greater than 0/],
      ['an amount past Stripe’s limit', { amount: MAX_AMOUNT + 1 }, 'amount', /at most/],
      ['NaN', { amount: Number.NaN }, 'amount', /integer/],
      ['a three-decimal amount not ending in 0', { amount: 1005, currency: 'kwd' }, 'amount', /end in 0/],
      ['an unknown currency', { currency: 'xyz' }, 'currency', /Unsupported currency/],
      ['an unknown interval', { interval: 'week' }, 'interval', /one of month, year/],
      ['an interval in the wrong case', { interval: 'Month' }, 'interval', /one of month, year/],
      ['an empty name', { name: '   ' }, 'name', /1 to 200 characters/],
      ['a name too long', { name: 'x'.repeat(201) }, 'name', /1 to 200 characters/],
    ])('refuses %s, naming the field and writing nothing', async (_what, overrides, param, message) => {
      const attempt = plans.createPlan(input(overrides), operator);
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ param, message: expect.stringMatching(message) });
      expect(memory.tables.plans).toEqual([]);
      expect(memory.tables.audit).toEqual([]);
    });

    it('accepts zero-decimal currencies in whole units', async () => {
      const plan = await plans.createPlan(
        input({ amount: 1200, currency: 'jpy', interval: 'year' }),
        operator,
      );
      expect(plan).toMatchObject({ amount: 1200, currency: 'jpy', interval: 'year' });
    });

    it('refuses an unknown account and writes nothing', async () => {
      const missing = newId('account');
      const attempt = plans.createPlan(input({ accountId: missing }), operator);
      await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
      await expect(attempt).rejects.toMatchObject({ param: 'account' });
      expect(memory.tables.plans).toEqual([]);
      expect(memory.tables.audit).toEqual([]);
    });
  });

  describe('listPlans and getPlan', () => {
    async function createMany(accountId: AccountId, count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push((await plans.createPlan(input({ accountId, name: `Plan ${i}` }), operator)).id);
      }
      return ids.sort().reverse();
    }

    it('pages through the account’s plans, newest first, and only that account’s', async () => {
      const other = await memory.store.repos.accounts.create({ name: 'Other' });
      const mine = await createMany(account.id, 5);
      await createMany(other.id, 3);

      const first = await plans.listPlans(account.id, { limit: 2 });
      expect({ ids: first.data.map((p) => p.id), hasMore: first.hasMore }).toEqual({
        ids: mine.slice(0, 2),
        hasMore: true,
      });
      const second = await plans.listPlans(account.id, { limit: 2, startingAfter: first.data[1]?.id });
      expect(second.data.map((p) => p.id)).toEqual(mine.slice(2, 4));
      const last = await plans.listPlans(account.id, { limit: 2, startingAfter: second.data[1]?.id });
      expect({ ids: last.data.map((p) => p.id), hasMore: last.hasMore }).toEqual({
        ids: mine.slice(4),
        hasMore: false,
      });
    });

    it.each([0, MAX_PAGE_LIMIT + 1, 1.5])('refuses a limit of %s', async (limit) => {
      await expect(plans.listPlans(account.id, { limit })).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'limit',
      });
    });

    it('refuses a cursor that is not a plan id', async () => {
      await expect(
        plans.listPlans(account.id, { limit: 10, startingAfter: 'pay_123' }),
      ).rejects.toMatchObject({ code: 'invalid_request', param: 'starting_after' });
    });

    it('refuses to list an unknown account', async () => {
      await expect(plans.listPlans(newId('account'), { limit: 10 })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('finds a plan of the account, and not another account’s, with the same error as a missing one', async () => {
      const other = await memory.store.repos.accounts.create({ name: 'Other' });
      const [id = ''] = await createMany(account.id, 1);
      expect((await plans.getPlan(account.id, id)).id).toBe(id);

      const theirs = plans.getPlan(other.id, id);
      await expect(theirs).rejects.toBeInstanceOf(NotFoundError);
      await expect(theirs).rejects.toThrow(`No such plan: ${id}.`);
      const ghost = newId('plan');
      await expect(plans.getPlan(account.id, ghost)).rejects.toThrow(`No such plan: ${ghost}.`);
    });

    it('refuses an id that is not a plan id', async () => {
      await expect(plans.getPlan(account.id, 'price_123')).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'id',
      });
    });
  });
});
