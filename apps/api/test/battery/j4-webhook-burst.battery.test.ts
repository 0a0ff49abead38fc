import { checkInvariants, formatReport } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import { openBattery, type Battery } from './support/battery.js';
import { figure, NIGHTLY, since, tally } from './support/figures.js';
import { readCausedMoves, readInbox } from './support/inbox-rows.js';
import { makePayments, type MadePayment, type PaymentKind } from './support/payment-mix.js';
import type { ApiProcess } from './support/processes.js';
import { openLoop, percentile, type OpenLoopReport } from './support/soak.js';
import {
  createWebhookSender,
  illegalPaymentMoves,
  isDrained,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  startWorker,
  type DeliveryAnswer,
  type WorkerProcess,
} from './support/webhooks.js';

/*
 * RELIABILITY.md J4, the webhook burst (the "beginning of the month" spike): 1,000 signed events, each
 * one of the sandbox's real events, delivered once in 10 s — evenly paced at 100 a second, each sent
 * on the clock without waiting for earlier answers — to the real API process with no worker in it,
 * while two `pay worker` processes apply them. Asserted: every delivery is acknowledged 2xx; every
 * event is stored once and applied once (processed, or ignored for types pay does not handle), the
 * moves after the API answered name a delivered event as their cause, and all of it within 60 s of
 * the last delivery (RELIABILITY's bound, polled, never a benchmark); K1–K5 hold with no recovery run
 * (the workers' one recovery pass comes before the first payment, and their catch-up is off), so the
 * delivered events alone brought pay in line with Stripe. Printed: ack p50/p99/max, and the drain (first to last applied; last delivery to
 * last applied).
 *
 * The events: a first batch of mixed payments (succeeded, declined, 3-D Secure completed or failed,
 * processing then settled) whose every event is delivered, then plain card payments until the sandbox
 * holds enough events; the 1,000 delivered are the oldest in creation order, so any payment whose
 * later events are left out is one pay already knew had succeeded.
 */

const EVENTS = Number(process.env.J4_EVENTS ?? 1_000);
const PER_SECOND = Number(process.env.J4_PER_SECOND ?? 100);
const WORKERS = 2;
/** RELIABILITY.md J4: "all applied exactly once within 60 s". */
const APPLIED_WITHIN_MS = 60_000;
const MIXED: readonly PaymentKind[] = [
  ...Array<PaymentKind>(20).fill('succeeded'),
  ...Array<PaymentKind>(6).fill('declined'),
  ...Array<PaymentKind>(6).fill('3ds_succeeded'),
  ...Array<PaymentKind>(2).fill('3ds_failed'),
  ...Array<PaymentKind>(4).fill('processing_succeeded'),
  ...Array<PaymentKind>(2).fill('processing_failed'),
];
const PLAIN_BATCH = 40;

/** Acknowledged: a 2xx. */
function acked(answer: DeliveryAnswer): boolean {
  return answer.status !== null && answer.status >= 200 && answer.status < 300;
}

