import { checkInvariants, formatReport, readPayState, readSandboxState } from '@pay/reliability';
import { startBackendKiller, type BackendKiller } from './support/backend-killer.js';
import { openBattery, type Battery } from './support/battery.js';
import { NIGHTLY, figure, seedOf, seededRandom, since, tally } from './support/figures.js';
import { describeAnswer } from './support/client.js';
import { freePort, startApi, type ApiProcess } from './support/processes.js';
import { issueApiKeys } from './support/refunds.js';
import { Traffic, unexpectedOutcomes, type Attempt, type FlowResult } from './support/traffic.js';
import { mixFlows } from './support/traffic-mix.js';
import { listSandboxEvents, newWebhookSecret } from './support/webhooks.js';

/*
 * RELIABILITY.md C3, PostgreSQL connections killed mid-transaction: the real API process (with its
 * webhook worker, recovery loop and renewal scheduler running) takes waves of concurrent flows — card
 * payments, 3-D Secure payments whose holder comes back, declines, admin refunds, signed webhook
 * deliveries — while a killer terminates pay's PostgreSQL sessions at seeded moments: all of them, only
 * those inside a transaction, or only those running a statement. Every answer must be final (2xx/4xx) or
 * a 503 `dependency_unavailable` with `Retry-After`; never a 500, never a dropped connection (the process
 * stays up). Clients retry with the same key until final; then `pay recover` and K1–K5 must be clean,
 * with one successful charge per succeeded payment in the sandbox.
 */

const WAVES = NIGHTLY ? 10 : 2;
const FLOWS = 50;
/** The pause before each kill round, drawn uniformly (ms). */
const KILL_PAUSE_MS: readonly [number, number] = [40, 400];
/** A wave that has not ended by then is hung (5x what a wave takes under kills on 2 busy cores). */
const WAVE_GUARD_MS = 150_000;
/**
 * A short lock timeout: a key whose unlock was cut by a kill (or whose commit's answer was lost) is taken
 * over by the client's retry seconds later, not a minute later.
 */
const TUNING = {
  PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS: '5000',
  PAY_STRIPE_TIMEOUT_MS: '2500',
  PAY_STRIPE_MAX_NETWORK_RETRIES: '0',
};

function errorCodeOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : null;
  } catch {
    return null;
  }
}

/** Answers that break C3's rule: a 5xx that is not a retryable 503 with Retry-After, or no answer at all. */
function badAnswers(attempts: readonly Attempt[]): string[] {
  const bad: string[] = [];
  for (const a of attempts) {
    if (a.answer.kind === 'network') {
      bad.push(`flow ${a.flow} ${a.what}: no answer (${a.answer.error})`);
      continue;
    }
    const { status, body } = a.answer;
    if (status < 500) {
      continue;
    }
    const code = a.answer.code ?? errorCodeOf(body);
    // The webhook sender does not keep headers; its 503 is checked by code, and Stripe retries any 5xx.
    const retryAfterOk = a.what === 'webhook' || a.answer.retryAfter !== null;
    if (status !== 503 || code !== 'dependency_unavailable' || !retryAfterOk) {
      bad.push(`flow ${a.flow} ${a.what}: ${status} ${code ?? ''} Retry-After ${a.answer.retryAfter}`);
    }
  }
  return bad;
}

/** Payments whose intent has more than one successful charge, or whose refunds pass the capture. */
async function ledgerProblems(battery: Battery, succeeded: ReadonlySet<string>): Promise<string[]> {
  const [pay, sandbox] = await Promise.all([
    readPayState(battery.database.url),
    readSandboxState(battery.ctx.sandbox),
  ]);
  const problems: string[] = [];
  for (const payment of pay.payments) {
    const charges = sandbox.charges.filter(
      (c) => c.payment_intent === payment.stripe_payment_intent_id && c.status === 'succeeded',
    );
    if (charges.length > 1 || (succeeded.has(payment.id) && charges.length !== 1)) {
      problems.push(`${payment.id}: ${charges.length} successful charges`);
    }
    for (const charge of charges) {
      if (charge.amount_refunded > charge.amount) {
        problems.push(`${payment.id}: ${charge.amount_refunded} refunded of ${charge.amount}`);
      }
    }
  }
  return problems;
}

