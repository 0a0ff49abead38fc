import { newId } from '@pay/core';
import { checkInvariants, formatReport, readPayState, sandboxClient } from '@pay/reliability';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer } from './support/client.js';
import { CONFIRM_INTENT } from './support/fault-case.js';
import { figure, since } from './support/figures.js';
import { refundInDashboard, type MadePayment } from './support/payment-mix.js';
import { runCli, type ApiProcess, type CliRun } from './support/processes.js';
import { countChanges, tableCounts } from './support/table-counts.js';

/*
 * RELIABILITY.md H1: divergences between pay's ledger and the sandbox, seeded the way they happen —
 * a payment whose confirmation Stripe carried out while its answer was lost (pay `pending`, Stripe
 * `succeeded`); refunds made in Stripe's dashboard whose webhooks were never delivered (no endpoint is
 * registered: pay `succeeded`, Stripe refunded in full; a partial one pay has no row for); an intent
 * created at Stripe with pay's metadata for a payment pay never made. One `pay reconcile --fix --json`
 * repairs 100 % of them and reports counts by kind; a second run changes no row of any table; K1–K5.
 */

interface ReconcileJson {
  readonly counts: Record<string, number>;
  readonly items: readonly {
    kind: string;
    object_id: string | null;
    stripe_id: string;
    fixed: boolean;
    unfixable: boolean;
  }[];
  readonly failures: readonly { id: string; error: string }[];
}

describe('H1: reconciliation repairs seeded divergences, and a second run changes nothing', () => {
  let battery: Battery;
  let api: ApiProcess;

  beforeAll(async () => {
    battery = await openBattery('battery_h1');
    api = await battery.startApi({ PAY_STRIPE_MAX_NETWORK_RETRIES: '1' });
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  async function reconcile(): Promise<{ run: CliRun; report: ReconcileJson }> {
    const { PAY_FAULTS: _armed, ...env } = battery.env();
    const run = await runCli(['reconcile', '--since', '1h', '--fix', '--json'], env);
    try {
      return { run, report: JSON.parse(run.stdout) as ReconcileJson };
    } catch {
      throw new Error(
        `pay reconcile printed no JSON report (${JSON.stringify(run.exit)}):\n${run.stdout}\n${run.stderr}`,
      );
    }
  }

  /** A paid payment made through the API: its id, intent and amount. */
  async function paid(label: string): Promise<MadePayment> {
    const answer = await battery.post(api, newIdempotencyKey(label), battery.body());
    if (answer.kind !== 'http' || answer.status !== 201) {
      throw new Error(`the ${label} payment was answered ${describeAnswer(answer)}`);
    }
    const id = (JSON.parse(answer.body) as { id: string }).id;
    const row = (await readPayState(battery.database.url)).payments.find((p) => p.id === id);
    if (row === undefined || row.stripe_payment_intent_id === null) {
      throw new Error(`the ${label} payment has no intent`);
    }
    return {
      kind: 'succeeded',
      paymentId: id,
      intentId: row.stripe_payment_intent_id,
      amount: row.amount,
      answered: '201 succeeded',
    };
  }

  it('fixes every seeded drift in one run, then finds and changes nothing', async () => {
    // pay pending, the sandbox succeeded: the confirmation commits, its answer is dropped, and the SDK's
    // re-send meets a 500; pay answers 503 and keeps the payment pending with its intent.
    const lostKey = newIdempotencyKey('h1-lost');
    const lostBody = battery.body();
    // The confirmation is held in flight until the later faults are armed, so that they meet it in order.
    battery.sandbox.faults.add({ kind: 'delay', ms: 300, times: 1, match: CONFIRM_INTENT });
    const answering = battery.post(api, lostKey, lostBody);
    for (let i = 0; i < 400 && battery.sandbox.faults.list().length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    battery.sandbox.faults.add({ kind: 'drop_after_commit', times: 1, match: CONFIRM_INTENT });
    battery.sandbox.faults.add({ kind: 'error_before', status: 500, times: 5, match: CONFIRM_INTENT });
    const lostAnswer = await answering;
    battery.sandbox.faults.clear();
    expect(lostAnswer).toMatchObject({ kind: 'http', status: 503 });
    const lost = (await readPayState(battery.database.url)).payments.find((p) => p.status === 'pending');
    expect(lost?.stripe_payment_intent_id).toEqual(expect.stringMatching(/^pi_/));

    // pay succeeded, the sandbox refunded in full; and a partial refund pay has no row for.
    const full = await paid('h1-full');
    await refundInDashboard(battery, full, 'full');
    const partial = await paid('h1-partial');
    await refundInDashboard(battery, partial, 'partial');
    // An intent carrying pay's metadata for a payment pay does not have.
    const orphan = await sandboxClient(battery.ctx.sandbox).paymentIntents.create({
      amount: 4_200,
      currency: 'usd',
      metadata: { pay_payment_id: newId('payment'), pay_account_id: battery.accountId },
    });
    // Three agreeing payments around them.
    for (const label of ['h1-ok-1', 'h1-ok-2', 'h1-ok-3']) {
      await paid(label);
    }

    const started = performance.now();
    const first = await reconcile();
    figure('H1', `pay reconcile --fix: ${since(started)} ms, ${JSON.stringify(first.report.counts)}`);
    expect({ exit: first.run.exit, failures: first.report.failures }).toEqual({
      exit: { code: 0, signal: null },
      failures: [],
    });
    expect(first.report.counts).toEqual({
      payment_status: 1,
      amount_refunded: 2,
      missing_refund: 2,
      refund_status: 0,
      orphan_intent: 1,
    });
    expect(first.report.items.filter((i) => !i.fixed)).toEqual([]);
    expect(first.report.items).toContainEqual(
      expect.objectContaining({ kind: 'payment_status', object_id: lost?.id, fixed: true }),
    );
    expect(first.report.items).toContainEqual(
      expect.objectContaining({ kind: 'orphan_intent', stripe_id: orphan.id }),
    );
    expect((await sandboxClient(battery.ctx.sandbox).paymentIntents.retrieve(orphan.id)).status).toBe(
      'canceled',
    );

    const state = await readPayState(battery.database.url);
    const statusOf = (id: string | undefined) => state.payments.find((p) => p.id === id);
    expect(statusOf(lost?.id)?.status).toBe('succeeded');
    expect(statusOf(full.paymentId)).toMatchObject({ status: 'refunded', amount_refunded: full.amount });
    expect(statusOf(partial.paymentId)).toMatchObject({
      status: 'partially_refunded',
      amount_refunded: Math.floor(partial.amount / 3),
    });

    const before = await tableCounts(battery.database.url);
    const second = await reconcile();
    expect({ exit: second.run.exit, items: second.report.items, failures: second.report.failures }).toEqual({
      exit: { code: 0, signal: null },
      items: [],
      failures: [],
    });
    expect(countChanges(before, await tableCounts(battery.database.url))).toEqual([]);

    // The client that got the 503 retries its key and gets the payment as it now stands.
    const retried = await battery.post(api, lostKey, lostBody);
    expect(retried).toMatchObject({ kind: 'http', status: 201 });

    const checked = await checkInvariants(battery.ctx);
    console.log(`[H1] ${formatReport(checked)}`);
    // The orphan is canceled (Stripe cannot delete an intent): it moved no money, and K1 accepts it.
    expect(checked.violations).toEqual([]);
  });
});