describe('J4: 1,000 signed events in 10 s, two workers (RELIABILITY.md J4)', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let pay: Pay | undefined;
  const workers: WorkerProcess[] = [];
  const secret = newWebhookSecret();

  beforeAll(async () => {
    battery = await openBattery('battery_j4');
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await pay?.close();
    await api?.stop();
    await battery?.close();
  });

  it('acknowledges every delivery 2xx and applies each event exactly once within 60 s of the last', async () => {
    figure(
      'J4',
      `${EVENTS} events at ${PER_SECOND}/s${NIGHTLY ? ' (NIGHTLY: same size)' : ''}, ${WORKERS} pay worker processes`,
    );
    const env = { STRIPE_WEBHOOK_SECRETS: secret };
    api = await battery.startApi(env);
    pay = await openPay(battery, env);
    // Before any payment: their one recovery pass at start finds nothing (see NO_RECOVERY). Without
    // the catch-up, which would otherwise list and store events that pass found at Stripe while the
    // payments below were being made: every event must reach pay through the burst.
    for (let i = 0; i < WORKERS; i++) {
      workers.push(startWorker(battery.env({ ...env, PAY_WEBHOOK_CATCH_UP: 'false' })));
    }

    // Stripe's events: every one of the mixed payments', then plain payments' until there are enough.
    let started = performance.now();
    const made: MadePayment[] = await makePayments(battery, api, MIXED, 16);
    let events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
    while (events.length < EVENTS) {
      made.push(...(await makePayments(battery, api, Array<PaymentKind>(PLAIN_BATCH).fill('succeeded'), 16)));
      events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
    }
    const delivered = events.slice(0, EVENTS);
    figure(
      'J4',
      `${made.length} payments in ${since(started)} ms (${tally(made.map((m) => m.kind))}); ${events.length} events ` +
        `in the sandbox, delivering the oldest ${delivered.length}: ${tally(delivered.map((e) => e.type))}`,
    );

    // The burst: one delivery every 1/PER_SECOND s, each signed as it leaves, none waiting for another.
    const payloads = delivered.map(payloadOf);
    const sender = createWebhookSender(api.url, 256);
    const acks: number[] = new Array<number>(payloads.length).fill(Number.NaN);
    const answers: (DeliveryAnswer | undefined)[] = new Array<DeliveryAnswer | undefined>(payloads.length);
    const failures: string[] = [];
    started = performance.now();
    const burstStart = new Date();
    let burst: OpenLoopReport;
    try {
      burst = await openLoop(
        { perSecond: PER_SECOND, count: payloads.length },
        async (i) => {
          const t = performance.now();
          const answer = await sender.deliver(payloads[i] as string, secret);
          acks[i] = performance.now() - t;
          answers[i] = answer;
        },
        (i, error) => failures.push(`delivery ${i}: ${String(error)}`),
      );
    } finally {
      sender.close();
    }
    const lastDelivery = new Date();
    const burstMs = since(started);
    const ackMs = acks.filter((a) => Number.isFinite(a));
    figure(
      'J4',
      `${payloads.length} deliveries sent over ${Math.round(burst.elapsedMs)} ms (pacer late at most ` +
        `${Math.round(burst.maxLateMs)} ms), last answer at ${burstMs} ms: ` +
        tally(
          answers.map((a) =>
            a === undefined ? 'none' : a.status === null ? `network (${a.error ?? ''})` : String(a.status),
          ),
        ),
    );
    figure(
      'J4',
      `ack p50 ${percentile(ackMs, 50).toFixed(1)} ms, p99 ${percentile(ackMs, 99).toFixed(1)} ms ` +
        `(target < 100 ms, printed not asserted), max ${Math.max(...ackMs).toFixed(1)} ms`,
    );

    // Applied within 60 s of the last delivery: a correctness bound, polled.
    const deadline = lastDelivery.getTime() + APPLIED_WITHIN_MS;
    let status = await pay.services.webhooks.status();
    while (!isDrained(status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await pay.services.webhooks.status();
    }
    if (!isDrained(status)) {
      throw new Error(
        `J4: the events were not all applied within ${APPLIED_WITHIN_MS / 1000} s of the last delivery ` +
          `(RELIABILITY.md J4); the inbox still holds ${JSON.stringify(status.counts)}`,
      );
    }

    const inbox = await readInbox(battery.database.url);
    const applied = inbox.flatMap((r) => (r.processedAt === null ? [] : [r.processedAt.getTime()]));
    const firstApplied = Math.min(...applied);
    const lastApplied = Math.max(...applied);
    const drain = {
      firstToLastAppliedMs: lastApplied - firstApplied,
      lastDeliveryToLastAppliedMs: lastApplied - lastDelivery.getTime(),
    };
    figure(
      'J4',
      `drain: first to last applied ${drain.firstToLastAppliedMs} ms; last delivery to last applied ` +
        `${drain.lastDeliveryToLastAppliedMs} ms; inbox ${tally(inbox.map((r) => r.status))}; ` +
        `attempts ${tally(inbox.map((r) => String(r.attempts)))}`,
    );
    console.log(
      `[J4] JSON ${JSON.stringify({
        test: 'J4',
        events: delivered.length,
        perSecond: PER_SECOND,
        workers: WORKERS,
        sendMs: Math.round(burst.elapsedMs),
        ackP50Ms: Math.round(percentile(ackMs, 50) * 10) / 10,
        ackP99Ms: Math.round(percentile(ackMs, 99) * 10) / 10,
        ackMaxMs: Math.round(Math.max(...ackMs) * 10) / 10,
        ...drain,
      })}`,
    );

    // Every delivery acknowledged.
    const refused = answers.flatMap((a, i) =>
      a !== undefined && acked(a)
        ? []
        : [`${delivered[i]?.id ?? i}: ${a === undefined ? 'no answer' : `${a.status ?? a.error}`}`],
    );
    expect({ failures, refused: refused.slice(0, 5) }).toEqual({ failures: [], refused: [] });

    // Stored once, applied once: one row per delivered event, each processed or ignored, none dead.
    const ids = new Set(delivered.map((e) => e.id));
    expect({ rows: inbox.length, distinct: new Set(inbox.map((r) => r.stripeEventId)).size }).toEqual({
      rows: ids.size,
      distinct: ids.size,
    });
    expect(inbox.filter((r) => !ids.has(r.stripeEventId))).toEqual([]);
    expect(inbox.filter((r) => r.status !== 'processed' && r.status !== 'ignored').slice(0, 5)).toEqual([]);
    expect(inbox.filter((r) => r.processedAt === null).slice(0, 5)).toEqual([]);
    // …and every one stored by a delivery of the burst, none before it.
    expect(inbox.filter((r) => r.receivedAt < burstStart).slice(0, 5)).toEqual([]);

    // What happened after the API answered (3-D Secure completed, processing settled) was told by a
    // delivered event, named as the cause, and no payment moved backwards.
    const moves = await readCausedMoves(battery.database.url);
    const late = moves.filter((mv) => mv.fromStatus !== null && mv.fromStatus !== 'pending');
    expect(
      late.filter((mv) => mv.causeStripeEventId === null || !ids.has(mv.causeStripeEventId)).slice(0, 5),
    ).toEqual([]);
    figure(
      'J4',
      `${late.length} moves caused by the events: ${tally(late.map((mv) => `${mv.fromStatus ?? 'null'}→${mv.toStatus}`))}`,
    );
    expect(await illegalPaymentMoves(battery)).toEqual([]);

    // K1–K5 with no recovery run: the events alone brought pay in line with Stripe.
    const report = await checkInvariants(battery.ctx);
    figure('J4', formatReport(report));
    expect(report.violations.slice(0, 10)).toEqual([]);
  });
});