function guarded<T>(promise: Promise<T>, ms: number, what: string, explain: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not end within ${ms} ms (hang guard):\n${explain()}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The last lines the API wrote. */
function tail(api: ApiProcess): string {
  return api.output().split('\n').slice(-40).join('\n');
}

/** For a hang: each unfinished flow's last answers and how long ago its last request ended. */
function describeStuck(traffic: Traffic, flows: readonly number[], api: ApiProcess | undefined): string {
  const now = performance.now();
  const lines = flows.map((flow) => {
    const mine = traffic.attempts.filter((a) => a.flow === flow);
    const last = mine.at(-1);
    const answers = mine.slice(-4).map((a) => `${a.what} ${describeAnswer(a.answer)}`);
    return `flow ${flow}: ${mine.length} answers (${answers.join('; ')}), last ${last === undefined ? 'never' : `${Math.round(now - last.end)} ms ago`}`;
  });
  return [...lines, '--- API output (tail) ---', api === undefined ? '' : tail(api)].join('\n');
}

describe('C3: PostgreSQL connections killed mid-transaction (RELIABILITY.md C3)', () => {
  let battery: Battery;
  let api: ApiProcess | undefined;
  let traffic: Traffic | undefined;
  let killer: BackendKiller | undefined;

  beforeAll(async () => {
    battery = await openBattery('battery_c3');
  });

  afterEach(async () => {
    await killer?.stop();
    killer = undefined;
    traffic?.close();
    await api?.stop();
    api = undefined;
  });

  afterAll(async () => {
    await battery?.close();
  });

  it(`${WAVES} waves of ${FLOWS} flows under seeded pg_terminate_backend kills get only final answers or 503 + Retry-After, converge with the same keys, and end clean (K1–K5)`, async () => {
    const seed = seedOf();
    figure('C3', `seed ${seed} (replay with SEED=${seed}); ${WAVES} waves of ${FLOWS} flows`);
    const random = seededRandom(seed);
    const [admin] = await issueApiKeys(battery, 'admin', ['battery c3 admin']);
    if (admin === undefined) {
      throw new Error('no admin key');
    }
    const webhookSecret = newWebhookSecret();
    // The worker runs in the API process: its loops must outlive the kills too.
    const env = battery.env({ ...TUNING, STRIPE_WEBHOOK_SECRETS: webhookSecret, PAY_WORKER: 'true' });
    const port = await freePort();
    traffic = new Traffic({
      battery,
      adminKey: admin.secret,
      webhookSecret,
      baseUrl: `http://127.0.0.1:${port}`,
    });
    const running = traffic;
    api = await startApi(env, port);

    // Payments to refund from the first wave on, made before any kill.
    const warmup = await Promise.all(
      Array.from({ length: 8 }, (_, i) => running.run({ flow: -1 - i, kind: 'card' })),
    );
    const refundable = warmup.flatMap((r) => (r.paymentId === null ? [] : [r.paymentId]));
    const succeeded = new Set(refundable);
    const attemptsBefore = running.attempts.length;

    const started = performance.now();
    killer = startBackendKiller(battery.database.url, random, KILL_PAUSE_MS);
    const done: FlowResult[] = [];
    for (let wave = 1; wave <= WAVES; wave++) {
      const waveStart = performance.now();
      const events = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
      const flows = mixFlows(FLOWS, wave * 1000, random, refundable, events);
      const finished = new Set<number>();
      const alive = api;
      const results = await guarded(
        Promise.race([
          // A process that dies under a kill (an unhandled rejection, a driver crash) fails the wave at once.
          alive.exited.then((exit): never => {
            throw new Error(`the API exited ${JSON.stringify(exit)} in wave ${wave}:\n${tail(alive)}`);
          }),
          Promise.all(
            flows.map((f) =>
              running.run(f).then((r) => {
                finished.add(f.flow);
                return r;
              }),
            ),
          ),
        ]),
        WAVE_GUARD_MS,
        `wave ${wave}`,
        () =>
          describeStuck(
            running,
            flows.map((f) => f.flow).filter((n) => !finished.has(n)),
            api,
          ),
      );
      for (const r of results) {
        if ((r.kind === 'card' || r.kind === 'three_ds') && r.paymentId !== null) {
          if (r.outcomes.join(' ') === '201 succeeded') {
            refundable.push(r.paymentId);
          }
          if (r.outcomes[0] === '201 succeeded') {
            succeeded.add(r.paymentId);
          }
        }
      }
      done.push(...results);
      figure(
        `C3 wave ${wave}`,
        `${FLOWS} flows final in ${since(waveStart)} ms; outcomes ${tally(results.map((r) => r.outcomes.join(' → ')))}`,
      );
    }
    const kills = await killer.stop();
    killer = undefined;
    const trafficMs = since(started);

    const attempts = running.attempts.slice(attemptsBefore);
    const statuses = tally(
      attempts.map((a) => (a.answer.kind === 'http' ? String(a.answer.status) : 'network')),
    );
    const retries =
      done.reduce((n, r) => n + r.attempts, 0) - done.reduce((n, r) => n + r.outcomes.length, 0);
    const unavailable = attempts.filter((a) => a.answer.kind === 'http' && a.answer.status === 503);
    figure(
      'C3',
      `kills ${JSON.stringify(kills.killed)} sessions in ${JSON.stringify(kills.rounds)} rounds over ${trafficMs} ms; ` +
        `${attempts.length} requests: ${statuses}; 503s by step ${tally(unavailable.map((a) => a.what))}; ` +
        `${retries} retries with the same key`,
    );

    // The process stayed up through every kill.
    expect({ exitCode: api.child.exitCode, signal: api.child.signalCode }).toEqual({
      exitCode: null,
      signal: null,
    });

    const recoverStart = performance.now();
    const invariants = await battery.recoverAndCheck('C3');
    const recoverMs = since(recoverStart);
    const report = await checkInvariants(battery.ctx);
    const ledger = await ledgerProblems(battery, succeeded);
    const apiOutput = api.output();
    const unhandled = apiOutput.split('\n').filter((line) => line.includes('unhandled error')).length;
    figure('C3', `pay recover + K1–K5 ${recoverMs} ms; ${formatReport(invariants)}`);
    const loopFailures = tally(
      apiOutput
        .split('\n')
        .flatMap(
          (line) =>
            /(webhook pass|recovery pass|refund recovery pass|renewal pass|webhook catch-up) failed/.exec(
              line,
            )?.[1] ?? [],
        ),
    );
    // The worker's loops log a pass a kill cut short and go on: the process is still up (asserted above).
    figure(
      'C3',
      `API log: ${unhandled} unhandled errors; worker passes cut by a kill: ${loopFailures || 'none'}`,
    );
    expect({
      seed,
      bad: badAnswers(attempts),
      unexpected: unexpectedOutcomes(done),
      violations: report.violations,
      ledger,
      unhandled,
    }).toEqual({ seed, bad: [], unexpected: [], violations: [], ledger: [], unhandled: 0 });
  });
});
