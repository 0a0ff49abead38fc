import { randomUUID } from 'node:crypto';
import { runCommand } from '@oclif/test';
import { newId, type AccountId, type Payment, type PlanId } from '@pay/core';
import type { Database } from '@pay/db';
import { SANDBOX_SECRET_KEY, type Pay, type StripeConnection } from '@pay/runtime';
import type { ReconcileView } from '../src/commands/reconcile';
import { CLI_ROOT } from './helpers';
import { openShop, type ShopWorld } from './shop';

/** `pay reconcile <args>` in-process, with the exit status it set (the shared helper clears it). */
async function reconcile(args: string[] = []) {
  const run = await runCommand<ReconcileView>(['reconcile', ...args], { root: CLI_ROOT });
  const exitCode = process.exitCode ?? (run.error === undefined ? 0 : (run.error.oclif?.exit ?? 1));
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

const NO_DRIFT = {
  payment_status: 0,
  amount_refunded: 0,
  missing_refund: 0,
  refund_status: 0,
  orphan_intent: 0,
};

describe('pay reconcile on PostgreSQL', () => {
  /** Another process's pay, which took the payments; its private sandbox plays Stripe. */
  let shop: Pay;
  let sandbox: NonNullable<StripeConnection['sandbox']>;
  let db: Database;
  let accountId: AccountId;
  let planId: PlanId;

  /** A call to the sandbox's REST API as Stripe's dashboard makes it: outside pay, announced to nobody. */
  async function dashboard(path: string, form: Record<string, string>): Promise<{ id: string }> {
    const response = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SANDBOX_SECRET_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as { id: string };
    expect(response.status).toBe(200);
    return body;
  }

  let world: ShopWorld;
  beforeAll(async () => {
    world = await openShop({ name: 'reconcile', env: { PAY_STRIPE_MAX_NETWORK_RETRIES: '0' } });
    ({ shop, sandbox, db, accountId, planId } = world);
  });

  afterAll(() => world?.close());

  function request(input: object) {
    return {
      accountId,
      key: randomUUID(),
      method: 'POST',
      path: '/api/v1/payments',
      params: input,
      requestId: `req_${randomUUID()}`,
    };
  }

  async function paid(): Promise<Payment> {
    const input = { accountId, userId: `user-${randomUUID()}`, planId, paymentMethodId: 'pm_card_visa' };
    const attempt = await shop.services.payments.create(input, request(input));
    expect(attempt.result.kind).toBe('succeeded');
    return attempt.result.view.payment;
  }

  /** A payment Stripe charged whose answer never reached pay: `pending` with its intent id. */
  async function paymentWithLostAnswer(): Promise<Payment> {
    const match = { method: 'POST', path: '/v1/payment_intents/*/confirm' };
    sandbox.faults.add({ kind: 'delay', ms: 300, times: 1, match });
    const input = { accountId, userId: `user-${randomUUID()}`, planId, paymentMethodId: 'pm_card_visa' };
    const attempt = shop.services.payments.create(input, request(input)).then(
      (answered) => ({ answered }),
      (error: unknown) => ({ error }),
    );
    await until(() => sandbox.faults.list().length === 0);
    sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match });
    sandbox.faults.add({ kind: 'error_before', status: 500, times: 1, match });
    expect(await attempt).toEqual({ error: expect.objectContaining({ code: 'dependency_unavailable' }) });
    sandbox.faults.clear();
    const [payment] = (await db.store.repos.payments.list(accountId, { limit: 1 })).data;
    if (payment === undefined || payment.status !== 'pending' || payment.stripePaymentIntentId === null) {
      throw new Error(`setup: expected a pending payment with an intent, got ${JSON.stringify(payment)}`);
    }
    return payment;
  }

  it('says there is no drift, and exits 0, when pay and Stripe agree', async () => {
    await paid();
    const human = await reconcile();
    expect({ exitCode: human.exitCode, error: human.error }).toEqual({ exitCode: 0, error: undefined });
    expect(human.stdout).toMatch(/^No drift from \S+ to \S+: 1 payments and 1 Stripe intents checked\.\n$/);

    const json = await reconcile(['--json', '--since', '1h']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      fix: false,
      payments_checked: 1,
      intents_checked: 1,
      counts: NO_DRIFT,
      items: [],
      failures: [],
    });
  });

  it('reports each drift by kind and exits 1 without --fix, changing nothing; --fix repairs all; a second run finds nothing', async () => {
    const lost = await paymentWithLostAnswer();
    const refunded = await paid();
    const refund = await dashboard('/v1/refunds', {
      payment_intent: refunded.stripePaymentIntentId ?? '',
      amount: '400',
    });
    const orphan = await dashboard('/v1/payment_intents', {
      amount: '900',
      currency: 'usd',
      'metadata[pay_payment_id]': newId('payment'),
      'metadata[pay_account_id]': accountId,
    });

    const report = await reconcile(['--json']);
    expect(report.exitCode).toBe(1);
    const view = JSON.parse(report.stdout) as ReconcileView;
    expect(view.counts).toEqual({
      ...NO_DRIFT,
      payment_status: 1,
      missing_refund: 1,
      amount_refunded: 1,
      orphan_intent: 1,
    });
    expect(view.items.every((i) => !i.fixed && !i.unfixable)).toBe(true);
    expect(await db.store.repos.payments.findById(accountId, lost.id)).toMatchObject({ status: 'pending' });
    expect(await db.store.repos.refunds.findByStripeId(refund.id)).toBeNull();

    const human = await reconcile();
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toContain('KIND             COUNT  FIXED');
    expect(human.stdout).toMatch(
      new RegExp(`^payment_status +${lost.id} +${lost.stripePaymentIntentId} +pending +succeeded +open`, 'm'),
    );
    expect(human.stdout).toContain('Run again with --fix to repair what can be repaired.');

    const fixed = await reconcile(['--fix', '--json']);
    expect({ exitCode: fixed.exitCode, stderr: fixed.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const fixedView = JSON.parse(fixed.stdout) as ReconcileView;
    expect(fixedView.items.map((i) => [i.kind, i.fixed]).sort()).toEqual([
      ['amount_refunded', true],
      ['missing_refund', true],
      ['orphan_intent', true],
      ['payment_status', true],
    ]);
    expect(await db.store.repos.payments.findById(accountId, lost.id)).toMatchObject({ status: 'succeeded' });
    expect((await db.store.repos.payments.listEvents(lost.id)).at(-1)?.cause).toEqual({ job: 'reconcile' });
    expect(await db.store.repos.refunds.findByStripeId(refund.id)).toMatchObject({
      paymentId: refunded.id,
      origin: 'stripe',
      status: 'succeeded',
      amount: 400,
    });
    expect(await db.store.repos.payments.findById(accountId, refunded.id)).toMatchObject({
      status: 'partially_refunded',
      amountRefunded: 400,
    });
    const atStripe = await fetch(`${sandbox.url}/v1/payment_intents/${orphan.id}`, {
      headers: { authorization: `Bearer ${SANDBOX_SECRET_KEY}` },
    });
    expect(((await atStripe.json()) as { status: string }).status).toBe('canceled');

    const again = await reconcile(['--fix']);
    expect({ exitCode: again.exitCode, stdout: again.stdout }).toEqual({
      exitCode: 0,
      stdout: expect.stringMatching(/^No drift from /),
    });
  });

  it('exits 2 naming the flag when --since is neither a date nor a span', async () => {
    const run = await reconcile(['--since', 'yesterday']);
    expect(run.exitCode).toBe(2);
    expect(String(run.error?.message)).toContain('--since');
  });
});
