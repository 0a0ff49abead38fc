import { WEBHOOK_CRASH_POINTS } from '@pay/core';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { withGuard } from './support/crash.js';
import { modelFromEvents } from './support/event-model.js';
import { figure, since, tally } from './support/figures.js';
import { readInbox, type InboxRow } from './support/inbox-rows.js';
import { moveShape, readLedgerMoves, repeatedEffects } from './support/ledger-moves.js';
import {
  makePayments,
  refundInDashboard,
  type DashboardRefunds,
  type MadePayment,
  type PaymentKind,
} from './support/payment-mix.js';
import { runCli, type ApiProcess, type CliRun, type Exit } from './support/processes.js';
import {
  createWebhookSender,
  illegalPaymentMoves,
  intentOfEvent,
  listSandboxEvents,
  newWebhookSecret,
  payloadOf,
  type DeliveryAnswer,
  type StripeEventJson,
} from './support/webhooks.js';

/*
 * RELIABILITY.md C1 for webhook processing: the real process is SIGKILLed at each of the inbox's named
 * crash points (WEBHOOK_CRASH_POINTS, armed with PAY_FAULTS):
 * - `webhook.after_insert_before_ack`: the API stores a delivery and dies before answering it. Stripe
 *   saw no 2xx, so it delivers again.
 * - `webhook.in_worker_after_apply_before_mark`: a worker (a `pay worker --once`, then the API's own
 *   in-process worker) has applied the event's handler and dies before marking it, inside the one
 *   transaction: PostgreSQL rolls the handler's writes back with the claim, and the event is due again.
 * Each point gets its own payments (3-D Secure completed or failed at Stripe, `processing` settled either
 * way, a card payment refunded in Stripe's dashboard), whose news reaches pay only through Stripe's
 * events. After the crashes: the API restarts without faults, one `pay recover` pass runs, Stripe
 * delivers what it has to (again, for the deliveries that got no answer), one `pay worker --once`
 * applies the inbox; then every event is stored once and applied once, no ledger row is doubled, each
 * payment ends where Stripe's events say (and where the sandbox is), and K1–K5 hold. K1–K5 are checked
 * after the worker, not right after `pay recover`: until a stored event is applied pay rightly lags
 * Stripe (K2), and applying the inbox is the webhook flow's recovery.
 */

/** Each point's recovery wall time, for the matrix's figure (RELIABILITY.md C1: < 60 s in all). */
const recoveryMs: { point: string; ms: number }[] = [];

const [AFTER_INSERT_BEFORE_ACK, IN_WORKER_AFTER_APPLY_BEFORE_MARK] = WEBHOOK_CRASH_POINTS;

/** Each point's payments, and the event that brings pay the news it lacks about each. */
const GROUP: readonly { kind: PaymentKind; refund: DashboardRefunds; news: string }[] = [
  { kind: '3ds_succeeded', refund: 'none', news: 'payment_intent.succeeded' },
  { kind: '3ds_failed', refund: 'none', news: 'payment_intent.payment_failed' },
  { kind: 'processing_succeeded', refund: 'none', news: 'payment_intent.succeeded' },
  { kind: 'processing_failed', refund: 'none', news: 'payment_intent.payment_failed' },
  { kind: 'succeeded', refund: 'partial', news: 'charge.refunded' },
];

/** One point's payments, their Stripe events (oldest first) and, per payment, the event with its news. */
interface Group {
  readonly made: readonly MadePayment[];
  readonly events: readonly StripeEventJson[];
  readonly news: readonly StripeEventJson[];
}

function crashedThere(exit: Exit, output: string, point: string): boolean {
  return exit.signal === 'SIGKILL' && output.includes(`crash point ${point} reached`);
}

function describeDelivery(answer: DeliveryAnswer): string {
  return answer.status === null ? `no answer (${answer.error ?? 'closed'})` : String(answer.status);
}

