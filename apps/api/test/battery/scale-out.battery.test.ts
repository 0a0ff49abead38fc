import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPayState, readSandboxState } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import { newIdempotencyKey, openBattery, type Battery } from './support/battery.js';
import { describeAnswer, getJson, postPayment, retryUntilFinal, type HttpAnswer } from './support/client.js';
import {
  awaitRoomInMinute,
  createServiceKeys,
  getOnNewConnection,
  isAlive,
  logLines,
  spawnCluster,
  startCluster,
  waitFor,
  type ClusterProcess,
} from './support/cluster.js';
import { figure, seededRandom, seedOf, since, tally } from './support/figures.js';
import { readCausedMoves, readInbox } from './support/inbox-rows.js';
import { freePort, type ApiProcess } from './support/processes.js';
import {
  createWebhookSender,
  fromSenders,
  illegalPaymentMoves,
  isDrained,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  startWorker,
  waitForInbox,
  type DeliveryAnswer,
  type WorkerProcess,
} from './support/webhooks.js';

/*
 * Issue 9's scale-out shape on one machine: API processes and `pay worker` processes over one
 * PostgreSQL, as several machines behind a load balancer would run them.
 *
 * First, two API processes on two ports (so the test, not a balancer, decides which process gets each
 * request) and two workers take payments and Stripe's webhooks at once: payments under idempotency keys,
 * a share of them sent again on the other process (after the answer, or at the same moment), each event
 * delivered twice, to both processes, while the workers apply them. Nothing is lost (every payment
 * answered and recorded, every event stored and applied), nothing is done twice (one intent and one
 * charge per payment at Stripe, one row per event, one move into `succeeded` per payment), and the
 * per-key rate limit, low on purpose, is one count across both processes: exactly the limit allowed.
 * K1–K5 after `pay recover`.
 *
 * Then the cluster entry (`PAY_PROCESSES=2 node dist/cluster.js`): two workers on one port take
 * payments, share the rate limit, a worker killed with SIGKILL is replaced, and SIGTERM drains every
 * worker and exits 0. It refuses several processes on the embedded database.
 *
 * SEED=<n> replays the mix of retries; SCALE_OUT_PAYMENTS=<n> changes the size (60 by default).
 */

const PAYMENTS = Number(process.env.SCALE_OUT_PAYMENTS ?? 60);
/**
 * Per minute per key: low, so each payment has a key of its own, which its sends, replays and 409
 * retries stay far below.
 */
const RATE_LIMIT = 40;
const EXTRA_REQUESTS = 15;
const CONCURRENCY = 12;

type Retry = 'none' | 'after' | 'together';

interface Made {
  readonly retry: Retry;
  readonly first: HttpAnswer;
  readonly second: HttpAnswer | null;
}

function paymentIdOf(answer: HttpAnswer): string {
  const parsed = JSON.parse(answer.body) as { id?: unknown };
  if (typeof parsed.id !== 'string') {
    throw new Error(`no payment id in ${answer.body}`);
  }
  return parsed.id;
}

/** `count` requests alternating between the URLs, `concurrency` at a time: each one's status. */
async function burst(urls: readonly string[], apiKey: string, count: number): Promise<(number | null)[]> {
  const targets = Array.from({ length: count }, (_, i) => urls[i % urls.length] as string);
  return fromSenders(targets, 8, async (url) => (await getOnNewConnection(url, apiKey)).status);
}

