import { checkInvariants, formatReport } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { describeAnswer } from './support/client.js';
import { figure, seedOf, seededRandom, since, tally } from './support/figures.js';
import { freePort, startApi, type ApiProcess, type Exit } from './support/processes.js';
import { issueApiKeys } from './support/refunds.js';
import { firstRefusal } from './support/shutdown-probe.js';
import { Traffic, unexpectedOutcomes, type FlowResult } from './support/traffic.js';
import { mixFlows } from './support/traffic-mix.js';
import { makePayments } from './support/payment-mix.js';
import { withSql } from './support/pay-sql.js';
import {
  createWebhookSender,
  isDrained,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  startWorker,
  waitForInbox,
} from './support/webhooks.js';

/*
 * RELIABILITY.md C5, SIGTERM during traffic, for the API: clients keep payments (some 3-D Secure),
 * refunds and webhook deliveries going; the API gets SIGTERM. Printed: how long until a new connection
 * is refused (target 1 s), how the requests in flight at the signal ended, whether requests sent after
 * it on kept-alive connections were still served, and the time to exit (target 10 s). Asserted: exit 0
 * within a hang guard, every in-flight request ended in a complete answer or a network error whose key
 * the client's retry finished, and K1–K5 after a restart and one `pay recover`.
 */

const CLIENTS = 12;
const TRAFFIC_BEFORE_SIGTERM_MS = 2_500;
/** Hang guards (5× the targets), never the targets themselves. */
const REFUSE_GUARD_MS = 5_000;
const EXIT_GUARD_MS = 50_000;
const TUNING = {
  PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS: '5000',
  PAY_STRIPE_TIMEOUT_MS: '2500',
  PAY_STRIPE_MAX_NETWORK_RETRIES: '0',
};

function outcome(answer: { kind: 'http'; status: number } | { kind: 'network' }): string {
  return answer.kind === 'http' ? String(answer.status) : 'network error';
}

/** How the process ended, or null when it had not within `guardMs`. */
async function exitWithin(api: ApiProcess, guardMs: number): Promise<Exit | null> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), guardMs);
  });
  try {
    return await Promise.race([api.exited, guard]);
  } finally {
    clearTimeout(timer);
  }
}

const WORKER_EVENTS = 20;
/** How long the sandbox holds each of the worker's fetches of an intent. */
const FETCH_HOLD_MS = 1_500;

async function waitFor(check: () => Promise<boolean>, what: string, guardMs = 60_000): Promise<void> {
  const deadline = performance.now() + guardMs;
  while (!(await check())) {
    if (performance.now() > deadline) {
      throw new Error(`${what}: not within ${guardMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Events waiting under a worker's fetch lease: not applied, next attempt pushed into the future. */
function leasedEvents(battery: Battery): Promise<number> {
  return withSql(battery.database.url, async (sql) => {
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM pay.webhook_events
       WHERE status IN ('pending', 'failed') AND next_attempt_at > now()`,
    );
    return Number(row?.n ?? 0);
  });
}

