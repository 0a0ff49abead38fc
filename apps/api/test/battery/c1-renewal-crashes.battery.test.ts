import { RENEWAL_CRASH_POINTS, type RenewalCrashPoint } from '@pay/core';
import {
  checkInvariants,
  formatReport,
  readPayState,
  readSandboxState,
  type SandboxState,
} from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { waitForStaleLocks, type PaymentCrashPoint } from './support/crash.js';
import { figure, since, tally } from './support/figures.js';
import { TestClock, openInProcessPay, subscribe } from './support/in-process-pay.js';
import { moveShape, readLedgerMoves, repeatedEffects, type LedgerMove } from './support/ledger-moves.js';
import { runCli } from './support/processes.js';
import {
  monthlyPeriodEnd,
  readSubscriptionPayments,
  readSubscriptions,
  renewalsOf,
  type SubscriptionRow,
} from './support/renewal-rows.js';

/*
 * RELIABILITY.md C1 for the renewal flow: a real `pay worker --once` is SIGKILLed (PAY_FAULTS) at each
 * named point of a renewal — the renewal job's own (RENEWAL_CRASH_POINTS) and the payment flow's points a
 * renewal's charge passes through — each on a subscription of its own that owes its next monthly period.
 * Then, once the killed runs' key locks are stale: one `pay recover` pass and K1–K5, then one unarmed
 * `pay worker --once`, whose renewal pass settles what the crashes left. Every subscription has paid its
 * period exactly once — one renewal payment, one charge in the sandbox's ledger, one PaymentIntent —
 * its ledger rows are those of a subscription renewed without a crash (no row doubled), and K1–K5 hold.
 *
 * The subscriptions are made with pay's services in this process on a clock set 40 days back (so the
 * real clock of the `pay worker` processes finds the next period due, and only that one); the sandbox
 * runs on the real clock, as the worker does.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const [AFTER_PAYMENT_INSERT, AFTER_CHARGE_BEFORE_SETTLE] = RENEWAL_CRASH_POINTS;

type MatrixPoint = RenewalCrashPoint | PaymentCrashPoint;

/** What a crash at each point leaves: the renewal payment in pay, and its PaymentIntent at Stripe. */
interface LeftBehind {
  readonly payment: string;
  readonly intentRecorded: boolean;
  /** The renewal's intent at Stripe, `none` when nothing was sent. */
  readonly stripe: string;
  /** The renewal's idempotency key: still locked (a stale lock recovery takes over) or finished. */
  readonly keyLocked: boolean;
}

/**
 * The matrix, in the order the armed runs go. A run renews the due subscriptions oldest first and dies
 * at its point on the first it can charge: the ones before it hold a locked key (`waiting`). A point
 * that finishes the key must come last: a later run would settle its subscription before recovery.
 * (`payment.after_commit_before_response` leaves exactly `renewal.after_charge_before_settle`'s state:
 * the flow returns and the renewal reaches that point next, so it is not a row of its own.)
 */
const MATRIX: readonly { point: MatrixPoint; left: LeftBehind }[] = [
  {
    point: AFTER_PAYMENT_INSERT,
    left: { payment: 'pending', intentRecorded: false, stripe: 'none', keyLocked: true },
  },
  {
    point: 'payment.before_create_intent',
    left: { payment: 'pending', intentRecorded: false, stripe: 'none', keyLocked: true },
  },
  {
    point: 'payment.after_create_intent_before_commit',
    left: { payment: 'pending', intentRecorded: false, stripe: 'requires_confirmation', keyLocked: true },
  },
  {
    point: 'payment.before_confirm',
    left: { payment: 'pending', intentRecorded: true, stripe: 'requires_confirmation', keyLocked: true },
  },
  {
    point: 'payment.after_confirm_before_commit',
    left: { payment: 'pending', intentRecorded: true, stripe: 'succeeded', keyLocked: true },
  },
  {
    point: AFTER_CHARGE_BEFORE_SETTLE,
    left: { payment: 'succeeded', intentRecorded: true, stripe: 'succeeded', keyLocked: false },
  },
];

