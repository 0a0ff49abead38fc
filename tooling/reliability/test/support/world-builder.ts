import { randomBytes } from 'node:crypto';
import { newId, type PaymentStatus, type RefundStatus, type SubscriptionStatus } from '@pay/core';
import { migratePostgres } from '@pay/db';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { startSandbox, type Sandbox } from '@pay/stripe-sandbox';
import postgres from 'postgres';
import Stripe from 'stripe';
import type { InvariantContext } from '../../src/index.js';

/*
 * Builds states by hand for the checkers' own tests: pay's rows inserted with SQL into a migrated test
 * database, Stripe objects made through the real SDK in an in-process sandbox. Each test starts from an
 * empty database and a fresh sandbox account (a new secret key).
 */

type Move<S extends string> = readonly [from: S | null, to: S, amount?: number];

/** The rows of one payment: its status, its intent (if any), and its event rows as moves. */
export interface PaymentSpec {
  readonly status: PaymentStatus;
  readonly amount?: number;
  readonly amountRefunded?: number;
  readonly intentId?: string | null;
  readonly id?: string;
  /** Default: the chain ∅→pending→…→status a correct flow writes. */
  readonly events?: readonly Move<PaymentStatus>[];
}

export interface RefundSpec {
  readonly paymentId: string;
  readonly amount: number;
  readonly status: RefundStatus;
  readonly stripeRefundId?: string | null;
  readonly events?: readonly Move<RefundStatus>[];
}

export interface Builder {
  readonly ctx: InvariantContext;
  readonly stripe: Stripe;
  readonly sql: postgres.Sql;
  readonly sandbox: Sandbox;
  /** Starts the next test on an empty database and a sandbox account of its own. */
  reset(): Promise<void>;
  /** A PaymentIntent through the SDK, naming `paymentId` in its metadata as pay's gateway does. */
  createIntent(
    paymentId: string,
    options?: { amount?: number; paymentMethod?: string; confirm?: boolean },
  ): Promise<Stripe.PaymentIntent>;
  insertPayment(spec: PaymentSpec): Promise<string>;
  insertRefund(spec: RefundSpec): Promise<string>;
  insertSubscription(
    status: SubscriptionStatus,
    events: readonly Move<SubscriptionStatus>[],
  ): Promise<string>;
  insertKey(spec: {
    lockedAt: Date | null;
    responseStatus: number | null;
    recoveryPoint: string;
  }): Promise<string>;
  close(): Promise<void>;
}

const CAUSE = 'reliability-test';

/** The chain of event rows a correct flow writes on its way to `status`. */
function defaultPaymentMoves(status: PaymentStatus, amount: number, refunded: number): Move<PaymentStatus>[] {
  const moves: Move<PaymentStatus>[] = [[null, 'pending']];
  switch (status) {
    case 'pending':
      return moves;
    case 'requires_action':
    case 'processing':
    case 'failed':
    case 'canceled':
    case 'succeeded':
      return [...moves, ['pending', status, status === 'succeeded' ? amount : 0]];
    case 'partially_refunded':
    case 'refunded':
      return [...moves, ['pending', 'succeeded', amount], ['succeeded', status, refunded]];
  }
}

