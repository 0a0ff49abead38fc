import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { runCommand } from '@oclif/test';
import { HANDLED_WEBHOOK_EVENT_TYPES, newId, type AccountId, type Payment, type PlanId } from '@pay/core';
import type { Database } from '@pay/db';
import { SANDBOX_SECRET_KEY, type Pay, type StripeConnection } from '@pay/runtime';
import type { WebhookEventView, WebhookStatusView } from '../src/commands/webhook-status';
import type { WebhookReplayView } from '../src/commands/webhooks/replay';
import type { WorkerOnceView } from '../src/commands/worker';
import type { ListView } from '../src/views';
import { CLI_ROOT } from './helpers';
import { openShop, type ShopWorld } from './shop';

const CLI_BIN = path.join(CLI_ROOT, 'bin/run.js');

/** `pay <args>` in-process, with the exit status it set (cleared after, or jest would fail). */
async function pay<T>(args: string[]) {
  const run = await runCommand<T>(args, { root: CLI_ROOT });
  const exitCode =
    run.error === undefined
      ? Number(process.exitCode ?? 0)
      : (run.error as { oclif?: { exit?: number } }).oclif?.exit;
  process.exitCode = undefined;
  return {
    ...run,
    exitCode,
    all: `stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nerror: ${String(run.error)}`,
  };
}

/** `pay <args> --json`, parsed; fails with everything printed when it is not JSON. */
async function payJson<T>(args: string[]): Promise<{ exitCode: number | undefined; body: T }> {
  const run = await pay<T>([...args, '--json']);
  try {
    return { exitCode: run.exitCode, body: JSON.parse(run.stdout) as T };
  } catch {
    throw new Error(`pay ${args.join(' ')} printed no JSON.\n${run.all}`);
  }
}

