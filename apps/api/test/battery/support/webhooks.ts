import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { canTransition, type WebhookStatus } from '@pay/core';
import { readPayState } from '@pay/reliability';
import { createPay, loadConfig, type Pay } from '@pay/runtime';
import type { Battery } from './battery.js';

/*
 * Stripe's side of the webhook battery (RELIABILITY.md D): the events the sandbox recorded, signed and
 * delivered to the real API process as Stripe would send them (raw bytes, `Stripe-Signature` with the
 * endpoint's secret, `t` = the time of this attempt), `pay worker` processes to apply them, and a
 * reader of pay's inbox through the same services the CLI calls.
 */

const CLI_RUN = path.join(__dirname, '../../../../cli/bin/run.js');

/** A generous hang guard, never a timing assertion. */
const HANG_GUARD_MS = 60_000;

/** A Stripe event as `GET /v1/events` renders it. */
export interface StripeEventJson {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly data: { readonly object: Readonly<Record<string, unknown>> };
  readonly [field: string]: unknown;
}

/** A new endpoint signing secret in Stripe's format. */
export function newWebhookSecret(): string {
  return `whsec_battery${randomBytes(16).toString('hex')}`;
}

/**
 * Every event of the key's sandbox account, oldest first. The sandbox lists newest first and, within a
 * second, in the reverse of the order it created them, so the reversed pages are creation order.
 */
export async function listSandboxEvents(sandboxUrl: string, secretKey: string): Promise<StripeEventJson[]> {
  const newestFirst: StripeEventJson[] = [];
  let startingAfter: string | null = null;
  for (;;) {
    const query = new URLSearchParams({ limit: '100' });
    if (startingAfter !== null) {
      query.set('starting_after', startingAfter);
    }
    const res = await fetch(`${sandboxUrl}/v1/events?${query.toString()}`, {
      headers: { authorization: `Bearer ${secretKey}` },
    });
    if (!res.ok) {
      throw new Error(`GET /v1/events answered ${res.status}: ${await res.text()}`);
    }
    const page = (await res.json()) as { data: StripeEventJson[]; has_more: boolean };
    newestFirst.push(...page.data);
    const last = page.data[page.data.length - 1];
    if (!page.has_more || last === undefined) {
      return newestFirst.reverse();
    }
    startingAfter = last.id;
  }
}

/** The body Stripe sends: the event, pretty-printed with two spaces (SANDBOX.md §5.2). */
export function payloadOf(event: StripeEventJson): string {
  return JSON.stringify(event, null, 2);
}

/** `Stripe-Signature` for `payload` signed with `secret` at unix time `t` (now by default). */
export function stripeSignatureHeader(
  payload: string,
  secret: string,
  t = Math.floor(Date.now() / 1000),
): string {
  const v1 = createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/** The PaymentIntent an event is about: the intent itself, or a charge's or refund's `payment_intent`. */
export function intentOfEvent(event: StripeEventJson): string | null {
  const object = event.data.object;
  if (object.object === 'payment_intent' && typeof object.id === 'string') {
    return object.id;
  }
  return typeof object.payment_intent === 'string' ? object.payment_intent : null;
}

/** What one delivery got: the status and body, or the network error in their place. */
export interface DeliveryAnswer {
  readonly status: number | null;
  readonly body: string;
  readonly error: string | null;
}

/**
 * Stripe's side of the endpoint: deliveries over keep-alive connections (node:http, whose per-request
 * CPU is a fraction of fetch's, as the sender shares two cores with everything it tests).
 */
export interface WebhookSender {
  /** Signs `payload` now with `secret` and POSTs it to the API's webhook route. */
  deliver(payload: string, secret: string): Promise<DeliveryAnswer>;
  /** POSTs `payload` with the given `Stripe-Signature` (or none). */
  post(payload: string, signature: string | null): Promise<DeliveryAnswer>;
  close(): void;
}

export const WEBHOOK_ROUTE = '/api/v1/webhooks/stripe';

export function createWebhookSender(apiUrl: string, maxSockets = 32): WebhookSender {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(WEBHOOK_ROUTE, apiUrl);
  const post = (payload: string, signature: string | null): Promise<DeliveryAnswer> =>
    new Promise((resolve) => {
      const body = Buffer.from(payload, 'utf8');
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': body.length,
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            ...(signature === null ? {} : { 'stripe-signature': signature }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? null,
              body: Buffer.concat(chunks).toString('utf8'),
              error: null,
            }),
          );
          res.on('error', (error) => resolve({ status: null, body: '', error: error.message }));
        },
      );
      req.on('error', (error) => resolve({ status: null, body: '', error: error.message }));
      req.end(body);
    });
  return {
    post,
    deliver: (payload, secret) => post(payload, stripeSignatureHeader(payload, secret)),
    close: () => agent.destroy(),
  };
}

