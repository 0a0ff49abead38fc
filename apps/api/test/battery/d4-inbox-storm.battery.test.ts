import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import { openBattery, type Battery } from './support/battery.js';
import { modelFromEvents } from './support/event-model.js';
import { figure, NIGHTLY, seededRandom, seedOf, since, tally } from './support/figures.js';
import { readCausedMoves, readInbox } from './support/inbox-rows.js';
import {
  endsSucceeded,
  makePayments,
  refundInDashboard,
  type DashboardRefunds,
  type MadePayment,
  type PaymentKind,
} from './support/payment-mix.js';
import type { ApiProcess } from './support/processes.js';
import {
  createWebhookSender,
  fromSenders,
  illegalPaymentMoves,
  isDrained,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  shuffled,
  startWorker,
  waitForInbox,
  type DeliveryAnswer,
  type WorkerProcess,
} from './support/webhooks.js';

/*
 * RELIABILITY.md D4: Stripe's events for 2,000 payments — succeeded, declined, 3-D Secure then completed
 * or failed, processing then settled, refunded in part or in full in Stripe's dashboard — at least
 * 10,000 in all, each delivered twice in one global shuffle by 20 concurrent senders to the real API
 * process (no worker in it), while two `pay worker` processes apply them. Each event is stored once and
 * applied once; no valid delivery gets anything but a 2xx; every payment ends where applying the events
 * in Stripe's creation order ends, which is the sandbox's state (K2), and K1–K5 hold. No recovery runs
 * (no `pay recover`, and the workers' own recovery pass comes before the first payment): what the API
 * did not see, only the events can have told pay — and the ledger rows say so, naming them as cause.
 *
 * Sizes: 2,000 payments in CI and nightly alike (the issue asks for 10,000 events); D4_PAYMENTS=<n>
 * for a quicker local run. SEED=<n> replays the mix and the shuffle.
 */

const PAYMENTS = Number(process.env.D4_PAYMENTS ?? 2_000);
const SENDERS = 20;
const WORKERS = 2;

/** The mix: what each payment does, and which succeeded ones are then refunded in the dashboard. */
function planMix(count: number, random: () => number): { kinds: PaymentKind[]; refunds: DashboardRefunds[] } {
  const kinds: PaymentKind[] = [];
  const refunds: DashboardRefunds[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const kind: PaymentKind =
      r < 0.6
        ? 'succeeded'
        : r < 0.7
          ? 'declined'
          : r < 0.775
            ? '3ds_succeeded'
            : r < 0.8
              ? '3ds_failed'
              : r < 0.875
                ? 'processing_succeeded'
                : r < 0.9
                  ? 'processing_failed'
                  : 'succeeded';
    kinds.push(kind);
    const s = random();
    refunds.push(
      !endsSucceeded(kind)
        ? 'none'
        : s < 0.15
          ? 'partial'
          : s < 0.22
            ? 'full'
            : s < 0.27
              ? 'two_partials'
              : 'none',
    );
  }
  return { kinds, refunds };
}

