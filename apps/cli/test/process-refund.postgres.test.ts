import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { runCommand } from '@oclif/test';
import { parseId, type AccountId, type Payment, type PlanId } from '@pay/core';
import type { Database } from '@pay/db';
import { type Pay, type StripeConnection } from '@pay/runtime';
import type { RefundView } from '../src/commands/process-refund';
import { CLI_ROOT } from './helpers';
import { openShop, type ShopWorld } from './shop';

/*
 * `pay process-refund` (issue 7, RELIABILITY.md G2–G3) on PostgreSQL: another pay (the "shop") took the
 * payments, its private sandbox plays Stripe, and the command reaches the same sandbox through
 * STRIPE_API_BASE, as an operator's CLI reaches the running service's Stripe. Four eyes above 5,000.
 */

const THRESHOLD = 5000;

/**
 * `pay process-refund <args>` in-process with `stdin` as its standard input (end of input when
 * undefined), and the exit status it set or threw.
 */
async function processRefund(args: string[], stdin?: string) {
  const saved = Object.getOwnPropertyDescriptor(process, 'stdin');
  Object.defineProperty(process, 'stdin', {
    value: Readable.from(stdin === undefined ? [] : [stdin]),
    configurable: true,
  });
  try {
    const run = await runCommand<RefundView>(['process-refund', ...args], { root: CLI_ROOT });
    const exitCode =
      (run.error as { oclif?: { exit?: number } } | undefined)?.oclif?.exit ?? process.exitCode ?? 0;
    return {
      ...run,
      exitCode,
      all: `stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nerror: ${String(run.error)}`,
    };
  } finally {
    // oclif's status would otherwise fail the whole jest run.
    process.exitCode = undefined;
    if (saved !== undefined) {
      Object.defineProperty(process, 'stdin', saved);
    }
  }
}

