import { execFileSync } from 'node:child_process';
import type { Server } from 'node:http';
import net from 'node:net';
import { silentLogger, type Payment } from '@pay/core';
import { createTestDatabase, type TestDatabase } from '@pay/db/testing';
import { createPay, loadConfig, SANDBOX_SECRET_KEY, startWebhookWorker, type Pay } from '@pay/runtime';
import type { Express } from 'express';
import { createApp, createMetrics, observeWebhookOutcome, type HttpMetrics } from '../src/index.js';
import {
  createTenant,
  eventually,
  paymentBody,
  postPayment,
  sandboxOf,
  summary,
  type TestSandbox,
  type TestTenant,
} from './helpers.js';

/*
 * Webhooks end to end: pay's API listens on a real port, the in-process sandbox delivers its own events
 * there (signed with the secret pay generated for it), and the in-process worker applies them. Nothing
 * is hand-made: the events are those Stripe (the sandbox) emits for a real payment, and for a refund
 * made at Stripe, as from its dashboard.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function psql(url: string, statement: string): string {
  return execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
    encoding: 'utf8',
  }).trim();
}

describe('webhooks end to end: sandbox → endpoint → inbox → worker (PostgreSQL)', () => {
  let database: TestDatabase;
  let pay: Pay;
  let metrics: HttpMetrics;
  let server: Server;
  let app: Express;
  let sandbox: TestSandbox;
  let acme: TestTenant;

  beforeAll(async () => {
    database = await createTestDatabase('api_webhooks_flow');
    const port = await freePort();
    metrics = createMetrics();
    pay = await createPay(loadConfig({ DATABASE_URL: database.url, PORT: String(port) }), {
      logger: silentLogger,
      observeWebhook: (outcome) => observeWebhookOutcome(metrics.webhooks, outcome),
    });
    app = createApp({ pay, metrics });
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(port, '127.0.0.1', () => resolve(listening));
    });
    sandbox = await sandboxOf(pay);
    acme = await createTenant(pay, 'Acme', [1500]);
    startWebhookWorker(pay, { idleMs: 20 });
  });

  afterAll(async () => {
    // pay.close() stops the worker first, then the database and the sandbox.
    await new Promise((resolve) => server?.close(resolve));
    await pay?.close();
    await database?.drop();
  });

  /** Every inbox row: Stripe id, type and status. */
  const inbox = (): { id: string; type: string; status: string; attempts: number }[] =>
    JSON.parse(
      psql(
        database.url,
        `select coalesce(json_agg(json_build_object('id', stripe_event_id, 'type', type, 'status', status, 'attempts', attempts) order by received_at), '[]') from pay.webhook_events`,
      ),
    ) as never;

  /** Resolves once every delivery the sandbox made has been answered and every stored event applied. */
  async function settled(what: string): Promise<ReturnType<typeof inbox>> {
    return eventually(async () => {
      await sandbox.flush();
      const rows = inbox();
      const open = rows.filter((row) => row.status === 'pending' || row.status === 'failed');
      const undelivered = sandbox.webhooks.deliveries().filter((d) => !d.succeeded);
      return rows.length > 0 && open.length === 0 && undelivered.length === 0 ? rows : null;
    }, what);
  }

  const transitions = async (payment: Payment) =>
    (await pay.store.repos.payments.listEvents(payment.id)).map(
      (e) => `${e.fromStatus ?? '∅'}→${e.toStatus}`,
    );

  it("applies the sandbox's events for a payment: every delivery answered 200, every event applied once, nothing moved", async () => {
    const res = await postPayment(app, acme, paymentBody(acme));
    expect(summary(res)).toMatchObject({ status: 201, body: { status: 'succeeded' } });
    const [payment] = (await pay.store.repos.payments.list(acme.account.id, { limit: 1 })).data;
    if (payment === undefined) {
      throw new Error('no payment recorded');
    }
    const before = await transitions(payment);

    const rows = await settled('the payment events to be applied');
    const intentEvents = rows.filter((row) => row.type.startsWith('payment_intent.'));
    expect(intentEvents.map((row) => row.type)).toContain('payment_intent.succeeded');
    for (const row of rows) {
      expect({ ...row, ok: ['processed', 'ignored'].includes(row.status) }).toMatchObject({
        ok: true,
        attempts: 1,
      });
    }
    // Delivered once each, stored once each.
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    expect(sandbox.webhooks.deliveries().every((d) => d.responseStatus === 200)).toBe(true);
    // The API recorded the outcome already; the webhook agrees and adds no transition.
    expect(await pay.store.repos.payments.findById(acme.account.id, payment.id)).toMatchObject({
      status: 'succeeded',
    });
    expect(await transitions(payment)).toEqual(before);

    const processed = (await metrics.webhooks.events.get()).values.find(
      (v) => v.labels.result === 'processed' && v.labels.reason === undefined,
    );
    expect(processed?.value).toBeGreaterThanOrEqual(1);
    const lagCount = (await metrics.webhooks.lag.get()).values.find(
      (v) => v.metricName === 'pay_webhook_lag_seconds_count',
    );
    expect(lagCount?.value).toBe(rows.length);
  });

  it('learns of a refund made at Stripe (as from its dashboard) and moves the payment to refunded, once', async () => {
    const [payment] = (await pay.store.repos.payments.list(acme.account.id, { limit: 1 })).data;
    if (payment?.stripePaymentIntentId === null || payment === undefined) {
      throw new Error('the previous test leaves a succeeded payment');
    }
    const refund = await fetch(`${sandbox.url}/v1/refunds`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${SANDBOX_SECRET_KEY}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ payment_intent: payment.stripePaymentIntentId }).toString(),
    });
    expect(refund.status).toBe(200);

    const rows = await eventually(async () => {
      const settledRows = await settled('the refund events to be applied');
      return settledRows.some((row) => row.type === 'charge.refunded') ? settledRows : null;
    }, 'charge.refunded to arrive');
    expect(rows.map((row) => row.type)).toEqual(
      expect.arrayContaining(['charge.refunded', 'refund.created']),
    );
    expect(await pay.store.repos.payments.findById(acme.account.id, payment.id)).toMatchObject({
      status: 'refunded',
      amountRefunded: payment.amount,
    });
    // Two events announce the one refund: it moved the payment once.
    expect((await transitions(payment)).filter((t) => t.endsWith('→refunded'))).toEqual([
      'succeeded→refunded',
    ]);
  });
});