/** `pay worker --once --json` in a process of its own, as a second machine would run it. */
function workerProcess(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: WorkerOnceView; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'worker', '--once', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve({ code, out: JSON.parse(stdout) as WorkerOnceView, stderr });
      } catch {
        reject(
          new Error(
            `pay worker --once printed no JSON (exit ${code}).\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
      }
    });
  });
}

/** Resolves once `condition` holds; a hang guard, not a timing assertion. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 800 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(condition()).toBe(true);
}

describe('pay worker, pay webhook-status and pay webhooks replay on PostgreSQL', () => {
  /** Another process's pay, which took the payments and received the events; its sandbox plays Stripe. */
  let shop: Pay;
  let sandbox: NonNullable<StripeConnection['sandbox']>;
  let db: Database;
  let accountId: AccountId;
  let planId: PlanId;

  let world: ShopWorld;
  beforeAll(async () => {
    world = await openShop({ name: 'webhooks' });
    ({ shop, sandbox, db, accountId, planId } = world);
  });

  afterAll(() => world?.close());

  /** A call to the sandbox's Stripe API, form-encoded as the SDK sends it. */
  async function stripe<T>(
    method: 'GET' | 'POST',
    route: string,
    params: Record<string, string> = {},
  ): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const res = await fetch(`${sandbox.url}${route}${method === 'GET' && query !== '' ? `?${query}` : ''}`, {
      method,
      headers: {
        Authorization: `Bearer ${SANDBOX_SECRET_KEY}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      ...(method === 'POST' ? { body: query } : {}),
    });
    const body = (await res.json()) as T;
    if (!res.ok) {
      throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(body)}`);
    }
    return body;
  }

  /** Every event the sandbox has created, oldest first, as the raw JSON Stripe would deliver. */
  async function stripeEvents(): Promise<{ id: string; type: string; payload: string }[]> {
    const events: { id: string; type: string }[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await stripe<{ data: { id: string; type: string }[]; has_more: boolean }>(
        'GET',
        '/v1/events',
        {
          limit: '100',
          ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
        },
      );
      events.push(...page.data);
      startingAfter = page.data.at(-1)?.id;
      if (!page.has_more || startingAfter === undefined) {
        break;
      }
    }
    return events
      .reverse()
      .map((event) => ({ id: event.id, type: event.type, payload: JSON.stringify(event, null, 2) }));
  }

  async function takePayment(): Promise<Payment> {
    const input = { accountId, userId: `user-${randomUUID()}`, planId, paymentMethodId: 'pm_card_visa' };
    await shop.services.payments.create(input, {
      accountId,
      key: randomUUID(),
      method: 'POST',
      path: '/api/v1/payments',
      params: input,
      requestId: `req_${randomUUID()}`,
    });
    const [payment] = (await db.store.repos.payments.list(accountId, { limit: 1 })).data;
    if (payment?.status !== 'succeeded') {
      throw new Error(`expected a succeeded payment, got ${JSON.stringify(payment)}`);
    }
    return payment;
  }

  const inbox = async () => {
    const counts = await db.store.repos.webhookEvents.countByStatus();
    return counts;
  };

  it('shows an empty inbox, and says so', async () => {
    const human = await pay(['webhook-status']);
    expect({ exitCode: human.exitCode, stdout: human.stdout }).toEqual({
      exitCode: 0,
      stdout: [
        'pending:    0',
        'processed:  0',
        'failed:     0',
        'dead:       0',
        'ignored:    0',
        'oldest pending: none',
        'lag:        -',
        '',
      ].join('\n'),
    });
    expect(await payJson<WebhookStatusView>(['webhook-status'])).toEqual({
      exitCode: 0,
      body: {
        counts: { pending: 0, processed: 0, failed: 0, dead: 0, ignored: 0 },
        oldest_pending: null,
        lag_seconds: null,
      },
    });
    const list = await pay(['webhook-status', '--dead']);
    expect(list.stdout).toBe('No dead webhook events.\n');
  });

  it('applies a backlog, delivered twice, with two worker processes side by side: each event once', async () => {
    const payments: Payment[] = [];
    for (let i = 0; i < 16; i++) {
      payments.push(await takePayment());
    }
    // Refunds made at Stripe, as from its dashboard: pay learns of them only by webhook.
    const refunded = payments.filter((_, i) => i % 2 === 0);
    for (const payment of refunded) {
      await stripe('POST', '/v1/refunds', { payment_intent: payment.stripePaymentIntentId ?? '' });
    }
    const events = await stripeEvents();
    // At least once: every event arrives twice; the second is stored as nothing new.
    for (const round of [true, false]) {
      for (const event of events) {
        const { inserted } = await shop.services.webhooks.receive(event.payload);
        expect({ id: event.id, inserted }).toEqual({ id: event.id, inserted: round });
      }
    }

    const status = await payJson<WebhookStatusView>(['webhook-status']);
    expect(status.body).toMatchObject({
      counts: { pending: events.length, processed: 0, failed: 0, dead: 0, ignored: 0 },
      oldest_pending: { stripe_event_id: expect.any(String) },
      lag_seconds: expect.any(Number),
    });
    // The oldest is one Stripe created first (events of one second may come in any order).
    const createdOf = (payload: string) => (JSON.parse(payload) as { created: number }).created;
    const first = Math.min(...events.map((event) => createdOf(event.payload)));
    const oldest = events.find((event) => event.id === status.body.oldest_pending?.stripe_event_id);
    expect(oldest !== undefined && createdOf(oldest.payload)).toBe(first);
    const human = await pay(['webhook-status']);
    expect(human.stdout).toContain(`pending:    ${events.length}\n`);
    expect(human.stdout).toContain(`oldest pending: ${oldest?.id} (${oldest?.type})`);
    const pending = await payJson<ListView<WebhookEventView>>([
      'webhook-status',
      '--pending',
      '--limit',
      '5',
    ]);
    expect(pending.body).toMatchObject({ object: 'list', has_more: true });
    expect(pending.body.data).toHaveLength(5);
    expect(pending.body.data[0]).toMatchObject({ status: 'pending', attempts: 0, last_error: null });

    const env = { ...process.env };
    const [a, b] = await Promise.all([workerProcess(env), workerProcess(env)]);
    if (a.code !== 0 || b.code !== 0) {
      throw new Error(`a worker failed: ${a.code} ${b.code}\n${a.stderr}\n${b.stderr}`);
    }
    const handled = (w: WorkerOnceView) => w.webhooks.processed + w.webhooks.ignored;
    // Every event applied by exactly one of the two; none failed.
    expect(handled(a.out) + handled(b.out)).toBe(events.length);
    expect([a.out.webhooks, b.out.webhooks].map((w) => w.failed + w.dead)).toEqual([0, 0]);
    // Every event had been delivered: the catch-up of each worker found nothing new.
    expect([a.out, b.out].map((w) => w.webhook_catch_up.stored)).toEqual([0, 0]);
    const counts = await inbox();
    expect(counts).toEqual({
      pending: 0,
      processed: counts.processed,
      failed: 0,
      dead: 0,
      ignored: events.length - counts.processed,
    });
    for (const event of events) {
      const row = await db.store.repos.webhookEvents.findByStripeId(event.id);
      expect({ id: event.id, attempts: row?.attempts }).toEqual({ id: event.id, attempts: 1 });
    }
    // The refunds reached the ledger, each payment moved once; the others stay as they were.
    for (const payment of payments) {
      const now = await db.store.repos.payments.findById(accountId, payment.id);
      const moves = (await db.store.repos.payments.listEvents(payment.id)).map((e) => e.toStatus);
      const wasRefunded = refunded.includes(payment);
      expect({
        id: payment.id,
        status: now?.status,
        refunds: moves.filter((s) => s === 'refunded').length,
      }).toEqual({
        id: payment.id,
        status: wasRefunded ? 'refunded' : 'succeeded',
        refunds: wasRefunded ? 1 : 0,
      });
    }

    // Nothing is due any more: a further pass does nothing. Its catch-up lists the events of the newest
    // second stored (how many depends on the clock), all known.
    const again = await payJson<WorkerOnceView>(['worker', '--once']);
    const listed = again.body.webhook_catch_up.listed;
    expect(listed).toBeGreaterThan(0);
    expect(again).toEqual({
      exitCode: 0,
      body: {
        webhooks: { processed: 0, ignored: 0, failed: 0, dead: 0 },
        webhook_catch_up: { listed, stored: 0, already_known: listed, failures: 0 },
        recovery: { keys_resumed: 0, payments_resolved: 0, keys_reaped: 0, failures: 0 },
        refunds: { keys_resumed: 0, refunds_resolved: 0, failures: 0 },
        renewals: { attempted: 0, renewed: 0, failed: 0, expired: 0, canceled: 0, waiting: 0, failures: 0 },
      },
    });
  });

  it('stores the events Stripe never delivered and applies them in the same pass, once', async () => {
    const known = new Set((await stripeEvents()).map((event) => event.id));
    const payments = [await takePayment(), await takePayment()];
    await stripe('POST', '/v1/refunds', { payment_intent: payments[0]?.stripePaymentIntentId ?? '' });
    // Nobody received these: no API runs here to take Stripe's deliveries.
    const missed = (await stripeEvents()).filter(
      (e) => !known.has(e.id) && HANDLED_WEBHOOK_EVENT_TYPES.includes(e.type),
    );
    expect(missed.length).toBeGreaterThan(0);

    const run = await payJson<WorkerOnceView>(['worker', '--once']);
    expect(run.exitCode).toBe(0);
    expect(run.body.webhook_catch_up).toMatchObject({ stored: missed.length, failures: 0 });
    expect(run.body.webhooks).toMatchObject({ failed: 0, dead: 0 });
    expect(run.body.webhooks.processed + run.body.webhooks.ignored).toBe(missed.length);
    for (const event of missed) {
      const row = await db.store.repos.webhookEvents.findByStripeId(event.id);
      expect({
        id: event.id,
        status: row?.status,
        attempts: row?.attempts,
        signed: row?.signatureVerified,
      }).toEqual({
        id: event.id,
        status: expect.stringMatching(/^(processed|ignored)$/),
        attempts: 1,
        signed: false,
      });
    }
    const [refunded] = payments;
    expect(await db.store.repos.payments.findById(accountId, refunded?.id ?? newId('payment'))).toMatchObject(
      {
        status: 'refunded',
      },
    );

    const again = await payJson<WorkerOnceView>(['worker', '--once']);
    expect(again.body.webhook_catch_up).toMatchObject({ stored: 0, failures: 0 });
    expect(again.body.webhooks).toEqual({ processed: 0, ignored: 0, failed: 0, dead: 0 });
  });

  it('runs in the foreground until SIGTERM, applying events as they arrive, and stops cleanly', async () => {
    const known = new Set((await stripeEvents()).map((event) => event.id));
    const child = spawn(process.execPath, [CLI_BIN, 'worker', '--idle-ms', '20'], {
      env: { ...process.env, PAY_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      await until(() => stderr.includes('"message":"pay worker started"'));
      // Events arriving while it runs: a new payment's.
      await takePayment();
      const fresh = (await stripeEvents()).filter((event) => !known.has(event.id));
      expect(fresh.length).toBeGreaterThan(0);
      for (const event of fresh) {
        await shop.services.webhooks.receive(event.payload);
      }
      let counts = await inbox();
      for (let i = 0; i < 400 && counts.pending + counts.failed > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        counts = await inbox();
      }
      expect(counts).toMatchObject({ pending: 0, failed: 0, dead: 0 });
    } finally {
      child.kill('SIGTERM');
    }
    expect({ code: await exited, stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('"message":"pay worker stopping","signal":"SIGTERM"'),
    });
  });

  describe('an event that keeps failing', () => {
    let poison: { id: string; type: string; payload: string };

    beforeAll(async () => {
      // A PaymentIntent naming a payment pay never recorded: its events are "too early" for ever.
      const known = new Set((await stripeEvents()).map((event) => event.id));
      const intent = await stripe<{ id: string }>('POST', '/v1/payment_intents', {
        amount: '1000',
        currency: 'usd',
        payment_method: 'pm_card_visa',
        'payment_method_types[0]': 'card',
        confirm: 'true',
        'metadata[pay_payment_id]': newId('payment'),
        'metadata[pay_account_id]': accountId,
      });
      const found = (await stripeEvents()).find(
        (event) =>
          !known.has(event.id) &&
          event.type === 'payment_intent.succeeded' &&
          event.payload.includes(intent.id),
      );
      if (found === undefined) {
        throw new Error('the sandbox emitted no payment_intent.succeeded');
      }
      poison = found;
      await shop.services.webhooks.receive(poison.payload);
    });

    it('ends dead after PAY_WEBHOOK_MAX_ATTEMPTS, listed by --dead with its last error', async () => {
      process.env.PAY_WEBHOOK_MAX_ATTEMPTS = '1';
      try {
        const run = await payJson<WorkerOnceView>(['worker', '--once']);
        expect(run).toMatchObject({
          exitCode: 0,
          body: { webhooks: { processed: 0, ignored: 0, failed: 0, dead: 1 } },
        });
      } finally {
        delete process.env.PAY_WEBHOOK_MAX_ATTEMPTS;
      }
      const status = await payJson<WebhookStatusView>(['webhook-status']);
      expect(status.body.counts).toMatchObject({ pending: 0, failed: 0, dead: 1 });

      const dead = await payJson<ListView<WebhookEventView>>(['webhook-status', '--dead']);
      expect(dead.body).toEqual({
        object: 'list',
        has_more: false,
        data: [
          expect.objectContaining({
            stripe_event_id: poison.id,
            type: 'payment_intent.succeeded',
            status: 'dead',
            attempts: 1,
            last_error: expect.stringContaining('not recorded yet'),
          }),
        ],
      });
      const table = await pay(['webhook-status', '--dead']);
      const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^STRIPE EVENT +TYPE +ATTEMPTS +NEXT ATTEMPT +LAST ERROR$/);
      expect(row).toMatch(
        new RegExp(`^${poison.id} +payment_intent\\.succeeded +1 +- +\\S.*not recorded yet`),
      );
      expect(rest).toEqual([]);
    });

    it('is re-queued by pay webhooks replay <evt_…>, due now', async () => {
      const run = await payJson<WebhookReplayView>(['webhooks', 'replay', poison.id]);
      expect(run).toEqual({
        exitCode: 0,
        body: {
          replayed: 1,
          event: expect.objectContaining({ stripe_event_id: poison.id, status: 'pending' }),
        },
      });
      expect((await inbox()).dead).toBe(0);
      const row = await db.store.repos.webhookEvents.findByStripeId(poison.id);
      expect(row?.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('is re-queued with every other dead event by pay webhooks replay --dead', async () => {
      process.env.PAY_WEBHOOK_MAX_ATTEMPTS = '1';
      try {
        await payJson<WorkerOnceView>(['worker', '--once']);
      } finally {
        delete process.env.PAY_WEBHOOK_MAX_ATTEMPTS;
      }
      expect((await inbox()).dead).toBe(1);
      const human = await pay(['webhooks', 'replay', '--dead']);
      expect({ exitCode: human.exitCode, stdout: human.stdout }).toEqual({
        exitCode: 0,
        stdout: 'Re-queued 1 dead webhook event; the workers apply it next.\n',
      });
      expect(await inbox()).toMatchObject({ dead: 0, pending: 1 });
      // Nothing left to replay: still a success, and it says so.
      const none = await payJson<WebhookReplayView>(['webhooks', 'replay', '--dead']);
      expect(none).toEqual({ exitCode: 0, body: { replayed: 0, event: null } });
    });

    it('exits 2 with not_found for an event pay never received, and for bad arguments with invalid_request', async () => {
      const unknown = await pay(['webhooks', 'replay', 'evt_never_received']);
      expect({ exitCode: unknown.exitCode, code: unknown.error?.code }).toEqual({
        exitCode: 2,
        code: 'not_found',
      });
      for (const args of [
        ['webhooks', 'replay'],
        ['webhooks', 'replay', 'pi_123'],
        ['webhooks', 'replay', poison.id, '--dead'],
      ]) {
        const run = await pay(args);
        expect({ args, exitCode: run.exitCode, code: run.error?.code }).toEqual({
          args,
          exitCode: 2,
          code: 'invalid_request',
        });
      }
    });
  });
});
