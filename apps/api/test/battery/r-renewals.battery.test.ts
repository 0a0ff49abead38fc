import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS, RENEWAL_CRASH_POINTS, type RenewalReport } from '@pay/core';
import { checkInvariants, formatReport, readSandboxState } from '@pay/reliability';
import { openBattery, type Battery } from './support/battery.js';
import { NIGHTLY, figure, since, tally } from './support/figures.js';
import {
  TestClock,
  accountIdOf,
  openInProcessPay,
  subscribe,
  type InProcessPay,
} from './support/in-process-pay.js';
import { runCli } from './support/processes.js';
import {
  monthlyPeriodEnd,
  paymentsOf,
  readSubscriptionPayments,
  readSubscriptions,
  renewalsOf,
  type SubscriptionRow,
} from './support/renewal-rows.js';

/*
 * Issue 6's "done means" on real PostgreSQL and the Stripe sandbox (the real `stripe` SDK through
 * @pay/stripe-adapter, as createPay wires it), with pay's services in this process on a clock the test
 * moves (the sandbox's virtual clock moves with it):
 * - a year of monthly renewals for many subscriptions bills every period exactly once, with two
 *   schedulers on two connection pools running every pass at once, and on the last month a third one,
 *   a real `pay worker --once` process, killed between a charge and its settling;
 * - the dunning paths: declined then recovered after the card changed, declined then recovered by the
 *   scheduled retry, declined until the schedule is exhausted (`expired`), and a card that needs
 *   authentication off-session.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const THE_CRASH = RENEWAL_CRASH_POINTS[1];
const SUBSCRIPTIONS = NIGHTLY ? 200 : 40;
/** Start days of the subscriptions: fewer than a month apart, so each month bills each of them once. */
const START_DAYS = 20;
const MONTHS = 12;

/**
 * The days (noon UTC) the subscriptions begin on. The last month is billed by a real `pay worker` too,
 * whose clock is the system's: each start lies 12 to 13 months back (two days' margin each side), so that
 * by the real clock every subscription owes exactly its 12th renewal then, as by the test's. Among those
 * days, the run with the most month ends (29th–31st) is taken, for the clamping of short months.
 */
function startDays(realNow: Date): Date[] {
  const lo = monthlyPeriodEnd(realNow, -13).getTime() + 2 * DAY;
  const hi = monthlyPeriodEnd(realNow, -12).getTime() - 2 * DAY;
  const days: Date[] = [];
  const first = new Date(lo);
  for (
    let t = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate(), 12);
    t <= hi;
    t += DAY
  ) {
    if (t > lo) {
      days.push(new Date(t));
    }
  }
  const size = Math.min(START_DAYS, days.length);
  const monthEnds = (from: number) =>
    days.slice(from, from + size).filter((d) => d.getUTCDate() >= 29).length;
  let best = 0;
  for (let from = 1; from + size <= days.length; from += 1) {
    if (monthEnds(from) > monthEnds(best)) {
      best = from;
    }
  }
  return days.slice(best, best + size);
}

function sumOf(
  reports: readonly RenewalReport[],
  field: 'attempted' | 'renewed' | 'failed' | 'waiting',
): number {
  return reports.reduce((sum, r) => sum + r[field], 0);
}

function describeReports(reports: readonly RenewalReport[]): string {
  return reports
    .map((r, i) => `#${i + 1} attempted ${r.attempted}, renewed ${r.renewed}, waiting ${r.waiting}`)
    .join('; ');
}

const iso = (d: Date | null) => d?.toISOString() ?? 'null';