export async function openBuilder(): Promise<Builder> {
  const database: TestDatabase = await createTestDatabase('reliability');
  await migratePostgres(database.url);
  const sql = postgres(database.url, { max: 2, onnotice: () => undefined });
  const sandbox = await startSandbox({ port: 0 });
  let secretKey = '';
  let stripe: Stripe = new Stripe('sk_test_unused', { telemetry: false });
  let ctx: InvariantContext = { databaseUrl: database.url, sandbox: { url: sandbox.url, secretKey } };
  let accountId = '';
  let customerId = '';
  let stripeCustomerId = '';

  const builder: Builder = {
    get ctx() {
      return ctx;
    },
    get stripe() {
      return stripe;
    },
    sql,
    sandbox,

    async reset() {
      await sql`TRUNCATE pay.accounts CASCADE`;
      secretKey = `sk_test_reliability_${randomBytes(6).toString('hex')}`;
      stripe = new Stripe(secretKey, {
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
        telemetry: false,
      });
      ctx = { databaseUrl: database.url, sandbox: { url: sandbox.url, secretKey } };
      accountId = newId('account');
      customerId = newId('customer');
      await sql`INSERT INTO pay.accounts (id, name) VALUES (${accountId}, 'reliability')`;
      const customer = await stripe.customers.create({ metadata: { pay_account_id: accountId } });
      stripeCustomerId = customer.id;
      await sql`
        INSERT INTO pay.customers (id, account_id, user_id, stripe_customer_id)
        VALUES (${customerId}, ${accountId}, 'user_1', ${stripeCustomerId})`;
    },

    async createIntent(paymentId, options = {}) {
      const paymentMethod = options.paymentMethod ?? 'pm_card_visa';
      try {
        return await stripe.paymentIntents.create({
          amount: options.amount ?? 1_000,
          currency: 'usd',
          customer: stripeCustomerId,
          payment_method: paymentMethod,
          allowed_payment_method_types: ['card'],
          confirm: options.confirm ?? true,
          return_url: 'https://shop.example/return',
          metadata: { pay_payment_id: paymentId, pay_account_id: accountId },
        });
      } catch (error) {
        // A decline is an answer: the 402 carries the intent, back in requires_payment_method.
        if (error instanceof Stripe.errors.StripeCardError && error.payment_intent !== undefined) {
          return error.payment_intent;
        }
        throw error;
      }
    },

    async insertPayment(spec) {
      const id = spec.id ?? newId('payment');
      const amount = spec.amount ?? 1_000;
      const refunded = spec.amountRefunded ?? 0;
      await sql`
        INSERT INTO pay.payments (id, account_id, customer_id, billing_reason, amount, currency,
          amount_refunded, status, stripe_payment_intent_id, stripe_idempotency_key)
        VALUES (${id}, ${accountId}, ${customerId}, 'manual', ${amount}, 'usd', ${refunded},
          ${spec.status}, ${spec.intentId ?? null}, ${`${id}:stripe`})`;
      for (const [from, to, moved] of spec.events ?? defaultPaymentMoves(spec.status, amount, refunded)) {
        await sql`
          INSERT INTO pay.payment_events (id, payment_id, account_id, from_status, to_status, amount, cause_job)
          VALUES (${newId('paymentEvent')}, ${id}, ${accountId}, ${from}, ${to}, ${moved ?? 0}, ${CAUSE})`;
      }
      return id;
    },

    async insertRefund(spec) {
      const id = newId('refund');
      await sql`
        INSERT INTO pay.refunds (id, account_id, payment_id, amount, currency, status, origin, stripe_refund_id)
        VALUES (${id}, ${accountId}, ${spec.paymentId}, ${spec.amount}, 'usd', ${spec.status}, 'pay',
          ${spec.stripeRefundId ?? null})`;
      const moves: readonly Move<RefundStatus>[] =
        spec.events ??
        (spec.status === 'pending'
          ? [[null, 'pending']]
          : [
              [null, 'pending'],
              ['pending', spec.status],
            ]);
      for (const [from, to, moved] of moves) {
        await sql`
          INSERT INTO pay.refund_events (id, refund_id, account_id, from_status, to_status, amount, cause_job)
          VALUES (${newId('refundEvent')}, ${id}, ${accountId}, ${from}, ${to}, ${moved ?? spec.amount}, ${CAUSE})`;
      }
      return id;
    },

    async insertSubscription(status, events) {
      const planId = newId('plan');
      const id = newId('subscription');
      await sql`
        INSERT INTO pay.plans (id, account_id, name, amount, currency, interval)
        VALUES (${planId}, ${accountId}, 'Monthly', 1000, 'usd', 'month')`;
      await sql`
        INSERT INTO pay.subscriptions (id, account_id, customer_id, plan_id, status, current_period_start,
          current_period_end)
        VALUES (${id}, ${accountId}, ${customerId}, ${planId}, ${status}, now(), now() + interval '30 days')`;
      for (const [from, to] of events) {
        await sql`
          INSERT INTO pay.subscription_events (id, subscription_id, account_id, from_status, to_status, cause_job)
          VALUES (${newId('subscriptionEvent')}, ${id}, ${accountId}, ${from}, ${to}, ${CAUSE})`;
      }
      return id;
    },

    async insertKey(spec) {
      const id = newId('idempotencyKey');
      await sql`
        INSERT INTO pay.idempotency_keys (id, account_id, key, request_method, request_path, params_hash,
          locked_at, recovery_point, response_status, response_body)
        VALUES (${id}, ${accountId}, ${randomBytes(12).toString('hex')}, 'POST', '/api/v1/payments', 'hash',
          ${spec.lockedAt}, ${spec.recoveryPoint}, ${spec.responseStatus},
          ${spec.responseStatus === null ? null : sql.json({ ok: true })})`;
      return id;
    },

    async close() {
      await sql.end({ timeout: 5 });
      await sandbox.stop();
      await database.drop();
    },
  };
  await builder.reset();
  return builder;
}
