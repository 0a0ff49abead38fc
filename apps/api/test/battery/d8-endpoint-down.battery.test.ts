import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import { openBattery, type Battery } from './support/battery.js';
import { figure, since, tally } from './support/figures.js';
import { readCausedMoves, readInbox } from './support/inbox-rows.js';
import {
  makePayments,
  moveOnInSandbox,
  refundInDashboard,
  type MadePayment,
  type PaymentKind,
} from './support/payment-mix.js';
import { freePort, startApi, type ApiProcess } from './support/processes.js';
import {
  illegalPaymentMoves,
  isDrained,
  listSandboxEvents,
  openPay,
  startWorker,
  waitForInbox,
  WEBHOOK_ROUTE,
  type WorkerProcess,
} from './support/webhooks.js';

/*
 * RELIABILITY.md D8, the part that needs no recovery job: pay's API is down while Stripe emits events
 * (3-D Secure challenges answered, `processing` intents settled, refunds made in the dashboard). Every
 * first delivery fails; the API comes back at the same address; Stripe's retries deliver them. All N
 * are applied exactly once and pay ends in the sandbox's state (K2). The sandbox delivers to a
 * registered endpoint on the `fast` schedule (+0, 1 s, 2 s, 4 s), and only when told to (flush), so
 * "the retry after the API came back" is a step of the test rather than a race with a timer.
 */

const KINDS: PaymentKind[] = [
  ...Array<PaymentKind>(6).fill('3ds_succeeded'),
  ...Array<PaymentKind>(3).fill('3ds_failed'),
  ...Array<PaymentKind>(6).fill('processing_succeeded'),
  ...Array<PaymentKind>(3).fill('processing_failed'),
  ...Array<PaymentKind>(8).fill('succeeded'),
];

describe('D8: the endpoint down while Stripe emits events', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let worker: WorkerProcess | undefined;
  let pay: Pay | undefined;

  beforeAll(async () => {
    // asyncCaptureDelaySeconds 0: a charge's `charge.updated` comes with it, not a second later, so every
    // event of the outage exists when the outage's deliveries are attempted.
    battery = await openBattery('battery_d8', {
      autoDeliverWebhooks: false,
      retrySchedule: 'fast',
      asyncCaptureDelaySeconds: 0,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await pay?.close();
    await api?.stop();
    await battery?.close();
  });

  it('applies every event Stripe retried after the API came back, exactly once', async () => {
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
    worker = startWorker(env);
    pay = await openPay(battery, { STRIPE_WEBHOOK_SECRETS: endpoint.secret });
    api = await startApi(env, port);

    // Payments through pay, their first events delivered and applied while all is well.
    const made = await makePayments(battery, api, KINDS, 8, { moveOn: false });
    const before = await battery.sandbox.flush();
    figure('D8', `with the API up: ${JSON.stringify(before)}`);
    expect(before.failed).toBe(0);
    await waitForInbox(pay, isDrained, 'D8 before');
    const known = new Set((await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).map((e) => e.id));

    // The API goes down; Stripe moves on and tries to tell it.
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
    const whileDown = await battery.sandbox.flush();
    figure(
      'D8',
      `API down: ${emitted.length} events emitted (${tally(emitted.map((e) => e.type))}); first attempts: ${JSON.stringify(whileDown)}`,
    );
    expect(whileDown).toEqual({ attempted: emitted.length, succeeded: 0, failed: emitted.length });
    expect(
      (await readInbox(battery.database.url)).filter((r) => emitted.some((e) => e.id === r.stripeEventId)),
    ).toEqual([]);

    // Back up at the same address; Stripe's next attempts (due 1 s after the first) deliver.
    api = await startApi(env, port);
    const backUp = performance.now();
    const ids = new Set(emitted.map((e) => e.id));
    const delivered = (): number =>
      battery.sandbox.webhooks
        .deliveries({ endpoint: endpoint.id })
        .filter((d) => ids.has(d.eventId) && d.succeeded).length;
    const deadline = Date.now() + 60_000;
    while (delivered() < ids.size) {
      if (Date.now() > deadline) {
        throw new Error(`only ${delivered()} of ${ids.size} events were delivered after the API came back`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const retried = await battery.sandbox.flush();
      figure('D8', `retry flush: ${JSON.stringify(retried)}`);
    }
    await waitForInbox(pay, isDrained, 'D8 after');
    figure('D8', `all ${ids.size} delivered and applied ${since(backUp)} ms after the API came back`);

    // Each was refused once at least, delivered once, stored once and applied once.
    const attempts = battery.sandbox.webhooks
      .deliveries({ endpoint: endpoint.id })
      .filter((d) => ids.has(d.eventId));
    for (const id of ids) {
      const mine = attempts.filter((d) => d.eventId === id);
      expect({
        id,
        firstFailed: mine[0]?.succeeded,
        succeeded: mine.filter((d) => d.succeeded).length,
      }).toEqual({
        id,
        firstFailed: false,
        succeeded: 1,
      });
    }
    const inbox = (await readInbox(battery.database.url)).filter((r) => ids.has(r.stripeEventId));
    expect(inbox.map((r) => r.stripeEventId).sort()).toEqual([...ids].sort());
    expect(inbox.filter((r) => r.status !== 'processed' && r.status !== 'ignored')).toEqual([]);
    figure('D8', `inbox rows of the ${ids.size}: ${tally(inbox.map((r) => `${r.type} ${r.status}`))}`);

    // pay learnt what happened from these events alone, and ends in the sandbox's state.
    const state = await readPayState(battery.database.url);
    figure('D8', `payments: ${tally(state.payments.map((p) => p.status))}`);
    const moves = (await readCausedMoves(battery.database.url)).filter(
      (mv) => mv.table === 'refund_events' || (mv.fromStatus !== null && mv.fromStatus !== 'pending'),
    );
    expect(moves.filter((mv) => mv.causeStripeEventId === null || !ids.has(mv.causeStripeEventId))).toEqual(
      [],
    );
    expect(moves.length).toBeGreaterThan(0);
    expect(await illegalPaymentMoves(battery)).toEqual([]);
    const report = await checkInvariants(battery.ctx);
    figure('D8', formatReport(report));
    expect(report.violations).toEqual([]);
  });
});