/** Subscriptions due after the crashed ones, renewed only by the recovery run: the uncrashed baseline. */
const BASELINE = 2;

const iso = (d: Date | null | undefined) => d?.toISOString() ?? 'null';

type SandboxIntent = SandboxState['paymentIntents'][number];
type SandboxCharge = SandboxState['charges'][number];

function customerOf(object: Pick<SandboxIntent | SandboxCharge, 'customer'>): string {
  return typeof object.customer === 'string' ? object.customer : (object.customer?.id ?? 'none');
}

function intentOfCharge(charge: SandboxCharge): string {
  return typeof charge.payment_intent === 'string'
    ? charge.payment_intent
    : (charge.payment_intent?.id ?? '');
}

/** A subscription's ledger as shapes: its own rows, then its renewal payment's. */
function shapesOf(
  moves: readonly LedgerMove[],
  subscriptionId: string,
  renewalId: string | undefined,
): string {
  const own = moves.filter((m) => m.table === 'subscription_events' && m.objectId === subscriptionId);
  const renewal = moves.filter((m) => m.table === 'payment_events' && m.objectId === renewalId);
  return `subscription ${own.map(moveShape).join(', ')}; renewal ${renewal.map((m) => `${moveShape(m)} ${m.amount}`).join(', ')}`;
}