describe('pay process-refund on PostgreSQL', () => {
  let shop: Pay;
  let sandbox: NonNullable<StripeConnection['sandbox']>;
  let db: Database;
  let accountId: AccountId;
  let planId: PlanId;

  let world: ShopWorld;
  beforeAll(async () => {
    world = await openShop({
      name: 'process_refund',
      plan: { name: 'Yearly', amount: 10_000, interval: 'year' },
      commandEnv: { PAY_REFUND_APPROVAL_THRESHOLD: String(THRESHOLD), PAY_OPERATOR: 'ops-alice' },
    });
    ({ shop, sandbox, db, accountId, planId } = world);
  });

  afterAll(() => world?.close());

  /** A succeeded payment of 10,000 usd, taken by the shop. */
  async function paidPayment(): Promise<Payment> {
    const input = { accountId, userId: `user-${randomUUID()}`, planId, paymentMethodId: 'pm_card_visa' };
    const { result } = await shop.services.payments.create(input, {
      accountId,
      key: randomUUID(),
      method: 'POST',
      path: '/api/v1/payments',
      params: input,
      requestId: `req_${randomUUID()}`,
    });
    expect(result.kind).toBe('succeeded');
    return result.view.payment;
  }

  const refundsOf = (payment: Payment) => db.store.repos.refunds.listByPayment(accountId, payment.id);
  const paymentNow = (payment: Payment) => db.store.repos.payments.findById(accountId, payment.id);
  const auditRows = async () => (await db.store.repos.audit.list(accountId, { limit: 100 })).data;

  /** What a declined or refused run must leave as it was. */
  async function footprint(payment: Payment) {
    return {
      refunds: (await refundsOf(payment)).map((r) => `${r.id} ${r.status}`),
      payment: (await paymentNow(payment))?.amountRefunded,
      audit: (await auditRows()).length,
      stripeRefunds: sandbox.ledger.count('refund'),
    };
  }

  it('with --yes: refunds at once, says what it did, audits the operator with the printed request id', async () => {
    const payment = await paidPayment();
    const run = await processRefund([payment.id, '--amount', '1500', '--reason', 'duplicate', '--yes']);
    expect({ exitCode: run.exitCode, error: run.error, all: run.all }).toEqual({
      exitCode: 0,
      error: undefined,
      all: expect.any(String),
    });
    const [refund] = await refundsOf(payment);
    expect(refund).toMatchObject({ amount: 1500, status: 'succeeded', reason: 'duplicate' });
    expect(run.stdout).toContain(
      `Refund 1500 usd of payment ${payment.id} (account ${accountId}): captured 10000, refunded 0`,
    );
    expect(run.stdout).toContain(`Refund ${refund?.id} of 1500 usd succeeded.`);
    expect(run.stdout).not.toContain('[y/N]');
    const requestId = /re-run with --request-id (\S+) to retry safely/.exec(run.stdout)?.[1];
    expect(requestId).toBeDefined();
    const audit = (await auditRows()).filter((e) => e.targetId === refund?.id);
    expect(audit).toEqual([
      expect.objectContaining({ actorType: 'cli_operator', actorId: 'ops-alice', amount: 1500, requestId }),
    ]);
    expect(await paymentNow(payment)).toMatchObject({ status: 'partially_refunded', amountRefunded: 1500 });
    expect(
      sandbox.ledger.objects({ kind: 'refund' }).filter((o) => o.id === refund?.stripeRefundId),
    ).toHaveLength(1);
  });

  it('without --yes: shows the refund, asks, and refunds on y (all that remains by default)', async () => {
    const payment = await paidPayment();
    const stripeBefore = sandbox.ledger.count('refund');
    const run = await processRefund([payment.id], 'y\n');
    expect({ exitCode: run.exitCode, all: run.all }).toEqual({ exitCode: 0, all: expect.any(String) });
    expect(run.stdout).toContain(`Refund 10000 usd of payment ${payment.id}`);
    expect(run.stdout).toContain('Above the approval threshold');
    expect(run.stdout).toContain('Refund? [y/N] ');
    const [refund] = await refundsOf(payment);
    // 10,000 is above the threshold: it waits for a second operator, nothing sent to Stripe yet.
    expect(refund).toMatchObject({ amount: 10_000, status: 'requires_approval', requestedBy: 'ops-alice' });
    expect(run.stdout).toContain(`pay process-refund --approve ${refund?.id}`);
    expect(sandbox.ledger.count('refund')).toBe(stripeBefore);
  });

  it('without --yes: answering n (or nothing) refunds nothing and exits 1', async () => {
    const payment = await paidPayment();
    const before = await footprint(payment);
    for (const answer of ['n\n', 'yes please\n', undefined]) {
      const run = await processRefund([payment.id, '--amount', '100'], answer);
      expect({ answer, exitCode: run.exitCode }).toEqual({ answer, exitCode: 1 });
      expect(run.stdout).toContain('Refund? [y/N] ');
      expect(run.stdout).toContain('Nothing refunded.');
      expect(await footprint(payment)).toEqual(before);
    }
  });

  it('--json refuses to run without --yes, and with it prints the refund as JSON', async () => {
    const payment = await paidPayment();
    const before = await footprint(payment);
    const refused = await processRefund([payment.id, '--amount', '700', '--json'], 'y\n');
    expect({ exitCode: refused.exitCode, stdout: JSON.parse(refused.stdout) as unknown }).toEqual({
      exitCode: 1,
      stdout: {
        error: expect.objectContaining({
          code: 'confirmation_required',
          message: expect.stringContaining('add --yes'),
        }),
      },
    });
    expect(await footprint(payment)).toEqual(before);

    const run = await processRefund([payment.id, '--amount', '700', '--json', '--yes']);
    expect(run.exitCode).toBe(0);
    const view = JSON.parse(run.stdout) as RefundView;
    expect(view).toEqual({
      id: expect.stringMatching(/^rfnd_/),
      object: 'refund',
      account_id: accountId,
      payment_id: payment.id,
      amount: 700,
      currency: 'usd',
      status: 'succeeded',
      reason: null,
      failure_reason: null,
      created: expect.any(String),
      requested_by: 'ops-alice',
      approved_by: null,
      request_id: expect.stringMatching(/^req_/),
      replayed: false,
    });
  });

  it('a rerun with the same --request-id answers the same refund; Stripe holds one (G2)', async () => {
    const payment = await paidPayment();
    const requestId = `ops-retry-${randomUUID()}`;
    const args = [payment.id, '--amount', '2000', '--request-id', requestId, '--yes', '--json'];
    const first = JSON.parse((await processRefund(args)).stdout) as RefundView;
    const stripeAfterFirst = sandbox.ledger.count('refund');
    const again = await processRefund(args);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ ...first, replayed: true });
    expect(sandbox.ledger.count('refund')).toBe(stripeAfterFirst);
    expect(await refundsOf(payment)).toHaveLength(1);
    expect(await paymentNow(payment)).toMatchObject({ amountRefunded: 2000 });
    // The same request id for another amount is a reuse, refused with its code.
    const reused = await processRefund([payment.id, '--amount', '2500', '--request-id', requestId, '--yes']);
    expect({ exitCode: reused.exitCode, code: reused.error?.code }).toEqual({
      exitCode: 2,
      code: 'idempotency_key_reused',
    });
  });

  it('--approve: a refund above the threshold waits for a second operator; the first may not approve it', async () => {
    const payment = await paidPayment();
    const asked = await processRefund([payment.id, '--amount', '6000', '--yes', '--json']);
    const refund = JSON.parse(asked.stdout) as RefundView;
    expect(refund).toMatchObject({ status: 'requires_approval', requested_by: 'ops-alice' });
    const stripeBefore = sandbox.ledger.count('refund');

    const self = await processRefund(['--approve', refund.id, '--yes']);
    expect({ exitCode: self.exitCode, code: self.error?.code }).toEqual({ exitCode: 2, code: 'forbidden' });
    expect(sandbox.ledger.count('refund')).toBe(stripeBefore);

    process.env.PAY_OPERATOR = 'ops-bob';
    try {
      const declined = await processRefund(['--approve', refund.id], 'n\n');
      expect({ exitCode: declined.exitCode, all: declined.all }).toEqual({
        exitCode: 1,
        all: expect.any(String),
      });
      expect(declined.stdout).toContain(`Approve refund ${refund.id} of 6000 usd of payment ${payment.id}`);
      expect(sandbox.ledger.count('refund')).toBe(stripeBefore);

      const approved = await processRefund(['--approve', refund.id], 'y\n');
      expect({ exitCode: approved.exitCode, all: approved.all }).toEqual({
        exitCode: 0,
        all: expect.any(String),
      });
      expect(approved.stdout).toContain(`Refund ${refund.id} of 6000 usd succeeded.`);
    } finally {
      process.env.PAY_OPERATOR = 'ops-alice';
    }
    expect(await db.store.repos.refunds.findById(accountId, parseId('refund', refund.id))).toMatchObject({
      status: 'succeeded',
      approvedBy: 'ops-bob',
    });
    expect(await paymentNow(payment)).toMatchObject({ amountRefunded: 6000 });
    expect(sandbox.ledger.count('refund')).toBe(stripeBefore + 1);
  });

  it('refuses what pay refuses with exit 2 and the code: another account, more than remains, both a payment and --approve', async () => {
    const payment = await paidPayment();
    const other = await shop.services.accounts.createAccount('Other', { type: 'system', id: 'test' });
    const before = await footprint(payment);
    const cases: [string[], string][] = [
      [[payment.id, '--account', other.id, '--yes'], 'not_found'],
      [[`pay_${'0'.repeat(26)}`, '--yes'], 'not_found'],
      [[payment.id, '--amount', '10001', '--yes'], 'refund_exceeds_captured'],
      [[payment.id, '--approve', `rfnd_${'0'.repeat(26)}`, '--yes'], 'invalid_request'],
    ];
    for (const [args, code] of cases) {
      const run = await processRefund(args);
      expect({ args, exitCode: run.exitCode, code: run.error?.code }).toEqual({ args, exitCode: 2, code });
    }
    // With --json too: the error is printed as JSON, and the exit status is the same 2.
    const json = await processRefund([payment.id, '--amount', '10001', '--yes', '--json']);
    expect(json.exitCode).toBe(2);
    expect(json.stdout).toContain('refund_exceeds_captured');
    expect(await footprint(payment)).toEqual(before);
  });
});
