import { HANDLED_WEBHOOK_EVENT_TYPES } from '@pay/core';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { figure, tally } from './support/figures.js';
import { readCausedMoves, readInbox } from './support/inbox-rows.js';
import { withSql } from './support/pay-sql.js';
import {
  makePayments,
  moveOnInSandbox,
  refundInDashboard,
  type MadePayment,
  type PaymentKind,
} from './support/payment-mix.js';
import { freePort, runCli, startApi, type ApiProcess } from './support/processes.js';
import { illegalPaymentMoves, listSandboxEvents, WEBHOOK_ROUTE } from './support/webhooks.js';

/*
 * RELIABILITY.md D8, the recovery job's part: pay's API is down for longer than Stripe retries. The
 * sandbox emits events (3-D Secure answered, `processing` intents settled, refunds made in the
 * dashboard), tries each on the `fast` schedule (+0, 1 s, 2 s, 4 s) and gives up: they are undelivered
 * for good (`delivery_success=false`). One `pay worker --once` pass lists them from Stripe's events API,
 * stores each once and applies it: every one applied exactly once, and pay ends in the sandbox's state
 * (K2). The API never comes back during the test, so no delivery can stand in for the catch-up.
 */

const KINDS: PaymentKind[] = [
  ...Array<PaymentKind>(4).fill('3ds_succeeded'),
  ...Array<PaymentKind>(2).fill('3ds_failed'),
  ...Array<PaymentKind>(4).fill('processing_succeeded'),
  ...Array<PaymentKind>(2).fill('processing_failed'),
  ...Array<PaymentKind>(6).fill('succeeded'),
];

/** Attempts of the sandbox's `fast` retry schedule before it gives an event up. */
const FAST_ATTEMPTS = 4;

interface WorkerPass {
  readonly webhooks: { processed: number; ignored: number; failed: number; dead: number };
  readonly webhook_catch_up: { listed: number; stored: number; already_known: number; failures: number };
}

async function workerOnce(battery: Battery): Promise<WorkerPass> {
  const run = await runCli(['worker', '--once', '--json'], battery.env());
  if (run.exit.code !== 0) {
    throw new Error(`pay worker --once ended ${JSON.stringify(run.exit)}:\n${run.stdout}\n${run.stderr}`);
  }
  return JSON.parse(run.stdout) as WorkerPass;
}