describe('scale-out: API processes and workers over one PostgreSQL', () => {
  let battery: Battery;
  const apis: ApiProcess[] = [];
  const workers: WorkerProcess[] = [];
  let cluster: ClusterProcess | undefined;
  let pay: Pay | undefined;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    battery = await openBattery('battery_scale_out');
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(apis.map((a) => a.stop()));
    await cluster?.stop();
    await pay?.close();
    await battery?.close();
  });

  it('takes payments and webhooks on two API processes with two workers: nothing lost, nothing twice, one rate limit', async () => {
    const seed = seedOf();
    const random = seededRandom(seed);
    figure(
      'scale-out',
      `SEED=${seed}, ${PAYMENTS} payments, 2 API processes, 2 workers, limit ${RATE_LIMIT}/min`,
    );
    const env = { STRIPE_WEBHOOK_SECRETS: secret, PAY_RATE_LIMIT: String(RATE_LIMIT) };
    let started = performance.now();
    apis.push(...(await Promise.all([battery.startApi(env), battery.startApi(env)])));
    for (let i = 0; i < 2; i++) {
      workers.push(startWorker(battery.env(env)));
    }
    pay = await openPay(battery, env);
    const keys = await createServiceKeys(battery, PAYMENTS, 'scale-out');
    figure('scale-out', `processes started in ${since(started)} ms`);
    const [a, b] = apis as [ApiProcess, ApiProcess];

    // Stripe's side: every event the sandbox has recorded and not yet sent, each to both processes at
    // once (which one stores it first is a race the inbox must settle), while the payments go on.
    const sender = [createWebhookSender(a.url, 16), createWebhookSender(b.url, 16)] as const;
    const sent = new Set<string>();
    const answers: DeliveryAnswer[] = [];
    const deliverNew = async (): Promise<number> => {
      const events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
      const fresh = events.filter((e) => !sent.has(e.id));
      fresh.forEach((e) => sent.add(e.id));
      await fromSenders(fresh, 8, async (event) => {
        const payload = payloadOf(event);
        answers.push(...(await Promise.all(sender.map((s) => s.deliver(payload, secret)))));
      });
      return fresh.length;
    };
    let paying = true;
    const pump = (async () => {
      while (paying) {
        await deliverNew();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    // The payments: the first attempt alternates between the processes; a retry goes to the other one.
    started = performance.now();
    const retries: Retry[] = Array.from({ length: PAYMENTS }, () => {
      const r = random();
      return r < 0.5 ? 'none' : r < 0.75 ? 'after' : 'together';
    });
    let made: Made[];
    try {
      made = await fromSenders(
        retries.map((retry, i) => ({ retry, i })),
        CONCURRENCY,
        async ({ retry, i }): Promise<Made> => {
          const [first, other] = i % 2 === 0 ? [a, b] : [b, a];
          const apiKey = keys[i] as string;
          const key = newIdempotencyKey(`scale-out-${i}`);
          const body = battery.body();
          const send = (api: ApiProcess) => () => postPayment(api.url, apiKey, key, body);
          if (retry === 'together') {
            const [one, two] = await Promise.all([
              retryUntilFinal(send(first)),
              retryUntilFinal(send(other)),
            ]);
            return { retry, first: one.final, second: two.final };
          }
          const one = await retryUntilFinal(send(first));
          const two = retry === 'after' ? await retryUntilFinal(send(other)) : null;
          return { retry, first: one.final, second: two?.final ?? null };
        },
      );
    } finally {
      paying = false;
      await pump;
    }
    figure('scale-out', `${PAYMENTS} payments answered in ${since(started)} ms: ${tally(retries)}`);
    // The events of the last payments, and Stripe's later updates (a charge's, a second on): until a
    // listing a while after the last one finds nothing new.
    do {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } while ((await deliverNew()) > 0);
    sender.forEach((s) => s.close());
    const drained = await waitForInbox(pay, isDrained, 'scale-out');
    figure('scale-out', `inbox drained: ${JSON.stringify(drained.counts)}`);

    // Every payment answered 201 succeeded, and the second answer for a key is the first one again.
    const statuses = made.map(
      (m) => `${m.first.status} ${(JSON.parse(m.first.body) as { status?: string }).status}`,
    );
    expect(statuses.filter((s) => s !== '201 succeeded')).toEqual([]);
    const differing = made.filter((m) => m.second !== null && m.second.body !== m.first.body);
    expect(
      differing.map((m) => `${describeAnswer(m.first)} vs ${describeAnswer(m.second as HttpAnswer)}`),
    ).toEqual([]);
    const ids = made.map((m) => paymentIdOf(m.first));
    expect(new Set(ids).size).toBe(PAYMENTS);

    // Recorded once each: one payment row per answer, one move into succeeded per payment.
    const state = await readPayState(battery.database.url);
    expect(state.payments.map((p) => p.id).sort()).toEqual([...ids].sort());
    expect(state.payments.filter((p) => p.status !== 'succeeded')).toEqual([]);
    const moves = await readCausedMoves(battery.database.url);
    const intoSucceeded = moves.filter((m) => m.table === 'payment_events' && m.toStatus === 'succeeded');
    expect(intoSucceeded.length).toBe(PAYMENTS);
    expect(new Set(intoSucceeded.map((m) => m.objectId)).size).toBe(PAYMENTS);
    expect(await illegalPaymentMoves(battery)).toEqual([]);

    // Charged once each at Stripe: one intent and one charge per payment.
    const stripe = await readSandboxState(battery.ctx.sandbox);
    const intents = new Set(state.payments.map((p) => p.stripe_payment_intent_id));
    expect(stripe.paymentIntents.length).toBe(PAYMENTS);
    expect(stripe.paymentIntents.filter((pi) => !intents.has(pi.id)).map((pi) => pi.id)).toEqual([]);
    const charged = stripe.charges.map((c) =>
      typeof c.payment_intent === 'string' ? c.payment_intent : c.payment_intent?.id,
    );
    expect(charged.length).toBe(PAYMENTS);
    expect(new Set(charged).size).toBe(PAYMENTS);

    // Every delivery acknowledged; every event stored once and applied (or ignored, a type pay has no
    // use for) once.
    figure(
      'scale-out',
      `${answers.length} deliveries of ${sent.size} events: ${tally(answers.map((x) => String(x.status ?? x.error)))}`,
    );
    expect(answers.length).toBe(2 * sent.size);
    expect(answers.filter((x) => x.status !== 200).slice(0, 5)).toEqual([]);
    const inbox = await readInbox(battery.database.url);
    const events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
    expect(events.filter((e) => !sent.has(e.id)).map((e) => e.id)).toEqual([]);
    expect(inbox.map((r) => r.stripeEventId).sort()).toEqual([...sent].sort());
    expect(inbox.filter((r) => r.status !== 'processed' && r.status !== 'ignored').slice(0, 5)).toEqual([]);
    figure('scale-out', `inbox: ${tally(inbox.map((r) => `${r.type} ${r.status}`))}`);

    // One rate limit across both processes: a fresh key, the limit and a few more requests, alternating
    // between them, within one clock minute (the limiter's window).
    const [limited] = await createServiceKeys(battery, 1, 'scale-out limited');
    await awaitRoomInMinute(20_000);
    started = performance.now();
    const urls = [a, b].map((api) => `${api.url}/api/v1/payments/${ids[0] ?? ''}`);
    const limitStatuses = await burst(urls, limited as string, RATE_LIMIT + EXTRA_REQUESTS);
    figure('scale-out', `rate limit burst in ${since(started)} ms: ${tally(limitStatuses.map(String))}`);
    expect(tally(limitStatuses.map(String))).toBe(`200×${RATE_LIMIT}, 429×${EXTRA_REQUESTS}`);
    const perProcess = [0, 1].map((p) => limitStatuses.filter((s, i) => i % 2 === p && s === 200).length);
    figure('scale-out', `allowed by process: ${perProcess.join(' + ')}`);

    // The other keys still answer: the limit is per key, not per process.
    const other = await getJson(a.url, `/api/v1/payments/${ids[0] ?? ''}`, keys[0] as string);
    expect(other.kind === 'http' ? other.status : other.error).toBe(200);

    const report = await battery.recoverAndCheck('scale-out');
    expect(report.violations.slice(0, 10)).toEqual([]);
  });

  it('runs N API processes on one port with PAY_PROCESSES: one rate limit, a dead worker replaced, SIGTERM drains all', async () => {
    // The first test's processes are done; this one's own (the database and sandbox are shared).
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await Promise.all(apis.splice(0).map((a) => a.stop()));
    let started = performance.now();
    cluster = await startCluster(
      battery.env({ PAY_PROCESSES: '2', PAY_RATE_LIMIT: String(RATE_LIMIT), PAY_LOG_LEVEL: 'info' }),
      2,
    );
    const c = cluster;
    const [first, second] = c.startedPids();
    figure('cluster', `2 workers (pids ${first}, ${second}) ready in ${since(started)} ms`);
    expect(new Set([first, second, c.child.pid]).size).toBe(3);

    // Payments on the one port, each on a connection of its own; a second send of each is a replay.
    const [payKey, limitedKey] = await createServiceKeys(battery, 2, 'cluster');
    const made = await fromSenders(
      Array.from({ length: 10 }, (_, i) => i),
      4,
      async (i) => {
        const key = newIdempotencyKey(`cluster-${i}`);
        const body = battery.body();
        const send = () => postPayment(c.url, payKey as string, key, body);
        const one = await retryUntilFinal(send);
        const two = await retryUntilFinal(send);
        return { one: one.final, two: two.final };
      },
    );
    expect(
      made.map((m) => `${m.one.status} ${m.two.status} ${m.two.replayed} ${m.one.body === m.two.body}`),
    ).toEqual(made.map(() => '201 201 true true'));

    // One count for the key across the workers: exactly the limit allowed, `RateLimit-Remaining` one
    // sequence (every value from limit−1 down to 0 once).
    await awaitRoomInMinute(20_000);
    const answers = await fromSenders(
      Array.from({ length: RATE_LIMIT + EXTRA_REQUESTS }, (_, i) => i),
      8,
      () =>
        getOnNewConnection(
          `${c.url}/api/v1/payments/${paymentIdOf(made[0]?.one as HttpAnswer)}`,
          limitedKey as string,
        ),
    );
    expect(tally(answers.map((x) => String(x.status)))).toBe(`200×${RATE_LIMIT}, 429×${EXTRA_REQUESTS}`);
    const remaining = answers.filter((x) => x.status === 200).map((x) => x.remaining ?? -1);
    expect(remaining.sort((x, y) => y - x)).toEqual(
      Array.from({ length: RATE_LIMIT }, (_, i) => RATE_LIMIT - 1 - i),
    );

    // A worker killed outright is logged and replaced; the port keeps answering.
    started = performance.now();
    process.kill(first as number, 'SIGKILL');
    await waitFor(c, () => c.startedPids().length >= 3, 'a replacement worker');
    const replacement = c.startedPids()[2] as number;
    figure('cluster', `worker ${first} killed, replaced by ${replacement} in ${since(started)} ms`);
    const died = logLines(c.output(), 'pay cluster worker died; starting a replacement');
    expect(died.map((entry) => [entry.pid, entry.signal])).toEqual([[first, 'SIGKILL']]);
    const ready = await fetch(`${c.url}/readyz`);
    expect(ready.status).toBe(200);

    // SIGTERM: every worker drains and stops, then the primary exits 0.
    started = performance.now();
    const exit = await c.stop();
    figure('cluster', `stopped in ${since(started)} ms: ${JSON.stringify(exit)}`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(logLines(c.output(), 'pay stopped').length).toBe(2);
    expect([second, replacement].filter((pid) => pid !== undefined && isAlive(pid))).toEqual([]);
    expect(logLines(c.output(), 'pay cluster stopped').map((entry) => entry.failed)).toEqual([false]);

    const report = await battery.recoverAndCheck('cluster');
    expect(report.violations.slice(0, 10)).toEqual([]);
  });

  it('refuses PAY_PROCESSES above 1 on the embedded database, and a PAY_PROCESSES that is not a count', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pay-cluster-'));
    try {
      const run = async (env: Record<string, string>) => {
        const proc = spawnCluster({ PAY_DATA_DIR: dataDir, PAY_LOG_LEVEL: 'warn', ...env }, await freePort());
        return { exit: await proc.exited, output: proc.output() };
      };
      const embedded = await run({ PAY_PROCESSES: '2' });
      expect(embedded.exit.code).toBe(1);
      expect(embedded.output).toContain('PAY_PROCESSES=2: the embedded database (PGlite in');
      const bad = await run({ PAY_PROCESSES: 'two' });
      expect(bad.exit.code).toBe(1);
      expect(bad.output).toContain('PAY_PROCESSES: expected an integer from 1 to 64, got "two"');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
