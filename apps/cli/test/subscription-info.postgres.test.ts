import { randomUUID } from 'node:crypto';
import { silentLogger, type AccountId, type Plan } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import type { SubscriptionInfoView } from '../src/commands/subscription-info';
import { pay, payJson } from './helpers';

describe('pay subscription-info on PostgreSQL', () => {
  let database: TestDatabase;
  /** Another process's pay, which took the payments; its private sandbox plays Stripe. */
  let shop: Pay;
  let accountId: AccountId;
  let plan: Plan;
  const saved = { ...process.env };
  const actor = { type: 'system', id: 'test' } as const;

  /** Pays for the plan as `userId`, starting a subscription; answers its id. */
  async function subscribe(userId: string, paymentMethodId = 'pm_card_visa'): Promise<string> {
    const { result } = await shop.services.payments.create(
      { accountId, userId, planId: plan.id, paymentMethodId },
      {
        accountId,
        key: `cli-test-${randomUUID()}`,
        method: 'POST',
        path: '/api/v1/payments',
        params: { userId, paymentMethodId },
        requestId: `req_${randomUUID()}`,
      },
    );
    if (result.kind === 'rejected' || result.view.payment.subscriptionId === null) {
      throw new Error(`the payment started no subscription: ${JSON.stringify(result)}`);
    }
    return result.view.payment.subscriptionId;
  }

  beforeAll(async () => {
    database = await createTestDatabase('cli_subscription_info');
    shop = await createPay(loadConfig({ DATABASE_URL: database.url, PAY_LOG_LEVEL: 'error' }), {
      logger: silentLogger,
      role: 'cli',
    });
    accountId = (await shop.services.accounts.createAccount('Subs', actor)).id;
    plan = await shop.services.plans.createPlan(
      { accountId, name: 'Monthly', amount: 1500, currency: 'usd', interval: 'month' },
      actor,
    );
    // The command reads only the database: it never needs the shop's Stripe.
    process.env = { ...saved, DATABASE_URL: database.url, PAY_LOG_LEVEL: 'error', PAY_OPERATOR: 'ops-carol' };
  });

  afterAll(async () => {
    process.env = saved;
    await shop?.close();
    await database?.drop();
  });

  it("prints the user's subscriptions as a table: state, plan, period, next billing, card, last payments", async () => {
    const active = await subscribe('alice');
    const canceled = await subscribe('alice');
    await shop.services.subscriptions.cancel(
      { accountId, subscriptionId: canceled, atPeriodEnd: false },
      {
        accountId,
        key: `cli-test-${randomUUID()}`,
        method: 'POST',
        path: `/api/v1/subscriptions/${canceled}/cancel`,
        params: { at_period_end: false },
        requestId: `req_${randomUUID()}`,
      },
    );
    const view = await shop.services.subscriptions.get(accountId, active);
    const day = (d: Date) => d.toISOString().slice(0, 10);

    // The only account is used when --account is left out.
    const run = await pay(['subscription-info', 'alice']);
    expect(run.error).toBeUndefined();
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`2 subscriptions of user alice in account ${accountId}:`);
    expect(lines[2]).toMatch(/^SUBSCRIPTION\s+STATUS\s+PLAN\s+PERIOD\s+NEXT BILLING\s+CARD$/);
    // Newest first.
    expect(lines[3]).toMatch(
      new RegExp(`^${canceled}\\s+canceled\\s+Monthly \\(15\\.00 USD/month\\)\\s+.*\\s+-\\s+visa •••• 4242$`),
    );
    expect(lines[4]).toContain(active);
    expect(lines[4]).toContain('active');
    expect(lines[4]).toContain(
      `${day(view.subscription.currentPeriodStart)} → ${day(view.subscription.currentPeriodEnd)}`,
    );
    expect(lines[4]).toContain(view.subscription.nextBillingAt?.toISOString().slice(0, 16).replace('T', ' '));
    expect(run.stdout).toContain(`Last payments of ${active}:`);
    const [firstPayment] = view.recentPayments;
    expect(run.stdout).toMatch(
      new RegExp(`${firstPayment?.id ?? '-'}\\s+succeeded\\s+15\\.00 USD\\s+subscription_create`),
    );
  });

  it('gives the same data to machines with --json', async () => {
    const id = await subscribe('bob');
    const view = await shop.services.subscriptions.get(accountId, id);
    const json = await payJson<SubscriptionInfoView>(['subscription-info', 'bob', '--account', accountId]);
    expect(json).toEqual({
      account_id: accountId,
      user_id: 'bob',
      subscriptions: [
        {
          id,
          object: 'subscription',
          user_id: 'bob',
          status: 'active',
          plan: { id: plan.id, name: 'Monthly', amount: 1500, currency: 'usd', interval: 'month' },
          current_period_start: view.subscription.currentPeriodStart.toISOString(),
          current_period_end: view.subscription.currentPeriodEnd.toISOString(),
          next_billing_at: view.subscription.nextBillingAt?.toISOString(),
          cancel_at_period_end: false,
          canceled_at: null,
          ended_at: null,
          payment_method: { brand: 'visa', last4: '4242' },
          recent_payments: [
            {
              id: view.recentPayments[0]?.id,
              status: 'succeeded',
              amount: 1500,
              currency: 'usd',
              billing_reason: 'subscription_create',
              created: view.recentPayments[0]?.createdAt.toISOString(),
              failure_code: null,
            },
          ],
          created: view.subscription.createdAt.toISOString(),
        },
      ],
    });
  });

  it('says so, and exits 0, for a user with no subscriptions', async () => {
    const run = await pay(['subscription-info', 'nobody']);
    expect(run.error).toBeUndefined();
    expect(run.stdout.trim()).toBe(`No subscriptions for user nobody in account ${accountId}.`);
    const json = await payJson<SubscriptionInfoView>(['subscription-info', 'nobody']);
    expect(json).toEqual({ account_id: accountId, user_id: 'nobody', subscriptions: [] });
  });

  it('needs --account once pay has several accounts, and refuses a malformed one', async () => {
    const second = (await shop.services.accounts.createAccount('Another', actor)).id;
    const run = await pay(['subscription-info', 'alice']);
    expect(run.error?.message).toMatch(/several accounts: name one with --account .*\(invalid_request\)/);
    expect(run.error?.oclif?.exit).toBe(2);
    expect(run.stdout).toBe('');

    // Each account sees only its own subscriptions.
    const theirs = await payJson<SubscriptionInfoView>(['subscription-info', 'alice', '--account', second]);
    expect(theirs.subscriptions).toEqual([]);
    const ours = await payJson<SubscriptionInfoView>(['subscription-info', 'alice', '--account', accountId]);
    expect(ours.subscriptions).toHaveLength(2);

    const bad = await pay(['subscription-info', 'alice', '--account', 'cus_123']);
    expect(bad.error?.message).toMatch(/not a valid account id/);
  });
});
