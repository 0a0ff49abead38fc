import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger, type Account, type IssuedApiKey, type Logger, type Plan } from '@pay/core';
import { createTestDatabase } from '@pay/db/testing';
import { createLogger, createPay, loadConfig, type Pay, type StripeConnection } from '@pay/runtime';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, createMetrics, type HttpMetrics } from '../src/index.js';

/** A fresh temporary folder, removed by the returned function. */
export function makeTempDir(prefix = 'pay-api-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** pay on an embedded PGlite folder, as `main` would start it. */
export function openEmbeddedPay(dataDir: string, logger: Logger = silentLogger): Promise<Pay> {
  return createPay(loadConfig({ PAY_DATA_DIR: dataDir }), { logger });
}

/** pay on a PostgreSQL database. */
export function openPostgresPay(url: string, env: NodeJS.ProcessEnv = {}): Promise<Pay> {
  return createPay(loadConfig({ DATABASE_URL: url, ...env }), { logger: silentLogger });
}

/** A real JSON logger writing into memory: `text()` is everything written, `lines()` the parsed lines. */
export function captureLogs(): {
  logger: Logger;
  text: () => Promise<string>;
  lines: () => Promise<Record<string, unknown>[]>;
} {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const text = async (): Promise<string> => {
    // The access log is written on the response's 'finish': give it and winston's pipeline a turn.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return chunks.join('');
  };
  const lines = async (): Promise<Record<string, unknown>[]> =>
    (await text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger: createLogger({ level: 'debug', stream }), text, lines };
}

/** The in-process Stripe sandbox pay started, with its control plane. */
export type TestSandbox = NonNullable<StripeConnection['sandbox']>;

/** An account with a service key and its plans (newest first), for route tests. */
export interface TestTenant {
  readonly account: Account;
  readonly key: IssuedApiKey;
  readonly plans: readonly Plan[];
}

const TEST_OPERATOR = { type: 'cli_operator', id: 'ops-test' } as const;

/** A fresh account with a `service` key and one plan per `amounts` entry (monthly, then yearly, …), in usd. */
export async function createTenant(pay: Pay, name: string, amounts: readonly number[]): Promise<TestTenant> {
  const { accounts, plans } = pay.services;
  const account = await accounts.createAccount(name, TEST_OPERATOR);
  const key = await accounts.createApiKey(
    { accountId: account.id, name: 'svc', role: 'service' },
    TEST_OPERATOR,
  );
  const created: Plan[] = [];
  for (const [i, amount] of amounts.entries()) {
    const interval = i % 2 === 0 ? 'month' : 'year';
    created.push(
      await plans.createPlan(
        { accountId: account.id, name: `${name} ${interval} ${i}`, amount, currency: 'usd', interval },
        TEST_OPERATOR,
      ),
    );
  }
  return { account, key, plans: created };
}

/** The sandbox pay's API role started in this process; throws when pay talks to another Stripe. */
export async function sandboxOf(pay: Pay): Promise<TestSandbox> {
  const { sandbox } = await pay.stripe();
  if (sandbox === null) {
    throw new Error('this test needs the in-process Stripe sandbox: leave STRIPE_SECRET_KEY unset');
  }
  return sandbox;
}

/** Resolves once `check` does, polling; a hang guard, not a timing assertion. */
export async function eventually<T>(check: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const value = await check();
    if (value !== null && value !== undefined) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * What the database holds for an account's payments: every payment and subscription with its status,
 * and how many event rows each has. Equal snapshots before and after a request mean it wrote nothing.
 */
export async function paymentRowsOf(pay: Pay, accountId: Account['id']) {
  const { repos } = pay.store;
  const payments = (await repos.payments.list(accountId, { limit: 100 })).data;
  const subscriptions = (await repos.subscriptions.list(accountId, { limit: 100 })).data;
  return {
    payments: await Promise.all(
      payments.map(async (p) => `${p.id} ${p.status} ${(await repos.payments.listEvents(p.id)).length}`),
    ),
    subscriptions: await Promise.all(
      subscriptions.map(
        async (s) => `${s.id} ${s.status} ${(await repos.subscriptions.listEvents(s.id)).length}`,
      ),
    ),
  };
}

/** What the payment routes' tests run on: PostgreSQL, pay with its in-process sandbox, an app, two tenants. */
export interface PaymentsHarness {
  readonly pay: Pay;
  readonly app: Express;
  readonly metrics: HttpMetrics;
  readonly sandbox: TestSandbox;
  /** Plans of 1500 (monthly) and 15000 (yearly) usd. */
  readonly acme: TestTenant;
  /** One plan of 900 (monthly) usd. */
  readonly other: TestTenant;
  /** Closes pay (and its sandbox) and drops the database. */
  close(): Promise<void>;
}

/**
 * A fresh database named for `scope`, pay on it with `env` (return URLs on https://shop.example unless
 * told otherwise), the app with metrics of its own, and the tenants Acme and Other.
 */
export async function openPaymentsHarness(
  scope: string,
  env: NodeJS.ProcessEnv = {},
): Promise<PaymentsHarness> {
  const database = await createTestDatabase(scope);
  let pay: Pay | undefined;
  try {
    pay = await openPostgresPay(database.url, { PAY_RETURN_URL_ORIGINS: 'https://shop.example', ...env });
    const opened = pay;
    const metrics = createMetrics();
    return {
      pay: opened,
      app: createApp({ pay: opened, metrics }),
      metrics,
      sandbox: await sandboxOf(opened),
      acme: await createTenant(opened, 'Acme', [1500, 15000]),
      other: await createTenant(opened, 'Other', [900]),
      close: async () => {
        try {
          await opened.close();
        } finally {
          await database.drop();
        }
      },
    };
  } catch (error) {
    await pay?.close();
    await database.drop();
    throw error;
  }
}

/** The response as one object, so a failing assertion prints all of it. */
export const summary = (res: request.Response) => ({ status: res.status, body: res.body as unknown });

/** A fresh Idempotency-Key of a valid shape. */
export const newIdempotencyKey = (): string => `pay-test-${randomUUID()}`;

/** The tenant's first plan (Acme's and Other's monthly plan). */
export const monthlyPlan = (t: TestTenant): Plan => t.plans[0] as Plan;

/** A valid `POST /payments` body for the tenant's monthly plan and `pm_card_visa`, with `overrides`. */
export const paymentBody = (t: TestTenant, overrides: object = {}) => ({
  user_id: 'alice',
  plan_id: monthlyPlan(t).id,
  payment_method_id: 'pm_card_visa',
  ...overrides,
});

/** `POST /api/v1/payments` as the tenant's key, under `key`. */
export const postPayment = (app: Express, t: TestTenant, body: object, key: string = newIdempotencyKey()) =>
  request(app)
    .post('/api/v1/payments')
    .set('Authorization', `Bearer ${t.key.secret}`)
    .set('Idempotency-Key', key)
    .send(body);