describe('crashes in the webhook flow', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  const secret = newWebhookSecret();
  const withSecret = (extra: Record<string, string> = {}) => ({ STRIPE_WEBHOOK_SECRETS: secret, ...extra });

  beforeAll(async () => {
    // A charge's `charge.updated` comes with it rather than a second later: every event of a group
    // exists when the group's events are listed.
    battery = await openBattery('battery_c1_webhooks', { asyncCaptureDelaySeconds: 0 });
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    if (recoveryMs.length > 0) {
      figure(
        'C1 webhooks',
        `recovery of the whole matrix: ${recoveryMs.reduce((sum, r) => sum + r.ms, 0)} ms of wall time ` +
          `(${recoveryMs.map((r) => `${r.point} ${r.ms} ms`).join(', ')}; RELIABILITY.md C1: < 60 s)`,
      );
    }
    await battery?.close();
  });

  /** Makes the group's payments through an unarmed API, then moves them on at Stripe without pay. */
  async function makeGroup(label: string): Promise<Group> {
    const started = performance.now();
    const maker = await battery.startApi(withSecret());
    let made: MadePayment[];
    try {
      made = await makePayments(
        battery,
        maker,
        GROUP.map((g) => g.kind),
        GROUP.length,
      );
      for (const [i, payment] of made.entries()) {
        await refundInDashboard(battery, payment, GROUP[i]?.refund ?? 'none');
      }
    } finally {
      await maker.stop();
    }
    const intents = new Set(made.map((m) => m.intentId));
    const events = (await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).filter((e) =>
      intents.has(intentOfEvent(e) ?? ''),
    );
    const news = made.map((m, i) => {
      const wanted = GROUP[i]?.news;
      const found = events.filter((e) => intentOfEvent(e) === m.intentId && e.type === wanted);
      if (found.length !== 1 || found[0] === undefined) {
        throw new Error(`${m.kind} ${m.paymentId}: expected one ${wanted} event, got ${found.length}`);
      }
      return found[0];
    });
    figure(
      label,
      `${made.length} payments (${made.map((m) => `${m.kind}: ${m.answered}`).join(', ')}) and ` +
        `${events.length} events (${tally(events.map((e) => e.type))}) in ${since(started)} ms`,
    );
    return { made, events, news };
  }

  /** pay's status of each of the group's payments. */
  async function statusesOf(group: Group): Promise<string[]> {
    const state = await readPayState(battery.database.url);
    return group.made.map((m) => state.payments.find((p) => p.id === m.paymentId)?.status ?? 'missing');
  }

  /** The rows the news events wrote in any ledger: none while their application was lost. */
  async function movesCausedBy(events: readonly StripeEventJson[]): Promise<string[]> {
    const ids = new Set(events.map((e) => e.id));
    return (await readLedgerMoves(battery.database.url))
      .filter((m) => m.causeStripeEventId !== null && ids.has(m.causeStripeEventId))
      .map((m) => `${m.table} ${m.objectId} ${moveShape(m)} by ${m.causeStripeEventId ?? ''}`);
  }

  /** Delivers every event of the group, signed now, as Stripe does; all must be acknowledged. */
  async function deliverAll(running: ApiProcess, events: readonly StripeEventJson[]): Promise<string[]> {
    const sender = createWebhookSender(running.url, 4);
    try {
      const answers: string[] = [];
      for (const event of events) {
        answers.push(describeDelivery(await sender.deliver(payloadOf(event), secret)));
      }
      return answers;
    } finally {
      sender.close();
    }
  }

  /** One `pay worker --once` (unarmed): applies the inbox; hang-guarded by runCli. */
  async function workerOnce(label: string): Promise<CliRun> {
    const run = await runCli(['worker', '--once', '--json'], battery.env(withSecret()));
    figure(label, `pay worker --once: exit ${JSON.stringify(run.exit)} ${run.stdout.trim()}`);
    expect(run.exit).toEqual({ code: 0, signal: null });
    const pass = JSON.parse(run.stdout) as { webhooks: { failed: number; dead: number } };
    expect(pass.webhooks).toMatchObject({ failed: 0, dead: 0 });
    return run;
  }

  /**
   * What every point must end in: each of the group's events stored once and applied once (processed or
   * ignored, after one attempt), each news event applied by itself (its rows name it) and no cause
   * moving an object twice, each payment where Stripe's events leave it, no backward move, K1–K5.
   */
  async function expectAppliedOnce(label: string, group: Group): Promise<void> {
    const ids = new Set(group.events.map((e) => e.id));
    const inbox = await readInbox(battery.database.url);
    const mine = inbox.filter((r) => ids.has(r.stripeEventId));
    figure(
      label,
      `inbox rows of the group: ${tally(mine.map((r: InboxRow) => `${r.status} after ${r.attempts}`))}`,
    );
    expect({
      rows: inbox.length,
      distinct: new Set(inbox.map((r) => r.stripeEventId)).size,
      group: mine.length,
    }).toEqual({ rows: inbox.length, distinct: inbox.length, group: ids.size });
    expect(
      mine
        .filter((r) => !(r.status === 'processed' || r.status === 'ignored') || r.attempts !== 1)
        .map((r) => `${r.stripeEventId} ${r.type}: ${r.status} after ${r.attempts}`),
    ).toEqual([]);

    const moves = await readLedgerMoves(battery.database.url);
    const objects = new Set(group.made.map((m) => m.paymentId));
    const byEvent = moves.filter((m) => m.causeStripeEventId !== null && ids.has(m.causeStripeEventId));
    figure(
      label,
      `${byEvent.length} ledger rows written by the group's ${ids.size} events (from ` +
        `${new Set(byEvent.map((m) => m.causeStripeEventId)).size} distinct events): ` +
        tally(byEvent.map((m) => `${m.table} ${moveShape(m)}`)),
    );
    expect(repeatedEffects(moves)).toEqual([]);
    // The news of each payment was applied by its own event, once: one row on its payment names it.
    expect(
      group.news.map((e, i) => ({
        payment: group.made[i]?.kind,
        event: e.type,
        rows: byEvent.filter(
          (m) => m.causeStripeEventId === e.id && m.table === 'payment_events' && objects.has(m.objectId),
        ).length,
      })),
    ).toEqual(group.news.map((e, i) => ({ payment: group.made[i]?.kind, event: e.type, rows: 1 })));

    const state = await readPayState(battery.database.url);
    const byIntent = new Map(state.payments.map((p) => [p.stripe_payment_intent_id, p]));
    const model = modelFromEvents(group.events, (intent) => byIntent.get(intent)?.amount);
    expect(
      group.made.map((m) => {
        const row = byIntent.get(m.intentId);
        return `${m.kind}: ${row?.status ?? 'missing'} ${row?.amount_refunded ?? '?'}`;
      }),
    ).toEqual(
      group.made.map((m) => {
        const expected = model.get(m.intentId);
        return `${m.kind}: ${expected?.status ?? 'none'} ${expected?.amountRefunded ?? '?'}`;
      }),
    );
    expect(await illegalPaymentMoves(battery)).toEqual([]);
    const report = await checkInvariants(battery.ctx);
    figure(label, formatReport(report));
    expect(report.violations).toEqual([]);
  }

  it(`C1 ${AFTER_INSERT_BEFORE_ACK}: the API dies after storing each delivery, before the 2xx; Stripe's redelivery is a no-op and each event is applied once`, async () => {
    const label = `C1 ${AFTER_INSERT_BEFORE_ACK}`;
    const started = performance.now();
    const group = await makeGroup(label);
    const answered = await statusesOf(group);

    // One armed API per news event: each stores the delivery and dies before answering it.
    for (const event of group.news) {
      const armed = await battery.startApi(withSecret({ PAY_FAULTS: AFTER_INSERT_BEFORE_ACK }));
      const sender = createWebhookSender(armed.url, 1);
      let answer: DeliveryAnswer;
      try {
        answer = await sender.deliver(payloadOf(event), secret);
      } finally {
        sender.close();
      }
      const exit = await withGuard(armed.exited, `${label}: the armed API`);
      if (!crashedThere(exit, armed.output(), AFTER_INSERT_BEFORE_ACK)) {
        throw new Error(
          `${event.type}: the API did not die there (${JSON.stringify(exit)}):\n${armed.output()}`,
        );
      }
      const row = (await readInbox(battery.database.url)).find((r) => r.stripeEventId === event.id);
      figure(
        label,
        `${event.type} ${event.id}: delivery got ${describeDelivery(answer)}; stored ${row?.status ?? 'no'} after ${row?.attempts ?? '-'} attempts`,
      );
      // Stored before the answer, and no answer: Stripe will deliver it again.
      expect({ answer: answer.status, stored: row?.status, attempts: row?.attempts }).toEqual({
        answer: null,
        stored: 'pending',
        attempts: 0,
      });
    }
    figure(label, `killed ${group.news.length} API processes in ${since(started)} ms`);
    // Nothing was applied: the payments are as the API answered them.
    expect(await statusesOf(group)).toEqual(answered);
    expect(await movesCausedBy(group.news)).toEqual([]);

    const recoveryStarted = performance.now();
    api = await battery.startApi(withSecret());
    const { report } = await battery.recover();
    figure(label, `one pay recover pass: ${JSON.stringify(report)}`);
    expect(report.failures).toEqual([]);
    // Stripe delivers again what got no answer, and the rest of the group's events for the first time.
    const redelivered = await deliverAll(api, group.news);
    const delivered = await deliverAll(api, group.events);
    figure(label, `redeliveries: ${tally(redelivered)}; the group's deliveries: ${tally(delivered)}`);
    expect([...redelivered, ...delivered].filter((a) => a !== '200')).toEqual([]);
    await workerOnce(label);
    recoveryMs.push({ point: AFTER_INSERT_BEFORE_ACK, ms: since(recoveryStarted) });
    figure(
      label,
      `recovery (restart, pay recover, redeliveries, pay worker --once): ${since(recoveryStarted)} ms`,
    );

    await expectAppliedOnce(label, group);
    figure(label, `whole point (make, kill, recover, check): ${since(started)} ms`);
  });

  it(`C1 ${IN_WORKER_AFTER_APPLY_BEFORE_MARK}: a worker dies after applying an event, before marking it; the rollback loses the effect and the event is applied once later`, async () => {
    const label = `C1 ${IN_WORKER_AFTER_APPLY_BEFORE_MARK}`;
    const started = performance.now();
    const group = await makeGroup(label);
    const answered = await statusesOf(group);
    const [first, ...rest] = group.news;
    if (first === undefined) {
      throw new Error('no news event');
    }
    // Catch-up off in the armed processes: the event each dies on is the oldest stored one, known here.
    const armedEnv = withSecret({
      PAY_FAULTS: IN_WORKER_AFTER_APPLY_BEFORE_MARK,
      PAY_WEBHOOK_CATCH_UP: 'false',
    });

    // 1. The API's own worker (PAY_WORKER=true) applies the first news event it acknowledged, and dies.
    const armedApi = await battery.startApi({ ...armedEnv, PAY_WORKER: 'true' });
    const sender = createWebhookSender(armedApi.url, 1);
    let answer: DeliveryAnswer;
    try {
      answer = await sender.deliver(payloadOf(first), secret);
    } finally {
      sender.close();
    }
    const apiExit = await withGuard(armedApi.exited, `${label}: the armed API`);
    figure(
      label,
      `the API's worker, on ${first.type} ${first.id}: delivery got ${describeDelivery(answer)}, the API ended ${JSON.stringify(apiExit)}`,
    );
    expect(crashedThere(apiExit, armedApi.output(), IN_WORKER_AFTER_APPLY_BEFORE_MARK)).toBe(true);
    // The ack is sent as soon as the event is stored; the worker's death may come before it leaves.
    expect([200, null]).toContain(answer.status);

    // 2. The other news events are delivered and stored; a `pay worker --once` takes the oldest due
    // event — the first one again, its claim rolled back with the handler's writes — and dies too.
    api = await battery.startApi(withSecret());
    const stored = await deliverAll(api, rest);
    expect(stored.filter((a) => a !== '200')).toEqual([]);
    const killed = await runCli(['worker', '--once', '--json'], battery.env(armedEnv));
    figure(label, `pay worker --once ended ${JSON.stringify(killed.exit)}`);
    expect(crashedThere(killed.exit, killed.stderr, IN_WORKER_AFTER_APPLY_BEFORE_MARK)).toBe(true);
    await api.stop();
    api = undefined;
    figure(label, `killed 2 processes in ${since(started)} ms`);

    // Rolled back: every news event still pending, never counted as attempted, none of their writes kept.
    const inbox = await readInbox(battery.database.url);
    expect(
      group.news.map((e) => {
        const row = inbox.find((r) => r.stripeEventId === e.id);
        return `${e.type} ${row?.status ?? 'missing'} ${row?.attempts ?? '-'} ${row?.processedAt === null ? 'unprocessed' : 'processed'}`;
      }),
    ).toEqual(group.news.map((e) => `${e.type} pending 0 unprocessed`));
    expect(await statusesOf(group)).toEqual(answered);
    expect(await movesCausedBy(group.news)).toEqual([]);

    const recoveryStarted = performance.now();
    api = await battery.startApi(withSecret());
    const { report } = await battery.recover();
    figure(label, `one pay recover pass: ${JSON.stringify(report)}`);
    expect(report.failures).toEqual([]);
    // Stripe delivers the group's events (the news events again: it may deliver any event twice).
    const delivered = await deliverAll(api, group.events);
    figure(label, `the group's deliveries: ${tally(delivered)}`);
    expect(delivered.filter((a) => a !== '200')).toEqual([]);
    await workerOnce(label);
    recoveryMs.push({ point: IN_WORKER_AFTER_APPLY_BEFORE_MARK, ms: since(recoveryStarted) });
    figure(
      label,
      `recovery (restart, pay recover, deliveries, pay worker --once): ${since(recoveryStarted)} ms`,
    );

    await expectAppliedOnce(label, group);
    figure(label, `whole point (make, kill, recover, check): ${since(started)} ms`);
  });
});
