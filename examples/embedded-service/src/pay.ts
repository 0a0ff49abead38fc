import { AccountService, PaymentService, PlanService, silentLogger, systemClock } from '@pay/core';
import { migratePglite, openPglite } from '@pay/db';
import { createStripeGateway } from '@pay/stripe-adapter';
import type { Sql } from './orders.js';

/** Where Stripe is: real Stripe (`api.stripe.com`) or a Stripe-compatible server such as the sandbox. */
export interface StripeAddress {
  readonly secretKey: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
}

/** The part of pay this service uses: payments, and the account and plan they are taken for. */
export interface Pay {
  readonly accounts: AccountService;
  readonly plans: PlanService;
  readonly payments: PaymentService;
  /** The database, PGlite in memory: pay's tables in schema `pay`, the service's own beside them. */
  readonly sql: Sql;
  close(): Promise<void>;
}

/**
 * Opens pay on PGlite: its migrations create schema `pay`, @pay/db implements core's store, and
 * @pay/stripe-adapter its gateway. No @pay/runtime: a host with its own configuration needs only these.
 * @pay/db opens the instance, and the service shares it: PGlite is one connection, and an instance
 * this ESM module created would be of another PGlite class than the one @pay/db's types name.
 */
export async function openPay(stripe: StripeAddress, publicUrl: string): Promise<Pay> {
  const db = await openPglite();
  await migratePglite(db.pglite);
  const { store } = db;
  const gateway = createStripeGateway({ ...stripe, timeoutMs: 10_000, maxNetworkRetries: 1 });
  return {
    accounts: new AccountService({ store, clock: systemClock }),
    plans: new PlanService({ store }),
    payments: new PaymentService({
      store,
      gateway,
      clock: systemClock,
      logger: silentLogger,
      threeDSecureReturnUrl: (paymentId) => `${publicUrl}/payments/${paymentId}/return`,
      returnUrlOrigins: [publicUrl],
    }),
    sql: db.pglite,
    close: () => db.close(),
  };
}