describe('a year of monthly renewals', () => {
  const realNow = new Date();
  const days = startDays(realNow);
  const firstDay = days[0] ?? realNow;
  const clock = new TestClock(firstDay);
  let battery: Battery;
  const schedulers: InProcessPay[] = [];

  /** Moves pay's clock and the sandbox's together. */
  const moveTo = (at: Date) => {
    clock.set(at);
    battery.sandbox.clock.set(at.getTime());
  };

  beforeAll(async () => {
    battery = await openBattery('battery_renewals', { clock: 'virtual', startTime: firstDay });
    schedulers.push(await openInProcessPay(battery, clock), await openInProcessPay(battery, clock));
  });

  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.close()));
    await battery?.close();
  });

  it(
    `bills every period of ${SUBSCRIPTIONS} subscriptions exactly once over ${MONTHS} months, across two ` +
      `concurrent schedulers and a \`pay worker\` killed mid-pass`,
    async () => {
      const started = performance.now();
      const [one, two] = schedulers;
      if (one === undefined || two === undefined) {
        throw new Error('the schedulers did not open');
      }
      figure(
        'R',
        `${SUBSCRIPTIONS} subscriptions beginning ${iso(days[0] ?? null).slice(0, 10)}…${iso(days.at(-1) ?? null).slice(0, 10)} ` +
          `(${days.filter((d) => d.getUTCDate() >= 29).length} of ${days.length} start days on the 29th–31st); real now ${iso(realNow)}`,
      );

      // The first payments, a few at a time on each day, alternating between the two processes.
      const anchors = new Map<string, Date>();
      const perDay = Math.ceil(SUBSCRIPTIONS / days.length);
      let made = 0;
      for (const day of days) {
        moveTo(day);
        const batch = Array.from({ length: Math.min(perDay, SUBSCRIPTIONS - made) }, (_, i) => made + i);
        made += batch.length;
        const ids = await Promise.all(
          batch.map((n) => subscribe(battery, n % 2 === 0 ? one : two, `renewal-user-${n}`)),
        );
        for (const id of ids) {
          anchors.set(id, day);
        }
      }
      expect(anchors.size).toBe(SUBSCRIPTIONS);
      figure('R', `first payments: ${SUBSCRIPTIONS} in ${since(started)} ms`);

      const perScheduler = [0, 0];
      for (let month = 1; month <= MONTHS; month += 1) {
        const monthStarted = performance.now();
        const before = await readSubscriptions(battery.database.url);
        const due = Math.max(...before.map((s) => s.nextBillingAt?.getTime() ?? 0));
        moveTo(new Date(due + MINUTE));

        if (month === MONTHS) {
          // The real clock owes this month too: a `pay worker --once` takes part, armed to die between
          // its first renewal charge and that renewal's settling.
          const run = await runCli(['worker', '--once', '--json'], battery.env({ PAY_FAULTS: THE_CRASH }));
          figure('R', `month ${month}: pay worker --once ended ${JSON.stringify(run.exit)}`);
          expect({
            signal: run.exit.signal,
            reached: run.stderr.includes(`crash point ${THE_CRASH} reached`),
          }).toEqual({ signal: 'SIGKILL', reached: true });
          const payments = await readSubscriptionPayments(battery.database.url);
          const subscriptions = await readSubscriptions(battery.database.url);
          // The subscriptions that got this month's renewal: their newest renewal is it.
          const charged = subscriptions
            .map((s) => renewalsOf(payments, s.id))
            .filter((renewals) => renewals.length === month)
            .map((renewals) => renewals[month - 1])
            .filter((p) => p !== undefined);
          const unsettled = subscriptions.filter((s) => charged.some((p) => p.subscriptionId === s.id));
          figure(
            'R',
            `month ${month}: the killed worker charged ${charged.length} renewal(s) (${tally(charged.map((p) => p.status))}); ` +
              `their subscriptions still end ${tally(unsettled.map((s) => iso(s.currentPeriodEnd).slice(0, 10)))}`,
          );
          // It died after its first charge, before settling it: the subscription still shows the old period.
          expect(charged.map((p) => p.status)).toEqual(['succeeded']);
          expect(unsettled.map((s) => s.nextBillingAt?.getTime())).toEqual([
            charged[0]?.billingPeriodStart?.getTime(),
          ]);
        }

        const reports = await Promise.all([one.renewals.renewDue(), two.renewals.renewDue()]);
        const passes = [reports];
        // A subscription another scheduler was charging is `waiting` for this one; whoever finishes settles
        // it. Only a dead scheduler's lock makes anyone wait longer: it is free once stale.
        for (let extra = 0; extra < 3; extra += 1) {
          const left = (await readSubscriptions(battery.database.url)).filter(
            (s) => (s.nextBillingAt?.getTime() ?? Infinity) <= clock.now().getTime(),
          );
          if (left.length === 0) {
            break;
          }
          figure('R', `month ${month}: ${left.length} still due; moving past the lock timeout`);
          clock.advance(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + MINUTE);
          passes.push(await Promise.all([one.renewals.renewDue(), two.renewals.renewDue()]));
        }
        const all = passes.flat();
        reports.forEach((r, i) => (perScheduler[i] = (perScheduler[i] ?? 0) + r.attempted));
        figure(
          'R',
          `month ${month} in ${since(monthStarted)} ms: ${passes.map(describeReports).join(' | then ')}`,
        );
        expect(all.flatMap((r) => r.failures)).toEqual([]);
        expect(sumOf(all, 'failed')).toBe(0);
        // Every subscription renewed once: by one of the two, or settled by them after the killed worker.
        expect(sumOf(all, 'renewed')).toBe(SUBSCRIPTIONS);
        expect(sumOf(all, 'attempted')).toBe(month === MONTHS ? SUBSCRIPTIONS - 1 : SUBSCRIPTIONS);
      }
      figure('R', `charges sent by each in-process scheduler over the year: ${perScheduler.join(', ')}`);
      // Both took part: the year was billed by two schedulers at once, not by one after the other.
      expect(perScheduler.every((n) => n > 0)).toBe(true);

      // pay: twelve succeeded renewals per subscription, one per period, contiguous, month ends clamped.
      const subscriptions = await readSubscriptions(battery.database.url);
      const payments = await readSubscriptionPayments(battery.database.url);
      const wrong: string[] = [];
      const check = (s: SubscriptionRow) => {
        const anchor = anchors.get(s.id);
        if (anchor === undefined) {
          return `${s.id}: not one of the test's`;
        }
        const renewals = renewalsOf(payments, s.id);
        const got = renewals.map(
          (p) =>
            `${iso(p.billingPeriodStart)}..${iso(p.billingPeriodEnd)} #${p.renewalAttempt} ${p.status} ${p.amount}`,
        );
        const want = Array.from(
          { length: MONTHS },
          (_, k) =>
            `${iso(monthlyPeriodEnd(anchor, k + 1))}..${iso(monthlyPeriodEnd(anchor, k + 2))} #0 succeeded ${battery.planAmount}`,
        );
        const state = `${s.status} ${iso(s.currentPeriodStart)}..${iso(s.currentPeriodEnd)} next ${iso(s.nextBillingAt)} dunning ${s.dunningAttempts}`;
        const wantState = `active ${iso(monthlyPeriodEnd(anchor, MONTHS))}..${iso(monthlyPeriodEnd(anchor, MONTHS + 1))} next ${iso(monthlyPeriodEnd(anchor, MONTHS + 1))} dunning 0`;
        return JSON.stringify(got) === JSON.stringify(want) && state === wantState
          ? null
          : `${s.id} (from ${iso(anchor)}): ${state} (want ${wantState}); renewals ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
      };
      for (const s of subscriptions) {
        const problem = check(s);
        if (problem !== null) {
          wrong.push(problem);
        }
      }
      expect(wrong).toEqual([]);
      expect(subscriptions).toHaveLength(SUBSCRIPTIONS);

      // The sandbox: 13 succeeded charges per customer (the first payment and 12 renewals), none failed,
      // and no period charged twice (every charge belongs to one of pay's payments, one per period).
      const sandbox = await readSandboxState(battery.ctx.sandbox);
      const paymentOfIntent = new Map(payments.map((p) => [p.stripePaymentIntentId, p]));
      const perCustomer = new Map<string, number>();
      const perPeriod = new Map<string, number>();
      for (const charge of sandbox.charges) {
        const customer =
          typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? 'none');
        perCustomer.set(
          `${customer} ${charge.status}`,
          (perCustomer.get(`${customer} ${charge.status}`) ?? 0) + 1,
        );
        const intent =
          typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
        const payment = paymentOfIntent.get(intent ?? null);
        const period = `${payment?.subscriptionId ?? `orphan ${intent}`} ${iso(payment?.billingPeriodStart ?? null)}`;
        perPeriod.set(period, (perPeriod.get(period) ?? 0) + 1);
      }
      figure(
        'R',
        `sandbox: ${sandbox.paymentIntents.length} intents, ${sandbox.charges.length} charges (${tally(sandbox.charges.map((c) => c.status))})`,
      );
      expect(sandbox.charges).toHaveLength(SUBSCRIPTIONS * (MONTHS + 1));
      expect([...perCustomer.entries()].filter(([, n]) => n !== MONTHS + 1)).toEqual([]);
      expect(
        subscriptions
          .filter((s) => perCustomer.get(`${s.stripeCustomerId} succeeded`) !== MONTHS + 1)
          .map((s) => s.id),
      ).toEqual([]);
      expect([...perPeriod.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(payments.filter((p) => p.status !== 'succeeded')).toEqual([]);
      expect(payments.filter((p) => p.billingReason === 'subscription_create')).toHaveLength(SUBSCRIPTIONS);
      expect(paymentsOf(payments, [...anchors.keys()][0] ?? '')).toHaveLength(MONTHS + 1);

      const report = await checkInvariants(battery.ctx);
      figure('R', formatReport(report));
      expect(report.violations).toEqual([]);
      figure('R', `the whole year: ${since(started)} ms, ${battery.sandbox.requests().length} Stripe calls`);
    },
  );
});

describe('dunning on the real database', () => {
  const start = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  const clock = new TestClock(start);
  let battery: Battery;
  let pay: InProcessPay;
  let changes = 0;

  const moveTo = (at: Date) => {
    clock.set(at);
    battery.sandbox.clock.set(at.getTime());
  };

  beforeAll(async () => {
    battery = await openBattery('battery_dunning', { clock: 'virtual', startTime: start });
    pay = await openInProcessPay(battery, clock);
  });

  afterAll(async () => {
    await pay?.close();
    await battery?.close();
  });

  /** What `POST /api/v1/subscriptions/:id/payment-method` asks of the service. */
  async function changeCard(subscriptionId: string, card: string) {
    const accountId = accountIdOf(battery);
    changes += 1;
    const key = `battery-dunning-card-change-${String(changes).padStart(8, '0')}`;
    const path = `/api/v1/subscriptions/${subscriptionId}/payment-method`;
    const { view } = await pay.subscriptions.changePaymentMethod(
      { accountId, subscriptionId, paymentMethodId: card },
      { accountId, key, method: 'POST', path, params: { payment_method_id: card }, requestId: `req_${key}` },
    );
    return view;
  }

  async function subscription(id: string): Promise<SubscriptionRow> {
    const row = (await readSubscriptions(battery.database.url)).find((s) => s.id === id);
    if (row === undefined) {
      throw new Error(`no subscription ${id}`);
    }
    return row;
  }

  async function tries(id: string) {
    return renewalsOf(await readSubscriptionPayments(battery.database.url), id).map((p) => ({
      attempt: p.renewalAttempt,
      status: p.status,
      code: p.declineCode ?? p.failureCode,
      nextActionUrl: p.nextActionUrl,
    }));
  }

  function nextBillingOf(s: SubscriptionRow): Date {
    if (s.nextBillingAt === null) {
      throw new Error(`${s.id} has no next billing time`);
    }
    return s.nextBillingAt;
  }

  it('declined renewals go past_due, recover after a card change or on the scheduled retry, expire once the schedule is exhausted; a card needing authentication off-session goes past_due', async () => {
    const started = performance.now();
    const cardChange = await subscribe(battery, pay, 'dunning-card-change');
    const exhausted = await subscribe(battery, pay, 'dunning-exhausted');
    const authentication = await subscribe(battery, pay, 'dunning-authentication');
    // An hour later, so that its first renewal has a pass of its own (the sandbox fault below is for it).
    moveTo(new Date(start.getTime() + 60 * MINUTE));
    const scheduledRetry = await subscribe(battery, pay, 'dunning-scheduled-retry');

    // The cards change while the subscriptions are active: nothing is charged until the next renewal.
    const changed = [
      await changeCard(cardChange, 'pm_card_chargeCustomerFail'),
      await changeCard(exhausted, 'pm_card_chargeCustomerFail'),
      await changeCard(authentication, 'pm_card_authenticationRequired'),
    ];
    expect(changed.map((v) => [v.subscription.status, v.card?.last4])).toEqual([
      ['active', '0341'],
      ['active', '0341'],
      ['active', '3184'],
    ]);

    const firstDue = nextBillingOf(await subscription(cardChange));
    moveTo(firstDue);
    const first = await pay.renewals.renewDue();
    figure('dunning', `first renewals: ${JSON.stringify(first)}`);
    expect(first).toMatchObject({ attempted: 3, renewed: 0, failed: 3, expired: 0, failures: [] });
    const dayAfter = new Date(firstDue.getTime() + DAY);
    for (const id of [cardChange, exhausted, authentication]) {
      expect(await subscription(id)).toMatchObject({
        status: 'past_due',
        dunningAttempts: 1,
        currentPeriodEnd: firstDue,
        nextBillingAt: dayAfter,
      });
    }
    expect(await tries(authentication)).toEqual([
      { attempt: 0, status: 'failed', code: 'authentication_required', nextActionUrl: null },
    ]);

    // Recovered after a card change: the past-due subscription is retried at once, and pays.
    const recovered = await changeCard(cardChange, 'pm_card_visa');
    expect([recovered.subscription.status, recovered.card?.last4]).toEqual(['active', '4242']);
    expect(await subscription(cardChange)).toMatchObject({
      status: 'active',
      dunningAttempts: 0,
      currentPeriodStart: firstDue,
      currentPeriodEnd: monthlyPeriodEnd(start, 2),
    });
    expect((await tries(cardChange)).map((t) => [t.attempt, t.status, t.code])).toEqual([
      [0, 'failed', 'generic_decline'],
      [1, 'succeeded', null],
    ]);

    // Recovered on the scheduled retry: Stripe takes the first try as `processing` and declines it later
    // (the sandbox's fault); pay learns it by recovery, and the retry a day later pays with the same card.
    battery.sandbox.faults.add({
      kind: 'processing',
      match: { method: 'POST', path: '/v1/payment_intents/*/confirm' },
      times: 1,
      outcome: 'failed',
    });
    const retryDue = nextBillingOf(await subscription(scheduledRetry));
    moveTo(retryDue);
    expect(await pay.renewals.renewDue()).toMatchObject({ attempted: 1, waiting: 1, failures: [] });
    const [processing] = renewalsOf(await readSubscriptionPayments(battery.database.url), scheduledRetry);
    expect(processing?.status).toBe('processing');
    battery.sandbox.settle(processing?.stripePaymentIntentId ?? '');
    clock.advance(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + MINUTE);
    const recovery = await pay.payments.recover();
    figure('dunning', `recovery after the decline: ${JSON.stringify(recovery)}`);
    expect(recovery).toMatchObject({ paymentsResolved: 1, failures: [] });
    expect(await pay.renewals.renewDue()).toMatchObject({ attempted: 0, failed: 1, failures: [] });
    expect(await subscription(scheduledRetry)).toMatchObject({
      status: 'past_due',
      dunningAttempts: 1,
      nextBillingAt: new Date(retryDue.getTime() + DAY),
    });

    // A day on: the scheduled retry pays; the other two fail again.
    moveTo(new Date(retryDue.getTime() + DAY));
    expect(await pay.renewals.renewDue()).toMatchObject({
      attempted: 3,
      renewed: 1,
      failed: 2,
      failures: [],
    });
    expect(await subscription(scheduledRetry)).toMatchObject({
      status: 'active',
      dunningAttempts: 0,
      currentPeriodStart: retryDue,
    });
    expect((await tries(scheduledRetry)).map((t) => [t.attempt, t.status, t.code])).toEqual([
      [0, 'failed', 'generic_decline'],
      [1, 'succeeded', null],
    ]);

    // Exhausted: the retries on days 3, 7 and 14 fail too, and the last one expires the subscription.
    const passes: string[] = [];
    for (const days of [3, 7, 14]) {
      moveTo(new Date(firstDue.getTime() + days * DAY));
      const report = await pay.renewals.renewDue();
      passes.push(`day ${days}: ${JSON.stringify(report)}`);
      expect(report.failures).toEqual([]);
    }
    figure('dunning', passes.join('; '));
    expect(await subscription(exhausted)).toMatchObject({
      status: 'expired',
      dunningAttempts: 5,
      nextBillingAt: null,
    });
    expect((await tries(exhausted)).map((t) => [t.attempt, t.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'failed'],
    ]);
    // Nothing more is charged for an expired subscription (later, before the others' next period).
    moveTo(new Date(firstDue.getTime() + 27 * DAY));
    const late = await pay.renewals.renewDue();
    expect(late).toMatchObject({ attempted: 0, failed: 0, expired: 0, failures: [] });

    // The sandbox saw each try once: succeeded charges per customer are the first payment and what paid.
    const rows = await readSubscriptions(battery.database.url);
    const sandbox = await readSandboxState(battery.ctx.sandbox);
    const customerOf = (id: string) => rows.find((s) => s.id === id)?.stripeCustomerId ?? null;
    const intents = (id: string) =>
      sandbox.paymentIntents.filter(
        (i) => (typeof i.customer === 'string' ? i.customer : i.customer?.id) === customerOf(id),
      );
    const counts = (id: string) => ({
      intents: intents(id).length,
      succeeded: intents(id).filter((i) => i.status === 'succeeded').length,
    });
    expect({
      cardChange: counts(cardChange),
      scheduledRetry: counts(scheduledRetry),
      exhausted: counts(exhausted),
    }).toEqual({
      cardChange: { intents: 3, succeeded: 2 },
      scheduledRetry: { intents: 3, succeeded: 2 },
      exhausted: { intents: 6, succeeded: 1 },
    });
    figure(
      'dunning',
      `authentication path: ${JSON.stringify(counts(authentication))}, ${JSON.stringify(await tries(authentication))}`,
    );

    const report = await checkInvariants(battery.ctx);
    figure('dunning', formatReport(report));
    expect(report.violations).toEqual([]);
    figure('dunning', `all paths: ${since(started)} ms`);
  });
});
