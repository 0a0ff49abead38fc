import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  GatewayUnavailableError,
  silentLogger,
  type GatewayCallName,
  type IdempotentRequest,
  type Logger,
  type PlanId,
} from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, DEMO_PLANS, loadConfig, startRecoveryLoop, type Pay } from '../src/index.js';
import { makeTempDir } from './helpers.js';

interface Observed {
  readonly call: GatewayCallName;
  readonly outcome: 'ok' | 'error';
}

/** A request as the API would make it, with a fresh Idempotency-Key. */
function requestFor(accountId: IdempotentRequest['accountId'], params: unknown): IdempotentRequest {
  return {
    accountId,
    key: randomUUID(),
    method: 'POST',
    path: '/api/v1/payments',
    params,
    requestId: `req_test_${randomUUID()}`,
  };
}

describe('payments wired by createPay on the embedded default', () => {
  const temp = makeTempDir();
  const calls: Observed[] = [];
  let pay: Pay;
  beforeAll(async () => {
    pay = await createPay(loadConfig({ PAY_DATA_DIR: path.join(temp.dir, 'data'), PORT: '4321' }), {
      logger: silentLogger,
      observeGatewayCall: (call, seconds, outcome) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        calls.push({ call, outcome });
      },
    });
  });
  afterAll(async () => {
    await pay?.close();
    temp.remove();
  });

  const monthlyPlan = (): PlanId => {
    const planId = pay.embeddedSeed?.planIds[DEMO_PLANS.findIndex((p) => p.interval === 'month')];
    if (planId === undefined) {
      throw new Error('the embedded start seeded no monthly plan');
    }
    return planId;
  };

  it('takes a payment through the Stripe sandbox opened at start, and records it', async () => {
    const accountId = pay.embeddedSeed?.accountId;
    if (accountId === undefined) {
      throw new Error('the embedded start seeded no account');
    }
    const input = { accountId, userId: 'demo-user', planId: monthlyPlan(), paymentMethodId: 'pm_card_visa' };
    const attempt = await pay.services.payments.create(input, requestFor(accountId, input));
    expect(attempt).toMatchObject({ replayed: false, result: { kind: 'succeeded' } });

    const payment = attempt.result.view.payment;
    expect(await pay.store.repos.payments.findById(accountId, payment.id)).toMatchObject({
      status: 'succeeded',
      amount: 1500,
      currency: 'usd',
      stripePaymentIntentId: expect.stringMatching(/^pi_/),
    });
    const sandbox = (await pay.stripe()).sandbox;
    const intents = sandbox?.ledger.objects().filter((o) => o.id === payment.stripePaymentIntentId) ?? [];
    expect(intents).toHaveLength(1);

    // Every call the flow made was timed and reported as answered.
    expect(calls.map((c) => c.call)).toEqual(
      expect.arrayContaining(['create_customer', 'attach_payment_method', 'create_intent', 'confirm_intent']),
    );
    expect(calls.every((c) => c.outcome === 'ok')).toBe(true);
  });

  it("sends 3-D Secure back to pay's own return route under API_BASE_URL", async () => {
    const accountId = pay.embeddedSeed?.accountId;
    if (accountId === undefined) {
      throw new Error('the embedded start seeded no account');
    }
    const input = {
      accountId,
      userId: 'demo-user-3ds',
      planId: monthlyPlan(),
      paymentMethodId: 'pm_card_threeDSecure2Required',
    };
    const attempt = await pay.services.payments.create(input, requestFor(accountId, input));
    expect(attempt.result.kind).toBe('requires_action');
    const payment = attempt.result.view.payment;
    const sandbox = (await pay.stripe()).sandbox;
    const [confirm] =
      sandbox?.requests({
        method: 'POST',
        path: `/v1/payment_intents/${String(payment.stripePaymentIntentId)}/confirm`,
      }) ?? [];
    expect(confirm?.params).toMatchObject({
      return_url: `http://localhost:4321/api/v1/payments/${payment.id}/return`,
    });
  });
});

