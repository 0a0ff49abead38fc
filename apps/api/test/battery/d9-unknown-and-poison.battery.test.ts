import { randomBytes } from 'node:crypto';
import { newId } from '@pay/core';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import { openBattery, type Battery } from './support/battery.js';
import { figure } from './support/figures.js';
import { readCausedMoves, readInboxRow, type InboxRow } from './support/inbox-rows.js';
import { makePayments } from './support/payment-mix.js';
import { runCli, type ApiProcess } from './support/processes.js';
import {
  createWebhookSender,
  intentOfEvent,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  startWorker,
  type StripeEventJson,
  type WebhookSender,
  type WorkerProcess,
} from './support/webhooks.js';

/*
 * RELIABILITY.md D9. An event of a type pay does not handle is acknowledged (2xx), recorded as ignored,
 * logged once however often it comes. A poison event — validly signed, about a payment that will never
 * exist, so its handler fails on every attempt — is retried with exponential backoff, ends `dead` after
 * PAY_WEBHOOK_MAX_ATTEMPTS, shows in `pay webhook-status --dead`, is re-queued by `pay webhooks replay`,
 * and never holds up the events behind it. No test hook in pay: the poison is an ordinary event whose
 * payment pay cannot find, which pay must retry (it may arrive before the payment is recorded) rather
 * than drop. One `pay worker` applies the events; its log is read at info level.
 */