/** Of the events with these Stripe ids, how many are applied (processed or ignored). */
function appliedEvents(battery: Battery, stripeEventIds: readonly string[]): Promise<number> {
  return withSql(battery.database.url, async (sql) => {
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM pay.webhook_events
       WHERE status IN ('processed', 'ignored') AND stripe_event_id = ANY($1::text[])`,
      [stripeEventIds],
    );
    return Number(row?.n ?? 0);
  });
}

describe('C5: SIGTERM during traffic (RELIABILITY.md C5)', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_c5');
  });

  afterEach(async () => {
    traffic?.close();
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    await battery?.close();
  });

  it('the API stops accepting, ends or leaves recoverable every request in flight, exits 0, and K1–K5 hold after recovery', async () => {
    const seed = seedOf();
    figure('C5', `seed ${seed} (replay with SEED=${seed})`);
    const random = seededRandom(seed);
    const [admin] = await issueApiKeys(battery, 'admin', ['battery c5 admin']);
    if (admin === undefined) {
      throw new Error('no admin key');
    }
    const webhookSecret = newWebhookSecret();
    const env = battery.env({ ...TUNING, STRIPE_WEBHOOK_SECRETS: webhookSecret });
    const port = await freePort();
    traffic = new Traffic({
      battery,
      adminKey: admin.secret,
      webhookSecret,
      baseUrl: `http://127.0.0.1:${port}`,
    });
    const running = traffic;
    api = await startApi(env, port);

    // A few paid payments and their events, so refunds and deliveries are in the mix from the start.
    const warmup = await Promise.all(
      Array.from({ length: 6 }, (_, i) => running.run({ flow: -1 - i, kind: 'card' })),
    );
    const refundable = warmup.flatMap((r) => (r.paymentId === null ? [] : [r.paymentId]));
    const events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);

    // The load: each client runs one flow after another until the API has exited.
    let launching = true;
    let nextFlow = 0;
    const results: FlowResult[] = [];
    const client = async (): Promise<void> => {
      while (launching) {
        const [flow] = mixFlows(1, nextFlow++, random, refundable, events);
        if (flow === undefined) {
          return;
        }
        const result = await running.run(flow);
        results.push(result);
        if (result.kind === 'card' && result.outcomes[0] === '201 succeeded' && result.paymentId !== null) {
          refundable.push(result.paymentId);
        }
      }
    };
    const clients = Promise.all(Array.from({ length: CLIENTS }, client));
    await new Promise((resolve) => setTimeout(resolve, TRAFFIC_BEFORE_SIGTERM_MS));

    const termAt = performance.now();
    const stopping = api;
    stopping.child.kill('SIGTERM');
    const [refusedAt, exit] = await Promise.all([
      firstRefusal(port, REFUSE_GUARD_MS),
      exitWithin(stopping, EXIT_GUARD_MS),
    ]);
    const exitedAt = performance.now();
    launching = false;
    api = undefined;
    if (exit === null) {
      stopping.child.kill('SIGKILL');
    }

    const inFlight = running.attempts.filter((a) => a.start < termAt && a.end >= termAt);
    const sentAfter = running.attempts.filter((a) => a.start >= termAt && a.start < exitedAt);
    const servedAfter = sentAfter.filter((a) => a.answer.kind === 'http');
    const lastServed = Math.max(-1, ...servedAfter.map((a) => Math.round(a.start - termAt)));
    figure(
      'C5',
      `SIGTERM after ${TRAFFIC_BEFORE_SIGTERM_MS} ms of traffic from ${CLIENTS} clients (${running.attempts.length} requests so far); ` +
        `new connections refused ${refusedAt === null ? `not within ${REFUSE_GUARD_MS}` : Math.round(refusedAt - termAt)} ms after it (target 1000 ms); ` +
        `exit ${JSON.stringify(exit)} ${Math.round(exitedAt - termAt)} ms after it (target 10000 ms)`,
    );
    figure(
      'C5',
      `${inFlight.length} requests in flight at SIGTERM ended: ${tally(inFlight.map((a) => `${a.what} ${outcome(a.answer)}`))}`,
    );
    for (const a of inFlight.filter((x) => x.answer.kind === 'network')) {
      figure('C5', `  in flight, cut: flow ${a.flow} ${a.what} ${describeAnswer(a.answer)}`);
    }
    figure(
      'C5',
      `${sentAfter.length} requests sent after SIGTERM: ${tally(sentAfter.map((a) => outcome(a.answer)))}; ` +
        `${servedAfter.length} served, the last sent ${lastServed} ms after SIGTERM`,
    );

    // The restart, one recovery pass, and every client's retries to a final answer.
    const restartAt = performance.now();
    api = await startApi(env, port);
    const { report: recovered } = await battery.recover(TUNING);
    await clients;
    figure(
      'C5',
      `restart + pay recover ${JSON.stringify(recovered)} + clients final in ${since(restartAt)} ms; ` +
        `${results.length} flows: ${tally(results.map((r) => `${r.kind}: ${r.outcomes.join(' → ')}`))}`,
    );
    const report = await checkInvariants(battery.ctx);
    figure('C5', formatReport(report));

    expect(exit).toEqual({ code: 0, signal: null });
    expect(refusedAt).not.toBeNull();
    // A kept-alive connection carries no new request long after the signal (hang guard: 5× the 1 s target).
    expect(lastServed).toBeLessThan(REFUSE_GUARD_MS);
    // Every request in flight got a whole answer, or a network error its flow's retry then finished.
    const cutFlows = new Set(inFlight.filter((a) => a.answer.kind === 'network').map((a) => a.flow));
    expect([...cutFlows].filter((f) => !results.some((r) => r.flow === f))).toEqual([]);
    expect(unexpectedOutcomes(results)).toEqual([]);
    expect(report.violations).toEqual([]);
  });

  it('a pay worker SIGTERMed while it holds claimed events exits promptly and leaves them to another worker at once', async () => {
    const webhookSecret = newWebhookSecret();
    const env = battery.env({ STRIPE_WEBHOOK_SECRETS: webhookSecret, PAY_STRIPE_TIMEOUT_MS: '30000' });
    api = await startApi(env, await freePort());
    // Failed 3-D Secure challenges: pay's payment is still requires_action, so the worker fetches each
    // intent from Stripe before it applies the failure report, holding the event under its fetch lease.
    const made = await makePayments(
      battery,
      api,
      Array.from({ length: WORKER_EVENTS }, () => '3ds_failed' as const),
      4,
    );
    const intents = new Set(made.map((m) => m.intentId));
    const failures = (await listSandboxEvents(battery.sandbox.url, battery.stripeKey)).filter(
      (e) => e.type === 'payment_intent.payment_failed' && intents.has(String(e.data.object.id)),
    );
    const sender = createWebhookSender(api.url, 4);
    try {
      const delivered = await Promise.all(failures.map((e) => sender.deliver(payloadOf(e), webhookSecret)));
      expect(delivered.map((d) => d.status)).toEqual(failures.map(() => 200));
    } finally {
      sender.close();
    }
    await api.stop();
    api = undefined;

    battery.sandbox.faults.add({
      kind: 'delay',
      ms: FETCH_HOLD_MS,
      match: { method: 'GET', path: '/v1/payment_intents/*' },
    });
    const first = startWorker(env);
    let exit: Awaited<ReturnType<typeof first.stop>>;
    let exitMs: number;
    try {
      await waitFor(async () => (await leasedEvents(battery)) > 0, 'the first worker to claim an event');
      const termAt = performance.now();
      exit = await first.stop();
      exitMs = since(termAt);
    } finally {
      battery.sandbox.faults.clear();
      await first.stop();
    }
    const applied = await appliedEvents(
      battery,
      failures.map((e) => e.id),
    );
    const leased = await leasedEvents(battery);
    figure(
      'C5 worker',
      `SIGTERM while fetching for a claimed event: exit ${JSON.stringify(exit)} ${exitMs} ms after it; ` +
        `${applied} of ${failures.length} events applied by it, ${leased} left under its lease`,
    );

    const secondStart = performance.now();
    const second = startWorker(env);
    const pay = await openPay(battery, { STRIPE_WEBHOOK_SECRETS: webhookSecret });
    try {
      await waitForInbox(pay, isDrained, 'C5 worker');
    } finally {
      await pay.close();
      await second.stop();
    }
    figure(
      'C5 worker',
      `a second worker applied the remaining ${failures.length - applied} events in ${since(secondStart)} ms`,
    );

    expect(exit).toEqual({ code: 0, signal: null });
    // A hang guard: the first worker does not go on through the whole batch after the signal.
    expect(exitMs).toBeLessThan(5 * (FETCH_HOLD_MS + 1_000));
    expect(leased).toBe(0);
    expect(
      await appliedEvents(
        battery,
        failures.map((e) => e.id),
      ),
    ).toBe(failures.length);
    const report = await checkInvariants(battery.ctx);
    figure('C5 worker', formatReport(report));
    expect(report.violations).toEqual([]);
  });
});
