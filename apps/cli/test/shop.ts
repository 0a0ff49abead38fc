import { silentLogger, type AccountId, type Plan, type PlanId, type PlanInterval } from '@pay/core';
import { connectPostgres, type Database } from '@pay/db';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig, SANDBOX_SECRET_KEY, type Pay, type StripeConnection } from '@pay/runtime';

/**
 * The world of a CLI test on PostgreSQL: a fresh database, another process's pay (the shop, role `cli`)
 * that takes the payments with its private sandbox as Stripe, one account with one plan, a direct
 * connection for reading rows, and `process.env` pointing the command under test at the same database
 * and sandbox (with `env` on top). `close()` puts everything back.
 */
export interface ShopWorld {
  readonly database: TestDatabase;
  readonly shop: Pay;
  readonly sandbox: NonNullable<StripeConnection['sandbox']>;
  readonly db: Database;
  readonly accountId: AccountId;
  readonly plan: Plan;
  readonly planId: PlanId;
  close(): Promise<void>;
}

export interface ShopOptions {
  /** Names the test database and the account. */
  readonly name: string;
  readonly plan?: { readonly name: string; readonly amount: number; readonly interval: PlanInterval };
  /** Variables for the shop's pay and the commands both (`PAY_STRIPE_MAX_NETWORK_RETRIES`…). */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables for the commands only (`PAY_OPERATOR`, a refund threshold the shop must not apply…). */
  readonly commandEnv?: Readonly<Record<string, string>>;
}

export async function openShop(options: ShopOptions): Promise<ShopWorld> {
  const saved = { ...process.env };
  const env = { PAY_LOG_LEVEL: 'error', ...options.env };
  const database = await createTestDatabase(`cli_${options.name}`);
  const shop = await createPay(loadConfig({ ...env, DATABASE_URL: database.url }), {
    logger: silentLogger,
    role: 'cli',
  });
  const actor = { type: 'system', id: 'test' } as const;
  const accountId = (await shop.services.accounts.createAccount(options.name, actor)).id;
  const plan = await shop.services.plans.createPlan(
    { accountId, currency: 'usd', ...(options.plan ?? { name: 'Monthly', amount: 1500, interval: 'month' }) },
    actor,
  );
  const connection = await shop.stripe();
  if (connection.sandbox === null) {
    throw new Error('expected a private sandbox');
  }
  const sandbox = connection.sandbox;
  const db = connectPostgres(database.url);
  process.env = {
    ...saved,
    ...env,
    ...options.commandEnv,
    DATABASE_URL: database.url,
    STRIPE_SECRET_KEY: SANDBOX_SECRET_KEY,
    STRIPE_API_BASE: sandbox.url,
  };
  return {
    database,
    shop,
    sandbox,
    db,
    accountId,
    plan,
    planId: plan.id,
    close: async () => {
      process.env = saved;
      await db.close();
      await shop.close();
      await database.drop();
    },
  };
}