describe('crashes in the renewal flow', () => {
  let battery: Battery;

  beforeAll(async () => {
    battery = await openBattery('battery_c1_renewals');
  });

  afterAll(async () => {
    await battery?.close();
  });

  it(`C1: one recovery pass and one \`pay worker --once\` finish what a killed \`pay worker --once\` left at each of ${MATRIX.length} renewal crash points; every period is charged once`, async () => {
    const started = performance.now();
    // Every renewal crash point is in the matrix (a new one must be added to it).
    expect(RENEWAL_CRASH_POINTS.filter((p) => !MATRIX.some((row) => row.point === p))).toEqual([]);

    // The subscriptions, a minute apart 40 days back: the matrix's first, then the baseline.
    const base = new Date(Math.floor((Date.now() - 40 * DAY) / MINUTE) * MINUTE);
    const clock = new TestClock(base);
    const inProcess = await openInProcessPay(battery, clock);
    const ids: string[] = [];
    try {
      for (let i = 0; i < MATRIX.length + BASELINE; i += 1) {
        clock.set(new Date(base.getTime() + i * MINUTE));
        ids.push(await subscribe(battery, inProcess, `c1-renewal-${i}`));
      }
    } finally {
      await inProcess.close();
    }
    const before = await readSubscriptions(battery.database.url);
    const subscriptionOf = (id: string, rows: readonly SubscriptionRow[]): SubscriptionRow => {
      const row = rows.find((s) => s.id === id);
      if (row === undefined) {
        throw new Error(`no subscription ${id}`);
      }
      return row;
    };
    // Due now by the real clock, and only this period: the next one lies weeks ahead.
    const now = Date.now();
    expect(
      ids.filter((id) => {
        const s = subscriptionOf(id, before);
        const due = s.nextBillingAt?.getTime() ?? Infinity;
        return !(
          s.status === 'active' &&
          due <= now &&
          monthlyPeriodEnd(s.currentPeriodStart, 2).getTime() > now
        );
      }),
    ).toEqual([]);
    figure(
      'C1 renewals',
      `${ids.length} subscriptions due since ${iso(subscriptionOf(ids[0] ?? '', before).nextBillingAt)} in ${since(started)} ms`,
    );

    // One armed `pay worker --once` per point. Webhook catch-up is off in them and their lock timeout
    // long, so no armed run touches the state an earlier crash left: each is recovered only after.
    const crashes: { point: MatrixPoint; subscriptionId: string; diedAt: number }[] = [];
    const killStarted = performance.now();
    for (const [i, { point, left }] of MATRIX.entries()) {
      const subscriptionId = ids[i] ?? '';
      const run = await runCli(
        ['worker', '--once', '--json'],
        battery.env({
          PAY_FAULTS: point,
          PAY_WEBHOOK_CATCH_UP: 'false',
          PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS: String(60 * MINUTE),
        }),
      );
      const diedAt = performance.now();
      if (run.exit.signal !== 'SIGKILL' || !run.stderr.includes(`crash point ${point} reached`)) {
        throw new Error(
          `${point}: pay worker --once did not die there (${JSON.stringify(run.exit)}):\n${run.stdout}\n${run.stderr}`,
        );
      }
      crashes.push({ point, subscriptionId, diedAt });

      const payments = await readSubscriptionPayments(battery.database.url);
      const state = await readPayState(battery.database.url);
      const sandbox = await readSandboxState(battery.ctx.sandbox);
      const subscription = subscriptionOf(subscriptionId, await readSubscriptions(battery.database.url));
      const renewals = renewalsOf(payments, subscriptionId);
      const renewal = renewals[0];
      const key = state.idempotencyKeys.find((k) => k.resource_id === renewal?.id);
      const firstIntents = new Set(
        payments.filter((p) => p.billingReason === 'subscription_create').map((p) => p.stripePaymentIntentId),
      );
      const stripeIntents = sandbox.paymentIntents.filter(
        (pi) => customerOf(pi) === subscription.stripeCustomerId && !firstIntents.has(pi.id),
      );
      const got = {
        point,
        renewals: renewals.length,
        payment: renewal?.status,
        intentRecorded: renewal?.stripePaymentIntentId !== null,
        stripe: stripeIntents.map((pi) => pi.status).join(',') || 'none',
        keyLocked: key?.locked_at !== null,
        // The subscription does not show the renewal yet: it still owes the period.
        stillDue:
          subscription.nextBillingAt?.getTime() ===
          subscriptionOf(subscriptionId, before).nextBillingAt?.getTime(),
        // The runs before died on the subscriptions before: none of the later ones was touched.
        laterTouched: ids.slice(i + 1).filter((id) => renewalsOf(payments, id).length > 0).length,
      };
      figure(
        'C1 renewals',
        `${point}: renewal ${renewal?.id ?? 'none'} ${got.payment ?? ''}, intent ${renewal?.stripePaymentIntentId ?? 'unrecorded'}, ` +
          `Stripe ${got.stripe}, key ${key?.recovery_point ?? 'none'}${got.keyLocked ? ' (locked)' : ''}`,
      );
      expect(got).toEqual({ point, renewals: 1, ...left, stillDue: true, laterTouched: 0 });
    }
    figure('C1 renewals', `killed ${crashes.length} pay worker --once runs in ${since(killStarted)} ms`);
    await waitForStaleLocks('C1 renewals', crashes);

    // The restart: one recovery pass, and K1–K5 already hold (the subscriptions are settled next).
    const recoveryStarted = performance.now();
    await battery.recoverAndCheck('C1 renewals');
    const afterRecover = since(recoveryStarted);
    const run = await runCli(['worker', '--once', '--json'], battery.env());
    figure(
      'C1 renewals',
      `pay worker --once: exit ${JSON.stringify(run.exit)} ${JSON.stringify(JSON.parse(run.stdout || '{}'))}`,
    );
    expect(run.exit).toEqual({ code: 0, signal: null });
    const pass = JSON.parse(run.stdout) as {
      renewals: Record<string, number>;
      recovery: { failures: number };
    };
    // The crashed ones are settled from their payments (no new charge); the baseline is charged now.
    expect(pass.renewals).toEqual({
      attempted: BASELINE,
      renewed: ids.length,
      failed: 0,
      expired: 0,
      canceled: 0,
      waiting: 0,
      failures: 0,
    });
    figure(
      'C1 renewals',
      `recovery of the whole matrix (pay recover ${afterRecover} ms, then pay worker --once): ${since(recoveryStarted)} ms (RELIABILITY.md C1: < 60 s)`,
    );

    // Every subscription paid its period once, and moved to the next one.
    const after = await readSubscriptions(battery.database.url);
    const payments = await readSubscriptionPayments(battery.database.url);
    const describe = (id: string) => {
      const was = subscriptionOf(id, before);
      const s = subscriptionOf(id, after);
      const renewals = renewalsOf(payments, id).map(
        (p) =>
          `${iso(p.billingPeriodStart)}..${iso(p.billingPeriodEnd)} #${p.renewalAttempt} ${p.status} ${p.amount}`,
      );
      return `${s.status} ${iso(s.currentPeriodStart)}..${iso(s.currentPeriodEnd)} next ${iso(s.nextBillingAt)} dunning ${s.dunningAttempts}; renewals ${JSON.stringify(renewals)} (was ${iso(was.currentPeriodStart)})`;
    };
    const want = (id: string) => {
      const was = subscriptionOf(id, before);
      const start = was.currentPeriodEnd;
      const end = monthlyPeriodEnd(was.currentPeriodStart, 2);
      return `active ${iso(start)}..${iso(end)} next ${iso(end)} dunning 0; renewals ${JSON.stringify([`${iso(start)}..${iso(end)} #0 succeeded ${battery.planAmount}`])} (was ${iso(was.currentPeriodStart)})`;
    };
    expect(ids.map(describe)).toEqual(ids.map(want));

    // The sandbox's ledger: per customer two PaymentIntents and two succeeded charges (the first payment
    // and the renewal), and every renewal charge belongs to that subscription's one renewal payment.
    const sandbox = await readSandboxState(battery.ctx.sandbox);
    const perCustomer = (id: string) => {
      const customer = subscriptionOf(id, after).stripeCustomerId;
      const intents = sandbox.paymentIntents.filter((pi) => customerOf(pi) === customer);
      const charges = sandbox.charges.filter((c) => customerOf(c) === customer);
      const renewal = renewalsOf(payments, id)[0];
      return {
        intents: intents.length,
        charges: tally(charges.map((c) => c.status)),
        renewalCharges: charges.filter((c) => intentOfCharge(c) === renewal?.stripePaymentIntentId).length,
      };
    };
    figure(
      'C1 renewals',
      `sandbox: ${sandbox.paymentIntents.length} intents, ${sandbox.charges.length} charges (${tally(sandbox.charges.map((c) => c.status))})`,
    );
    expect(ids.map(perCustomer)).toEqual(
      ids.map(() => ({ intents: 2, charges: 'succeeded×2', renewalCharges: 1 })),
    );
    expect(sandbox.charges).toHaveLength(2 * ids.length);

    // The ledger of each crashed subscription and its renewal is the baseline's: nothing doubled.
    const moves = await readLedgerMoves(battery.database.url);
    const shapes = ids.map((id) => shapesOf(moves, id, renewalsOf(payments, id)[0]?.id));
    const baseline = shapes[MATRIX.length];
    figure('C1 renewals', `ledger of a subscription renewed without a crash: ${baseline ?? 'none'}`);
    figure(
      'C1 renewals',
      `causes of the renewals' rows: ${tally(moves.filter((m) => payments.some((p) => p.billingReason === 'subscription_cycle' && p.id === m.objectId)).map((m) => m.cause.replace(/evt_\w+/, 'evt').replace(/req_\S+/, 'req')))}`,
    );
    expect(shapes).toEqual(ids.map(() => baseline));
    expect(repeatedEffects(moves)).toEqual([]);

    const report = await checkInvariants(battery.ctx);
    figure('C1 renewals', formatReport(report));
    expect(report.violations).toEqual([]);
    figure(
      'C1 renewals',
      `whole matrix (subscribe, kill, wait out the locks, recover, renew, check): ${since(started)} ms`,
    );
  });
});