describe('D8: events Stripe gave up on, recovered by the catch-up', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_d8_missed', {
      autoDeliverWebhooks: false,
      retrySchedule: 'fast',
      asyncCaptureDelaySeconds: 0,
    });
  });

  afterAll(async () => {
    await api?.stop();
    await battery?.close();
  });

  it('applies every event of an outage longer than Stripe’s retries exactly once, after one worker pass', async () => {
    const port = await freePort();
    const account = battery.sandbox.accountIdForKey(battery.stripeKey);
    const endpoint = battery.sandbox.webhooks.createEndpoint(account, {
      url: `http://127.0.0.1:${port}${WEBHOOK_ROUTE}`,
      enabled_events: ['*'],
    });
    if (endpoint.secret === undefined) {
      throw new Error('the sandbox returned no signing secret on creation');
    }
    const env = battery.env({ STRIPE_WEBHOOK_SECRETS: endpoint.secret });
    api = await startApi(env, port);

    // Payments through pay, their first events delivered and applied while all is well.
    const made = await makePayments(battery, api, KINDS, 6, { moveOn: false });
    const before = await battery.sandbox.flush();
    expect(before.failed).toBe(0);
    const first = await workerOnce(battery);
    expect(first.webhooks).toMatchObject({ failed: 0, dead: 0 });
    const known = new Set((await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).map((e) => e.id));

    // The API goes down for good; Stripe moves on and tries to tell it, until it gives up.
    await api.stop();
    api = undefined;
    moveOnInSandbox(battery, made);
    const card = made.filter((m: MadePayment) => m.kind === 'succeeded');
    for (const [i, payment] of card.entries()) {
      await refundInDashboard(
        battery,
        payment,
        i % 3 === 0 ? 'full' : i % 3 === 1 ? 'partial' : 'two_partials',
      );
    }
    const emitted = (await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).filter(
      (e) => !known.has(e.id),
    );
    const ids = new Set(emitted.map((e) => e.id));
    const attemptsOf = (id: string) =>
      battery.sandbox.webhooks.deliveries({ endpoint: endpoint.id }).filter((d) => d.eventId === id);
    const deadline = Date.now() + 60_000;
    while ([...ids].some((id) => attemptsOf(id).length < FAST_ATTEMPTS)) {
      if (Date.now() > deadline) {
        throw new Error('the sandbox did not make every retry of its schedule within 60 s');
      }
      await battery.sandbox.flush();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await battery.sandbox.flush()).toMatchObject({ attempted: 0 });
    for (const id of ids) {
      expect({ id, attempts: attemptsOf(id).map((d) => d.succeeded) }).toEqual({
        id,
        attempts: Array<boolean>(FAST_ATTEMPTS).fill(false),
      });
    }
    // What `GET /v1/events?delivery_success=false` lists.
    expect(
      [...ids].filter((id) => battery.sandbox.webhooks.deliverySucceeded(account, id) !== false),
    ).toEqual([]);
    const handled = emitted.filter((e) => HANDLED_WEBHOOK_EVENT_TYPES.includes(e.type));
    figure(
      'D8 missed',
      `API down past the retries: ${emitted.length} events undelivered (${tally(emitted.map((e) => e.type))}), ` +
        `${handled.length} of types pay handles`,
    );
    expect((await readInbox(battery.database.url)).filter((r) => ids.has(r.stripeEventId))).toEqual([]);

    // One recovery pass: the catch-up stores them, the same pass applies them.
    const pass = await workerOnce(battery);
    figure('D8 missed', `pay worker --once: ${JSON.stringify(pass)}`);
    expect(pass.webhook_catch_up).toMatchObject({ stored: handled.length, failures: 0 });
    expect(pass.webhooks).toMatchObject({ failed: 0, dead: 0 });

    const handledIds = new Set(handled.map((e) => e.id));
    const inbox = (await readInbox(battery.database.url)).filter((r) => ids.has(r.stripeEventId));
    // Inbox rows == distinct ids: each stored once, and applied once.
    expect(inbox.map((r) => r.stripeEventId).sort()).toEqual([...handledIds].sort());
    expect(
      inbox.filter((r) => r.attempts !== 1 || (r.status !== 'processed' && r.status !== 'ignored')),
    ).toEqual([]);
    // Fetched over the authenticated API, not delivered signed: the rows say so.
    const signed = await withSql(battery.database.url, (sql) =>
      sql.unsafe(`SELECT stripe_event_id FROM pay.webhook_events WHERE signature_verified`),
    );
    expect(signed.map((r) => String(r.stripe_event_id)).filter((id) => ids.has(id))).toEqual([]);
    figure('D8 missed', `inbox rows of the outage: ${tally(inbox.map((r) => `${r.type} ${r.status}`))}`);

    // pay learnt what happened from these events alone (the API was down, no client asked), and ends in
    // the sandbox's state.
    const moves = (await readCausedMoves(battery.database.url)).filter(
      (mv) => mv.table === 'refund_events' || (mv.fromStatus !== null && mv.fromStatus !== 'pending'),
    );
    const outageMoves = moves.filter(
      (mv) => mv.causeStripeEventId !== null && handledIds.has(mv.causeStripeEventId),
    );
    expect(outageMoves.length).toBeGreaterThan(0);
    const state = await readPayState(battery.database.url);
    figure('D8 missed', `payments: ${tally(state.payments.map((p) => p.status))}`);
    expect(await illegalPaymentMoves(battery)).toEqual([]);
    const report = await checkInvariants(battery.ctx);
    figure('D8 missed', formatReport(report));
    expect(report.violations).toEqual([]);

    // A second pass finds them all known, and applies nothing again.
    const movesBefore = (await readCausedMoves(battery.database.url)).length;
    const again = await workerOnce(battery);
    expect(again.webhook_catch_up).toMatchObject({ stored: 0, failures: 0 });
    expect(again.webhooks).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });
    expect(await readCausedMoves(battery.database.url)).toHaveLength(movesBefore);
  });
});