const MAX_ATTEMPTS = 4;
/** WebhookService's default backoff base: the first retry waits this long, and no retry less. */
const BASE_MS = 1_000;
const HANG_GUARD_MS = 120_000;

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    const value = await read();
    if (done(value)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${HANG_GUARD_MS} ms; last seen ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function freshEventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

describe('D9: unknown event types and a poison event', () => {
  let battery: Battery;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let pay: Pay;
  let sender: WebhookSender;
  let env: Record<string, string>;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    battery = await openBattery('battery_d9');
    env = battery.env({ STRIPE_WEBHOOK_SECRETS: secret, PAY_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
    api = await battery.startApi(env);
    worker = startWorker({ ...env, PAY_LOG_LEVEL: 'info' });
    pay = await openPay(battery, { STRIPE_WEBHOOK_SECRETS: secret });
    sender = createWebhookSender(api.url, 8);
  });

  afterAll(async () => {
    sender?.close();
    await worker?.stop();
    await pay?.close();
    await api?.stop();
    await battery?.close();
  });

  afterEach(async () => {
    const report = await checkInvariants(battery.ctx);
    figure('D9', formatReport(report));
    expect(report.violations).toEqual([]);
  });

  const rowOf = (id: string) => () => readInboxRow(battery.database.url, id);

  it('acknowledges an unknown event type, records it as ignored and logs it once', async () => {
    const unknown: StripeEventJson = {
      id: freshEventId(),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `ich_${randomBytes(8).toString('hex')}`, object: 'issuing.cardholder' } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'issuing_cardholder.created',
    };
    const payload = payloadOf(unknown);
    const first = await sender.deliver(payload, secret);
    const row = await until(
      'the unknown event is handled',
      rowOf(unknown.id),
      (r) => r?.status === 'ignored',
    );
    const again = await sender.deliver(payload, secret);
    expect([first.status, again.status]).toEqual([200, 200]);
    // Let the worker see the redelivery if it were stored again; it must not be.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await readInboxRow(battery.database.url, unknown.id);
    expect({ status: after?.status, attempts: after?.attempts }).toEqual({ status: 'ignored', attempts: 1 });
    expect(row?.type).toBe('issuing_cardholder.created');

    const logged = worker
      .output()
      .split('\n')
      .filter((line) => line.includes(unknown.id));
    figure('D9 unknown', `worker log lines naming it: ${logged.join(' | ')}`);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('ignored');
    const moves = await readCausedMoves(battery.database.url);
    expect(moves.filter((mv) => mv.causeStripeEventId === unknown.id)).toEqual([]);
  });

  it('retries a poison event with backoff until dead, without holding up the events behind it; replay re-queues it', async () => {
    // Three 3-D Secure payments pay leaves in requires_action; Stripe then completes them.
    const made = await makePayments(battery, api, ['3ds_succeeded', '3ds_succeeded', '3ds_succeeded'], 3);
    const intents = new Set(made.map((m) => m.intentId));
    const events = (await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).filter((e) => {
      const intent = intentOfEvent(e);
      return intent !== null && intents.has(intent);
    });
    const behind = events.filter(
      (e) => e.type === 'payment_intent.succeeded' || e.type === 'charge.succeeded',
    );
    const template = behind.find((e) => e.type === 'payment_intent.succeeded');
    if (template === undefined || behind.length !== 6) {
      throw new Error(
        `expected 3 succeeded intents with their charges, got ${behind.map((e) => e.type).join(', ')}`,
      );
    }

    // The poison: a succeeded intent whose metadata names a payment pay will never have.
    const intent = template.data.object;
    const metadata = (intent.metadata ?? {}) as Record<string, string>;
    const poison: StripeEventJson = {
      ...template,
      id: freshEventId(),
      data: {
        object: {
          ...intent,
          id: `pi_poison${randomBytes(8).toString('hex')}`,
          metadata: { ...metadata, pay_payment_id: newId('payment') },
        },
      },
    };
    expect((await sender.deliver(payloadOf(poison), secret)).status).toBe(200);
    const firstFailure = await until(
      'the poison fails once',
      rowOf(poison.id),
      (r) => r?.status === 'failed',
    );
    figure('D9 poison', `attempt 1 failed: ${firstFailure?.lastError ?? ''}`);

    // The events behind it are applied while it waits for its retry.
    for (const event of behind) {
      expect((await sender.deliver(payloadOf(event), secret)).status).toBe(200);
    }
    await until(
      'the events behind the poison are applied',
      async () => Promise.all(behind.map((e) => readInboxRow(battery.database.url, e.id))),
      (rows) => rows.every((r) => r?.status === 'processed' || r?.status === 'ignored'),
    );
    const meanwhile = await readInboxRow(battery.database.url, poison.id);
    figure(
      'D9 poison',
      `when the 6 events behind it were applied, it was ${meanwhile?.status} after ${meanwhile?.attempts} attempt(s)`,
    );
    expect(meanwhile?.status).toBe('failed');
    expect(meanwhile?.attempts).toBeLessThan(MAX_ATTEMPTS);
    const state = await readPayState(battery.database.url);
    expect(made.map((m) => state.payments.find((p) => p.id === m.paymentId)?.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);

    // Each failure pushes the next attempt further: min(base·2^(n−1), cap), 50–100 %, never below base.
    const seen = new Map<number, InboxRow>();
    for (const row of [firstFailure, meanwhile]) {
      if (row !== null && !seen.has(row.attempts)) {
        seen.set(row.attempts, row);
      }
    }
    const dead = await until(
      'the poison is dead',
      async () => {
        const row = await readInboxRow(battery.database.url, poison.id);
        if (row !== null && !seen.has(row.attempts)) {
          seen.set(row.attempts, row);
        }
        return row;
      },
      (r) => r?.status === 'dead',
    );
    expect({ status: dead?.status, attempts: dead?.attempts }).toEqual({
      status: 'dead',
      attempts: MAX_ATTEMPTS,
    });
    const schedule = [...seen.entries()]
      .filter(([n]) => n >= 1 && n < MAX_ATTEMPTS)
      .sort(([a], [b]) => a - b);
    expect(schedule.map(([n]) => n)).toEqual([1, 2, 3]);
    let previous = firstFailure?.receivedAt ?? new Date(0);
    const waits: number[] = [];
    for (const [n, row] of schedule) {
      const wait = row.nextAttemptAt.getTime() - previous.getTime();
      waits.push(wait);
      expect({ attempt: n, atLeast: wait >= Math.max(BASE_MS, (BASE_MS * 2 ** (n - 1)) / 2) }).toEqual({
        attempt: n,
        atLeast: true,
      });
      previous = row.nextAttemptAt;
    }
    figure(
      'D9 poison',
      `next attempt after attempts 1–3: +${waits.join(' ms, +')} ms; dead after ${MAX_ATTEMPTS}`,
    );

    // Visible to an operator, and replayable.
    const listed = await runCli(['webhook-status', '--dead', '--json'], env);
    expect(listed.exit.code).toBe(0);
    const deadList = JSON.parse(listed.stdout) as {
      object: string;
      data: { stripe_event_id: string; status: string; attempts: number; last_error: string | null }[];
    };
    expect(deadList.data.filter((e) => e.stripe_event_id === poison.id)).toEqual([
      expect.objectContaining({ stripe_event_id: poison.id, status: 'dead', attempts: MAX_ATTEMPTS }),
    ]);
    const status = await runCli(['webhook-status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ counts: { dead: 1, pending: 0, failed: 0 } });
    const human = await runCli(['webhook-status', '--dead'], env);
    expect(human.stdout).toContain(poison.id);

    const diedAt = dead?.nextAttemptAt ?? new Date();
    const replayed = await runCli(['webhooks', 'replay', poison.id, '--json'], env);
    figure(
      'D9 poison',
      `pay webhooks replay: exit ${JSON.stringify(replayed.exit)} ${replayed.stdout.trim()}`,
    );
    expect(replayed.exit.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({
      replayed: 1,
      event: { stripe_event_id: poison.id, status: 'pending' },
    });
    // Applied again (and, still poison, dead again), later than the first death.
    const again = await until(
      'the replayed poison is tried again',
      rowOf(poison.id),
      (r) => r?.status === 'dead' && r.nextAttemptAt.getTime() > diedAt.getTime(),
    );
    figure('D9 poison', `after replay: ${again?.status} after ${again?.attempts} attempt(s)`);

    const all = await runCli(['webhooks', 'replay', '--dead', '--json'], env);
    expect(all.exit.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({ replayed: 1, event: null });
    await until('the poison is dead once more', rowOf(poison.id), (r) => r?.status === 'dead');

    // It changed nothing anywhere.
    const moves = await readCausedMoves(battery.database.url);
    expect(moves.filter((mv) => mv.causeStripeEventId === poison.id)).toEqual([]);
  });
});
