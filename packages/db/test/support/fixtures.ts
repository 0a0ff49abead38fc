import { randomBytes } from 'node:crypto';
import type { Account, Customer, PaymentMethod, Plan, Repositories } from '@pay/core';

/** A short random suffix: suites share one database per file, and Stripe ids are globally unique. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** An account with a customer, a saved card and a monthly plan: what most tests start from. */
export interface Seed {
  account: Account;
  customer: Customer;
  card: PaymentMethod;
  plan: Plan;
}

export async function seed(repos: Repositories): Promise<Seed> {
  const account = await repos.accounts.create({ name: unique('acct') });
  const customer = await repos.customers.create({ accountId: account.id, userId: unique('user') });
  const card = await repos.paymentMethods.upsertByStripeId({
    accountId: account.id,
    customerId: customer.id,
    stripePaymentMethodId: unique('pm'),
    brand: 'visa',
    last4: '4242',
    expMonth: 12,
    expYear: 2034,
  });
  const plan = await repos.plans.create({
    accountId: account.id,
    name: 'Pro',
    amount: 2_000,
    currency: 'usd',
    interval: 'month',
  });
  return { account, customer, card, plan };
}

/** A promise with its resolver outside: lets a test hold a transaction open while another acts. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fails when `promise` does not settle within `ms`: a hang becomes a failed assertion, not a timeout. */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SQLSTATE and constraint name of a database error, whichever driver raised it. */
export function databaseErrorOf(err: unknown): { code?: string; constraint?: string } {
  for (let current: unknown = err; typeof current === 'object' && current !== null;) {
    const e = current as { code?: unknown; constraint?: unknown; constraint_name?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      const constraint = typeof e.constraint_name === 'string' ? e.constraint_name : e.constraint;
      return typeof constraint === 'string' ? { code: e.code, constraint } : { code: e.code };
    }
    current = e.cause;
  }
  return {};
}