describe('D4: 10,000 events delivered twice, shuffled, 20 senders, two workers', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let pay: Pay | undefined;
  const workers: WorkerProcess[] = [];
  const secret = newWebhookSecret();

  beforeAll(async () => {
    battery = await openBattery('battery_d4');
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await pay?.close();
    await api?.stop();
    await battery?.close();
  });

  it('applies each event exactly once and ends every payment in the sandbox’s state', async () => {
    const seed = seedOf();
    const random = seededRandom(seed);
    figure(
      'D4',
      `SEED=${seed}, ${PAYMENTS} payments${NIGHTLY ? ' (NIGHTLY)' : ''}, ${SENDERS} senders, ${WORKERS} workers`,
    );
    const env = { STRIPE_WEBHOOK_SECRETS: secret };
    api = await battery.startApi(env);
    pay = await openPay(battery, env);
    // Before any payment: their one recovery pass at start finds nothing (see NO_RECOVERY).
    for (let i = 0; i < WORKERS; i++) {
      workers.push(startWorker(battery.env(env)));
    }

    // The payments, through pay; then Stripe moves on alone.
    const { kinds, refunds } = planMix(PAYMENTS, random);
    let started = performance.now();
    const made = await makePayments(battery, api, kinds, 16);
    figure('D4', `${made.length} payments made through the API in ${since(started)} ms: ${tally(kinds)}`);
    started = performance.now();
    const refunded = made.map((m, i) => ({ payment: m, plan: refunds[i] ?? 'none' }));
    await fromSenders(refunded, 8, ({ payment, plan }) => refundInDashboard(battery, payment, plan));
    figure('D4', `dashboard refunds in ${since(started)} ms: ${tally(refunds.filter((r) => r !== 'none'))}`);

    const events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
    figure('D4', `${events.length} events in the sandbox: ${tally(events.map((e) => e.type))}`);
    expect(events.length).toBeGreaterThanOrEqual(PAYMENTS === 2_000 ? 10_000 : 0);

    // Every event twice, one global shuffle, signed at the moment it is sent.
    const payloads = events.map(payloadOf);
    const deliveries = shuffled([...payloads, ...payloads], random);
    const sender = createWebhookSender(api.url, SENDERS);
    started = performance.now();
    let answers: DeliveryAnswer[];
    try {
      answers = await fromSenders(deliveries, SENDERS, (payload) => sender.deliver(payload, secret));
    } finally {
      sender.close();
    }
    const sendMs = since(started);
    figure(
      'D4',
      `${deliveries.length} deliveries in ${sendMs} ms (${Math.round((deliveries.length * 1000) / sendMs)}/s): ` +
        tally(answers.map((a) => (a.status === null ? `network (${a.error ?? ''})` : String(a.status)))),
    );
    const sentAt = performance.now();
    const drained = await waitForInbox(pay, isDrained, 'D4', 600_000);
    figure(
      'D4',
      `inbox drained ${since(sentAt)} ms after the last delivery (${since(started)} ms after the first): ` +
        JSON.stringify(drained.counts),
    );

    // 0 non-2xx for valid deliveries.
    const refused = answers.filter((a) => a.status === null || a.status < 200 || a.status >= 300);
    expect(refused.slice(0, 5)).toEqual([]);

    // Stored once, applied once: one row per Stripe event, each processed or ignored, none dead.
    const inbox = await readInbox(battery.database.url);
    const ids = new Set(events.map((e) => e.id));
    expect({ rows: inbox.length, distinct: new Set(inbox.map((r) => r.stripeEventId)).size }).toEqual({
      rows: ids.size,
      distinct: ids.size,
    });
    expect(inbox.filter((r) => !ids.has(r.stripeEventId))).toEqual([]);
    expect(inbox.filter((r) => r.status !== 'processed' && r.status !== 'ignored').slice(0, 5)).toEqual([]);
    // Types pay has no handler for are acknowledged, recorded and ignored.
    const unhandled = new Set(['customer.created', 'payment_method.attached']);
    expect(inbox.filter((r) => unhandled.has(r.type) && r.status !== 'ignored').slice(0, 5)).toEqual([]);
    figure(
      'D4',
      `inbox: ${tally(inbox.map((r) => r.status))}; attempts: ${tally(inbox.map((r) => String(r.attempts)))}`,
    );
    for (const status of ['processed', 'ignored']) {
      figure('D4', `${status}: ${tally(inbox.filter((r) => r.status === status).map((r) => r.type))}`);
    }

    // Every payment where Stripe's events, applied in creation order, leave it.
    const state = await readPayState(battery.database.url);
    const paymentsByIntent = new Map(state.payments.map((p) => [p.stripe_payment_intent_id, p]));
    const model = modelFromEvents(events, (intent) => paymentsByIntent.get(intent)?.amount);
    const differ = made
      .map((m: MadePayment) => {
        const row = state.payments.find((p) => p.id === m.paymentId);
        const expected = model.get(m.intentId);
        return {
          payment: m.paymentId,
          kind: m.kind,
          pay: `${row?.status ?? 'missing'} ${row?.amount_refunded ?? '?'}`,
          events: `${expected?.status ?? 'none'} ${expected?.amountRefunded ?? '?'}`,
        };
      })
      .filter((d) => d.pay !== d.events);
    expect(differ.slice(0, 10)).toEqual([]);
    figure(
      'D4',
      `final statuses: ${tally(state.payments.map((p) => p.status))}; refunds: ${state.refunds.length}`,
    );

    // The webhooks did it: every move after the API answered (out of requires_action or processing,
    // or a refund) and every refund row names one of the stored Stripe events as its cause.
    const moves = await readCausedMoves(battery.database.url);
    const late = moves.filter(
      (mv) => mv.table === 'refund_events' || (mv.fromStatus !== null && mv.fromStatus !== 'pending'),
    );
    const uncaused = late.filter((mv) => mv.causeStripeEventId === null || !ids.has(mv.causeStripeEventId));
    expect(uncaused.slice(0, 5)).toEqual([]);
    figure(
      'D4',
      `${late.length} moves caused by webhook events: ` +
        tally(late.map((mv) => `${mv.table} ${mv.fromStatus ?? 'null'}→${mv.toStatus}`)),
    );
    expect(await illegalPaymentMoves(battery)).toEqual([]);

    const report = await checkInvariants(battery.ctx);
    figure('D4', formatReport(report));
    expect(report.violations.slice(0, 10)).toEqual([]);
  });
});
