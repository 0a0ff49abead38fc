import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { runCommand } from '@oclif/test';
import { type AccountId, type Payment, type PlanId } from '@pay/core';
import type { Database } from '@pay/db';
import { type Pay, type StripeConnection } from '@pay/runtime';
import type { RecoveryView } from '../src/commands/recover';
import { CLI_ROOT } from './helpers';
import { openShop, type ShopWorld } from './shop';

/** `pay recover <args>` in-process, with the exit status it set (the shared helper clears it). */
async function recover(args: string[] = []) {
  const run = await runCommand<RecoveryView>(['recover', ...args], { root: CLI_ROOT });
  const exitCode = process.exitCode ?? 0;
  // oclif's status would otherwise fail the whole jest run.
  process.exitCode = undefined;
  return {
    ...run,
    exitCode,
    all: `stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nerror: ${String(run.error)}`,
  };
}

/** Resolves once `condition` holds; a hang guard, not a timing assertion. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(condition()).toBe(true);
}

/** A loopback port nobody listens on: Stripe "down". */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('pay recover on PostgreSQL', () => {
  /** Another process's pay, which took the payments; its private sandbox plays Stripe. */
  let shop: Pay;
  let sandbox: NonNullable<StripeConnection['sandbox']>;
  let db: Database;
  let accountId: AccountId;
  let planId: PlanId;

  let world: ShopWorld;
  beforeAll(async () => {
    world = await openShop({ name: 'recover', env: { PAY_STRIPE_MAX_NETWORK_RETRIES: '0' } });
    ({ shop, sandbox, db, accountId, planId } = world);
  });

  afterAll(() => world?.close());

  /**
   * A payment whose confirmation Stripe carried out but whose answer never arrived: pay keeps it
   * `pending` with its intent id, releases its idempotency key and answers the client 503. The
   * confirmation is held in flight until the later faults are armed; then Stripe commits it and drops
   * the connection, and the SDK's automatic re-send (it makes one on a closed connection) meets a 500.
   */
  async function paymentWithLostAnswer(): Promise<Payment> {
    const match = { method: 'POST', path: '/v1/payment_intents/*/confirm' };
    sandbox.faults.add({ kind: 'delay', ms: 300, times: 1, match });
    const input = { accountId, userId: `user-${randomUUID()}`, planId, paymentMethodId: 'pm_card_visa' };
    const attempt = shop.services.payments
      .create(input, {
        accountId,
        key: randomUUID(),
        method: 'POST',
        path: '/api/v1/payments',
        params: input,
        requestId: `req_${randomUUID()}`,
      })
      .then(
        (answered) => ({ answered }),
        (error: unknown) => ({ error }),
      );
    await until(() => sandbox.faults.list().length === 0);
    sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match });
    sandbox.faults.add({ kind: 'error_before', status: 500, times: 1, match });
    expect(await attempt).toEqual({
      error: expect.objectContaining({ code: 'dependency_unavailable', retryable: true }),
    });
    sandbox.faults.clear();
    const [payment] = (await db.store.repos.payments.list(accountId, { limit: 1 })).data;
    expect(payment).toMatchObject({
      status: 'pending',
      stripePaymentIntentId: expect.stringMatching(/^pi_/),
    });
    if (payment === undefined) {
      throw new Error('no payment recorded');
    }
    return payment;
  }

  const chargesAtStripe = () => sandbox.ledger.count('charge');

  it('says there is nothing to recover, and exits 0, when nothing is unfinished', async () => {
    const human = await recover();
    expect({ exitCode: human.exitCode, error: human.error, stdout: human.stdout }).toEqual({
      exitCode: 0,
      error: undefined,
      stdout:
        'Nothing to recover: no payment, refund, idempotency key or webhook event was left unfinished.\n',
    });
    const json = await recover(['--json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      keys_resumed: 0,
      payments_resolved: 0,
      keys_reaped: 0,
      refunds_resolved: 0,
      webhook_catch_up: { listed: 0, stored: 0, already_known: 0 },
      failures: [],
    });
  });

  it('lists what it could not finish and exits 1 while Stripe is unreachable, changing nothing', async () => {
    const payment = await paymentWithLostAnswer();
    const charges = chargesAtStripe();
    process.env.STRIPE_API_BASE = `http://127.0.0.1:${await closedPort()}`;
    try {
      const run = await recover();
      expect(run.exitCode).toBe(1);
      // The payment, and the listing of the events Stripe did not deliver.
      expect(run.stdout).toContain('Could not finish 2 objects; the next pass retries:');
      expect(run.stdout).toMatch(new RegExp(`^ {2}${payment.id} {2}\\S.*$`, 'm'));
      expect(run.stdout).toMatch(/^ {2}webhook_catch_up {2}Stripe did not answer events\.list/m);

      const json = await recover(['--json']);
      expect(json.exitCode).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({
        keys_resumed: 0,
        payments_resolved: 0,
        keys_reaped: 0,
        refunds_resolved: 0,
        webhook_catch_up: null,
        failures: [
          { id: payment.id, error: expect.any(String) },
          { id: 'webhook_catch_up', error: expect.any(String) },
        ],
      });
    } finally {
      process.env.STRIPE_API_BASE = sandbox.url;
    }
    expect(await db.store.repos.payments.findById(accountId, payment.id)).toMatchObject({
      status: 'pending',
    });
    expect(chargesAtStripe()).toBe(charges);
  });

  it("resolves a pending payment whose answer was lost to Stripe's outcome, charging nothing twice, and stores its undelivered event", async () => {
    // Left by the previous case, or made here when this one runs alone.
    const [left] = (await db.store.repos.payments.list(accountId, { limit: 1 })).data;
    const payment = left?.status === 'pending' ? left : await paymentWithLostAnswer();
    const charges = chargesAtStripe();

    const run = await recover(['--json']);
    expect({ exitCode: run.exitCode, report: JSON.parse(run.stdout) as unknown }).toEqual({
      exitCode: 0,
      report: {
        keys_resumed: 1,
        payments_resolved: 0,
        keys_reaped: 0,
        refunds_resolved: 0,
        // No API took Stripe's deliveries here: its payment_intent.succeeded is fetched into the inbox.
        webhook_catch_up: { listed: 1, stored: 1, already_known: 0 },
        failures: [],
      },
    });
    const stored = await db.store.repos.webhookEvents.listByStatus('pending', { limit: 10 });
    expect(stored.data).toEqual([
      expect.objectContaining({
        type: 'payment_intent.succeeded',
        objectId: payment.stripePaymentIntentId,
        signatureVerified: false,
      }),
    ]);

    const resolved = await db.store.repos.payments.findById(accountId, payment.id);
    expect(resolved).toMatchObject({
      status: 'succeeded',
      stripePaymentIntentId: payment.stripePaymentIntentId,
    });
    const events = await db.store.repos.payments.listEvents(payment.id);
    expect(events.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, 'pending'],
      ['pending', 'succeeded'],
    ]);
    expect(events.at(-1)?.cause).toEqual({ job: 'recovery' });
    // Stripe's own replay of the confirmation under pay's key: the charge made before the crash, no other.
    expect(chargesAtStripe()).toBe(charges);
    const intent = sandbox.ledger
      .objects()
      .filter((o) => o.kind === 'payment_intent' && o.id === payment.stripePaymentIntentId);
    expect(intent).toHaveLength(1);

    // A second pass finds nothing left, and says so.
    const again = await recover();
    expect({ exitCode: again.exitCode, stdout: again.stdout }).toEqual({
      exitCode: 0,
      stdout:
        'Nothing to recover: no payment, refund, idempotency key or webhook event was left unfinished.\n',
    });
  });
});
