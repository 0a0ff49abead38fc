import { randomBytes } from 'node:crypto';
import {
  isPayError,
  newId,
  type AccountId,
  type CustomerId,
  type GatewayCard,
  type GatewayEvents,
  type PaymentGateway,
  type PaymentId,
  type RefundGateway,
} from '@pay/core';
import { startSandbox, type Sandbox, type SandboxOptions } from '@pay/stripe-sandbox';
import Stripe from 'stripe';
import { createStripeGateway, type StripeGatewayOptions } from '../src/index.js';

/** The sandbox and gateways pointed at it; each test takes a fresh key, i.e. an account of its own. */
export interface Harness {
  readonly sandbox: Sandbox;
  /** A new `sk_test_…` key: a new, empty sandbox account. */
  newKey(): string;
  /** The adapter on `key`, with a 2 s timeout and no SDK retries unless told otherwise. */
  gateway(
    key: string,
    options?: Partial<StripeGatewayOptions>,
  ): PaymentGateway & GatewayEvents & RefundGateway;
  /** The raw SDK on `key`, to look at what the sandbox holds. */
  stripe(key: string): Stripe;
  /** How many objects of `kind` the sandbox created in the account of `key`. */
  count(key: string, kind: 'customer' | 'payment_method' | 'payment_intent' | 'charge' | 'refund'): number;
  close(): Promise<void>;
}

export async function startHarness(options: SandboxOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, ...options });
  return {
    sandbox,
    newKey: () => `sk_test_${randomBytes(9).toString('hex')}`,
    gateway: (key, overrides = {}) =>
      createStripeGateway({
        secretKey: key,
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
        timeoutMs: 2_000,
        maxNetworkRetries: 0,
        ...overrides,
      }),
    stripe: (key) =>
      new Stripe(key, {
        host: '127.0.0.1',
        port: sandbox.port,
        protocol: 'http',
        maxNetworkRetries: 0,
        telemetry: false,
      }),
    count: (key, kind) => sandbox.ledger.count(kind, sandbox.accountIdForKey(key)),
    close: () => sandbox.stop(),
  };
}

/** pay's ids for one payment, and its deterministic Stripe keys (never random per attempt). */
export interface PaymentFixture {
  readonly accountId: AccountId;
  readonly customerId: CustomerId;
  readonly paymentId: PaymentId;
  readonly keys: { customer: string; attach: string; create: string; confirm: string; cancel: string };
}

export function newPayment(): PaymentFixture {
  const paymentId = newId('payment');
  const customerId = newId('customer');
  return {
    accountId: newId('account'),
    customerId,
    paymentId,
    keys: {
      customer: `pay:${customerId}:customer`,
      attach: `pay:${paymentId}:attach`,
      create: `pay:${paymentId}:create`,
      confirm: `pay:${paymentId}:confirm`,
      cancel: `pay:${paymentId}:cancel`,
    },
  };
}

/** A Stripe customer with `card` attached, as the payment flow makes them before creating an intent. */
export async function customerWithCard(
  gateway: PaymentGateway,
  p: PaymentFixture,
  card: string,
): Promise<{ stripeCustomerId: string; card: GatewayCard }> {
  const { stripeCustomerId } = await gateway.createCustomer({
    accountId: p.accountId,
    customerId: p.customerId,
    idempotencyKey: p.keys.customer,
  });
  const attached = await gateway.attachPaymentMethod({
    stripeCustomerId,
    paymentMethod: card,
    idempotencyKey: p.keys.attach,
  });
  if (attached.kind !== 'attached') {
    throw new Error(`attach of ${card} was ${attached.kind}`);
  }
  return { stripeCustomerId, card: attached.card };
}

/** Creates the payment's intent for `card` (2000 usd), unconfirmed. */
export async function intentFor(gateway: PaymentGateway, p: PaymentFixture, card: string) {
  const { stripeCustomerId, card: attached } = await customerWithCard(gateway, p, card);
  const intent = await gateway.createIntent({
    paymentId: p.paymentId,
    accountId: p.accountId,
    amount: 2000,
    currency: 'usd',
    stripeCustomerId,
    stripePaymentMethodId: attached.stripePaymentMethodId,
    idempotencyKey: p.keys.create,
  });
  return { stripeCustomerId, card: attached, intent };
}

/** pay's return URL for 3-D Secure, as the payment flow passes it. */
export const RETURN_URL = 'https://pay.example/api/v1/payments/return';

/** Creates the payment's intent for `card` (2000 usd) and confirms it: paid, unless the card says no. */
export async function paidIntent(gateway: PaymentGateway, p: PaymentFixture, card = 'pm_card_visa') {
  const { intent } = await intentFor(gateway, p, card);
  const outcome = await gateway.confirmIntent({
    stripePaymentIntentId: intent.stripePaymentIntentId,
    idempotencyKey: p.keys.confirm,
    returnUrl: RETURN_URL,
  });
  return { intent, outcome };
}

/** What a promise rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** The fields of a PayError a test asserts on, so a failure message shows them all at once. */
export function payErrorFields(error: unknown): Record<string, unknown> {
  if (!isPayError(error)) {
    return { notAPayError: String(error) };
  }
  return {
    name: error.name,
    code: error.code,
    retryable: error.retryable,
    param: error.param,
    ...('ambiguous' in error ? { ambiguous: error.ambiguous } : {}),
    ...('gatewayCode' in error ? { gatewayCode: error.gatewayCode } : {}),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await sleep(25);
  }
}

/**
 * Stripe commits `call`, the connection drops, and the SDK's automatic re-send (it makes one on a closed
 * connection) meets a 500: the call ends with no answer although Stripe acted. The first request is held
 * in flight until the later faults are armed, so only the re-send can meet the 500.
 */
export async function dropThenFailResend(
  sandbox: Sandbox,
  match: { method: string; path?: string; idempotencyKey: string },
  call: () => Promise<unknown>,
): Promise<unknown> {
  sandbox.faults.add({ kind: 'delay', ms: 200, times: 1, match });
  const outcome = rejectionOf(call());
  await waitFor(() => sandbox.faults.list().length === 0);
  sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match });
  sandbox.faults.add({ kind: 'error_before', status: 500, times: 1, match });
  return outcome;
}