/** Runs `task` over `items` from `concurrency` senders pulling from one queue; answers in item order. */
export async function fromSenders<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, sender));
  return results;
}

/** Fisher–Yates with the given generator: the same seed, the same order. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A running `pay worker`. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after the hang guard; resolves with how it ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `pay worker` runs payment recovery beside the webhook worker: one pass at start, then one per
 * interval. A battery that asks whether the webhooks alone brought pay in line with Stripe starts its
 * workers before any payment exists and pushes the next pass a day away, so recovery fixes nothing
 * behind the events' back.
 */
export const NO_RECOVERY = ['--recovery-interval-ms', String(24 * 60 * 60 * 1000)] as const;

/** Starts `pay worker <args>` (the built CLI) with exactly `env` (plus PATH and HOME). */
export function startWorker(
  env: Record<string, string>,
  args: readonly string[] = NO_RECOVERY,
): WorkerProcess {
  const child = spawn(process.execPath, [CLI_RUN, 'worker', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
        const how = await exited;
        clearTimeout(timer);
        return how;
      }
      return exited;
    },
  };
}

/**
 * pay wired in this process as the CLI wires it (`role: 'cli'`, nothing started), for reading the inbox
 * through `services.webhooks` (status, list) and, where a test must fix the order events are applied
 * in, for applying them (`processDue`).
 */
export function openPay(battery: Battery, extra: Record<string, string> = {}): Promise<Pay> {
  return createPay(loadConfig(battery.env({ PAY_LOG_LEVEL: 'error', ...extra })), { role: 'cli' });
}

/** True when no event waits to be applied: none pending, none failed awaiting its retry. */
export function isDrained(status: WebhookStatus): boolean {
  return status.counts.pending === 0 && status.counts.failed === 0;
}

/**
 * Polls the inbox's status until `done` says so, printing progress every few seconds; throws after the
 * hang guard with the last status.
 */
export async function waitForInbox(
  pay: Pay,
  done: (status: WebhookStatus) => boolean,
  label: string,
  guardMs = 300_000,
): Promise<WebhookStatus> {
  const deadline = Date.now() + guardMs;
  let lastPrint = Date.now();
  for (;;) {
    const status = await pay.services.webhooks.status();
    if (done(status)) {
      return status;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${label}: the inbox did not settle within ${guardMs} ms: ${JSON.stringify(status.counts)}`,
      );
    }
    if (Date.now() - lastPrint > 10_000) {
      console.log(`[${label}] waiting for the inbox: ${JSON.stringify(status.counts)}`);
      lastPrint = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every payment ledger row that is not a move the payment state machine allows: backward moves. */
export async function illegalPaymentMoves(battery: Battery): Promise<string[]> {
  const state = await readPayState(battery.database.url);
  return state.paymentEvents
    .filter((e) => e.from_status !== null && !canTransition('payment', e.from_status, e.to_status))
    .map((e) => `${e.object_id}#${e.seq}: ${e.from_status ?? 'null'} → ${e.to_status}`);
}