describe('the CLI’s gateway and the Stripe client settings', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('runtime_gateway');
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** A logger that keeps its warnings: the CLI warns when it starts a sandbox of its own. */
  function warningsLogger(): { logger: Logger; warnings: string[] } {
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (message) => warnings.push(message),
      child: () => logger,
    };
    return { logger, warnings };
  }

  it('opens Stripe on the first gateway call only, and once', async () => {
    const { logger, warnings } = warningsLogger();
    const pay = await createPay(loadConfig({ DATABASE_URL: database.url }), { logger, role: 'cli' });
    try {
      await pay.services.accounts.createAccount('No Stripe here', { type: 'system', id: 'test' });
      expect(warnings).toEqual([]);

      const lookups = await Promise.allSettled([
        pay.gateway.retrieveIntent('pi_missing_1'),
        pay.gateway.retrieveIntent('pi_missing_2'),
      ]);
      expect(lookups.map((l) => l.status)).toEqual(['rejected', 'rejected']);
      await expect(pay.gateway.retrieveIntent('pi_missing_3')).rejects.toMatchObject({
        code: 'invalid_request',
        gatewayCode: 'resource_missing',
      });
      expect(warnings).toEqual([expect.stringContaining('a Stripe sandbox of its own')]);
      const sandbox = (await pay.stripe()).sandbox;
      expect(sandbox?.requests({ method: 'GET' }).map((r) => r.path)).toEqual([
        '/v1/payment_intents/pi_missing_1',
        '/v1/payment_intents/pi_missing_2',
        '/v1/payment_intents/pi_missing_3',
      ]);
    } finally {
      await pay.close();
    }
  });

  it('re-sends an unanswered call PAY_STRIPE_MAX_NETWORK_RETRIES times, then reports no answer', async () => {
    const pay = await createPay(
      loadConfig({ DATABASE_URL: database.url, PAY_STRIPE_MAX_NETWORK_RETRIES: '1' }),
      { logger: silentLogger, role: 'cli' },
    );
    try {
      const sandbox = (await pay.stripe()).sandbox;
      sandbox?.faults.add({ kind: 'error_before', status: 503, match: { method: 'GET' } });
      await expect(pay.gateway.retrieveIntent('pi_unreachable')).rejects.toBeInstanceOf(
        GatewayUnavailableError,
      );
      expect(sandbox?.requests({ method: 'GET' })).toHaveLength(2);
    } finally {
      await pay.close();
    }
  });

  it('gives up on an attempt after PAY_STRIPE_TIMEOUT_MS', async () => {
    const pay = await createPay(
      loadConfig({
        DATABASE_URL: database.url,
        PAY_STRIPE_TIMEOUT_MS: '200',
        PAY_STRIPE_MAX_NETWORK_RETRIES: '0',
      }),
      { logger: silentLogger, role: 'cli' },
    );
    try {
      const sandbox = (await pay.stripe()).sandbox;
      sandbox?.faults.add({ kind: 'delay', ms: 3_000, times: 1, match: { method: 'GET' } });
      await expect(pay.gateway.retrieveIntent('pi_slow')).rejects.toBeInstanceOf(GatewayUnavailableError);
      // The next call is answered: the timeout ended one attempt, not the client.
      await expect(pay.gateway.retrieveIntent('pi_slow')).rejects.toMatchObject({
        code: 'invalid_request',
        gatewayCode: 'resource_missing',
      });
    } finally {
      await pay.close();
    }
  });
});

describe('the in-process recovery loop', () => {
  let database: TestDatabase;
  let pay: Pay;
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (message) => errors.push(message), child: () => logger };
  beforeAll(async () => {
    database = await createTestDatabase('runtime_recovery_loop');
    pay = await createPay(loadConfig({ DATABASE_URL: database.url, PAY_STRIPE_MAX_NETWORK_RETRIES: '0' }), {
      logger,
      role: 'cli',
    });
  });
  afterAll(async () => {
    await pay?.close();
    await database?.drop();
  });

  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 400 && !(await condition()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await condition()).toBe(true);
  }

  it('finishes a payment whose answer Stripe never sent, without anyone asking, until pay closes', async () => {
    const actor = { type: 'system', id: 'test' } as const;
    const accountId = (await pay.services.accounts.createAccount('Loop', actor)).id;
    const planId = (
      await pay.services.plans.createPlan(
        { accountId, name: 'Monthly', amount: 1500, currency: 'usd', interval: 'month' },
        actor,
      )
    ).id;
    const sandbox = (await pay.stripe()).sandbox;
    if (sandbox === null) {
      throw new Error('expected a private sandbox');
    }
    // Stripe commits the confirmation and the connection drops; the SDK's one automatic re-send on a
    // closed connection then meets a 500. The first request is held until those faults are armed.
    const match = { method: 'POST', path: '/v1/payment_intents/*/confirm' };
    sandbox.faults.add({ kind: 'delay', ms: 300, times: 1, match });
    const input = { accountId, userId: 'loop-user', planId, paymentMethodId: 'pm_card_visa' };
    const attempt = pay.services.payments.create(input, requestFor(accountId, input)).then(
      () => 'answered',
      (error: unknown) => error,
    );
    for (let i = 0; i < 200 && sandbox.faults.list().length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match });
    sandbox.faults.add({ kind: 'error_before', status: 500, times: 1, match });
    expect(await attempt).toMatchObject({ code: 'dependency_unavailable' });
    const [pending] = (await pay.store.repos.payments.list(accountId, { limit: 1 })).data;
    expect(pending?.status).toBe('pending');
    const status = async () =>
      pending === undefined ? null : (await pay.store.repos.payments.findById(accountId, pending.id))?.status;

    startRecoveryLoop(pay, { intervalMs: 20 });
    await until(async () => (await status()) === 'succeeded');
    expect(sandbox.ledger.count('charge')).toBe(1);

    // Closing pay stops the loop before the database goes: no pass runs, and nothing fails, after it.
    await pay.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors).toEqual([]);
  });
});
