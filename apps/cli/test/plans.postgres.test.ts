import { parseId, type AccountId } from '@pay/core';
import { connectPostgres, type Database } from '@pay/db';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { pay, payJson } from './helpers';

interface PlanJson {
  id: string;
  account_id: string;
  name: string;
  amount: number;
  currency: string;
  interval: string;
  active: boolean;
  created: string;
}

interface ListJson {
  object: 'list';
  data: PlanJson[];
  has_more: boolean;
}

describe('pay plans on PostgreSQL', () => {
  let database: TestDatabase;
  let db: Database;
  let accountId: AccountId;
  const saved = { ...process.env };

  beforeAll(async () => {
    database = await createTestDatabase('cli_plans');
    process.env = { ...saved, DATABASE_URL: database.url, PAY_LOG_LEVEL: 'error', PAY_OPERATOR: 'ops-bob' };
    accountId = parseId('account', (await payJson<{ id: string }>(['accounts', 'create', 'Plans'])).id);
    db = connectPostgres(database.url);
  });

  afterAll(async () => {
    process.env = saved;
    await db?.close();
    await database?.drop();
  });

  const rows = async () => ({
    plans: (await db.store.repos.plans.list(accountId, { limit: 100 })).data.map((p) => p.id),
    audit: (await db.store.repos.audit.list(accountId, { limit: 100 })).data.map((e) => e.action),
  });

  const create = (
    name: string,
    amount: string,
    currency: string,
    interval: string,
    account: string = accountId,
  ) =>
    pay<PlanJson>([
      'plans',
      'create',
      '--account',
      account,
      '--name',
      name,
      '--amount',
      amount,
      '--currency',
      currency,
      '--interval',
      interval,
    ]);

  it('creates a plan in minor units and audits it with the operator', async () => {
    const plan = await payJson<PlanJson>([
      'plans',
      'create',
      '--account',
      accountId,
      '--name',
      'Pro',
      '--amount',
      '1500',
      '--currency',
      'USD',
      '--interval',
      'month',
    ]);
    expect(plan).toEqual({
      id: expect.stringMatching(/^pln_/),
      account_id: accountId,
      name: 'Pro',
      amount: 1500,
      currency: 'usd',
      interval: 'month',
      active: true,
      created: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
    });
    expect(await db.store.repos.plans.findById(accountId, parseId('plan', plan.id))).toMatchObject({
      amount: 1500,
      currency: 'usd',
    });
    const [entry] = (await db.store.repos.audit.list(accountId, { limit: 1 })).data;
    expect(entry).toMatchObject({
      action: 'plan.created',
      actorType: 'cli_operator',
      actorId: 'ops-bob',
      targetId: plan.id,
      amount: 1500,
      currency: 'usd',
    });
  });

  it('prints a line for people without --json', async () => {
    const run = await create('Annual', '15000', 'usd', 'year');
    expect(run.error).toBeUndefined();
    expect(run.stdout).toMatch(/^Created plan pln_\w+ \(Annual\): 150\.00 USD per year\.\n$/);
  });

  it.each([
    ['a zero amount', ['Zero', '0', 'usd', 'month'], /greater than 0.*\(invalid_request\)/],
    [
      'an unknown currency',
      ['Odd', '100', 'xyz', 'month'],
      /Unsupported currency "xyz".*\(invalid_request\)/,
    ],
    [
      'a three-decimal amount not ending in 0',
      ['Dinar', '1005', 'kwd', 'month'],
      /end in 0.*\(invalid_request\)/,
    ],
    [
      'an amount past Stripe’s limit',
      ['Huge', '100000000', 'usd', 'month'],
      /at most 99999999 .*\(invalid_request\)/,
    ],
  ])(
    'refuses %s with exit 2 and the code, writing nothing',
    async (_what, [name, amount, currency, interval], message) => {
      const before = await rows();
      const run = await create(name ?? '', amount ?? '', currency ?? '', interval ?? '');
      expect(run.error?.message).toMatch(message);
      expect(run.error?.oclif?.exit).toBe(2);
      expect(await rows()).toEqual(before);
    },
  );

  it.each([
    ['a float amount', ['Float', '15.5', 'usd', 'month'], /Expected an integer but received: 15\.5/],
    [
      'an unknown interval',
      ['Weekly', '100', 'usd', 'week'],
      /Expected --interval=week to be one of: month, year/,
    ],
  ])(
    'refuses %s before touching the database',
    async (_what, [name, amount, currency, interval], message) => {
      const before = await rows();
      const run = await create(name ?? '', amount ?? '', currency ?? '', interval ?? '');
      expect(run.error?.message).toMatch(message);
      expect(await rows()).toEqual(before);
    },
  );

  it('refuses an unknown account with not_found', async () => {
    const run = await create('Ghost', '100', 'usd', 'month', 'acc_00000000000000000000000000');
    expect(run.error?.message).toMatch(/No account .*\(not_found\)/);
    expect(run.error?.oclif?.exit).toBe(2);
  });

  it('lists the plans newest first, a page at a time', async () => {
    const { plans } = await rows();
    const all = await payJson<ListJson>(['plans', 'list', '--account', accountId]);
    expect(all).toMatchObject({ object: 'list', has_more: false });
    expect(all.data.map((p) => p.id)).toEqual(plans);
    expect(all.data.map((p) => p.name)).toEqual(['Annual', 'Pro']);

    const first = await payJson<ListJson>(['plans', 'list', '--account', accountId, '--limit', '1']);
    expect({ ids: first.data.map((p) => p.id), more: first.has_more }).toEqual({
      ids: plans.slice(0, 1),
      more: true,
    });
    const second = await payJson<ListJson>([
      'plans',
      'list',
      '--account',
      accountId,
      '--limit',
      '1',
      '--starting-after',
      plans[0] ?? '',
    ]);
    expect({ ids: second.data.map((p) => p.id), more: second.has_more }).toEqual({
      ids: plans.slice(1, 2),
      more: false,
    });
  });

  it('prints a table row per plan, and where the next page starts on stderr', async () => {
    const run = await pay(['plans', 'list', '--account', accountId, '--limit', '1']);
    expect(run.stdout).toMatch(
      /^ID +PRICE +STATE +NAME\npln_\w+ {2}150\.00 USD\/year {2}active {2}Annual\n$/,
    );
    expect(run.stderr).toMatch(/More plans follow: add --starting-after pln_\w+/);
  });

  it('refuses to list an unknown account', async () => {
    const run = await pay(['plans', 'list', '--account', 'acc_00000000000000000000000000']);
    expect(run.error?.message).toMatch(/No account .*\(not_found\)/);
  });
});
