import { renewalHarness, type RenewalHarness } from '../../test/memory/renewal-harness.js';
import type { Subscription } from '../domain/entities.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS } from './idempotency.js';
import { RENEWAL_CRASH_POINTS } from './renewal-service.js';

/* Renewals bill every period exactly once: over a year, across two schedulers, a crash and an outage. */

let h: RenewalHarness;

beforeEach(async () => {
  h = await renewalHarness();
});

const STALE = DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1;
const day = (iso: string) => iso.slice(0, 10);

/** Moves the clock to the earliest next billing time of `subscriptions`. */
function moveToNextBilling(subscriptions: readonly Subscription[]): void {
  const times = subscriptions.map((s) => h.subscription(s.id).nextBillingAt?.getTime() ?? Infinity);
  h.moveTo(new Date(Math.min(...times)));
}

describe('a year of monthly renewals', () => {
  it('bills each period of each subscription exactly once, with month ends kept (Jan 31 → Feb 28 → Mar 31)', async () => {
    const subscriptions = [
      await h.subscribe('user-a'),
      await h.subscribe('user-b'),
      await h.subscribe('user-c'),
    ];
    expect(subscriptions.map((s) => day(s.currentPeriodEnd.toISOString()))).toEqual([
      '2026-02-28',
      '2026-02-28',
      '2026-02-28',
    ]);
    const renewals = h.renewals();
    for (let month = 0; month < 12; month += 1) {
      moveToNextBilling(subscriptions);
      expect(await renewals.renewDue()).toEqual({
        attempted: 3,
        renewed: 3,
        failed: 0,
        expired: 0,
        canceled: 0,
        waiting: 0,
        failures: [],
      });
      // A second pass, and one later in the period, find nothing to do.
      expect(await renewals.renewDue()).toMatchObject({ attempted: 0, renewed: 0, waiting: 0 });
      h.clock.advance(3 * 24 * 60 * 60 * 1000);
      expect(await renewals.renewDue()).toMatchObject({ attempted: 0, renewed: 0 });
    }

    for (const { id } of subscriptions) {
      const now = h.subscription(id);
      expect(now).toMatchObject({ status: 'active', dunningAttempts: 0 });
      expect(day(now.currentPeriodStart.toISOString())).toBe('2027-01-31');
      expect(day(now.currentPeriodEnd.toISOString())).toBe('2027-02-28');
      expect(now.nextBillingAt).toEqual(now.currentPeriodEnd);
      const paid = h.renewalsOf(id);
      expect(paid.map((p) => day(p.billingPeriodEnd?.toISOString() ?? ''))).toEqual([
        '2026-03-31',
        '2026-04-30',
        '2026-05-31',
        '2026-06-30',
        '2026-07-31',
        '2026-08-31',
        '2026-09-30',
        '2026-10-31',
        '2026-11-30',
        '2026-12-31',
        '2027-01-31',
        '2027-02-28',
      ]);
      expect(paid.every((p) => p.status === 'succeeded' && p.amount === 2000 && p.renewalAttempt === 0)).toBe(
        true,
      );
      // One first payment and twelve renewals: thirteen confirmations Stripe acted on, thirteen intents.
      expect(h.confirmationsActedOn(id)).toBe(13);
      const payments = new Set(
        h.memory.tables.payments.filter((p) => p.subscriptionId === id).map((p) => p.id),
      );
      expect(
        h.gateway.allIntents().filter((i) => i.paymentId !== null && payments.has(i.paymentId)),
      ).toHaveLength(13);
      const events = await h.store.repos.subscriptions.listEvents(id);
      const renewalsEvents = events.filter((e) => e.cause.job === 'renewals');
      expect(renewalsEvents).toHaveLength(12);
      expect(renewalsEvents.every((e) => e.fromStatus === 'active' && e.toStatus === 'active')).toBe(true);
      expect(renewalsEvents.every((e) => e.amount === 2000 && e.cause.paymentId !== undefined)).toBe(true);
    }
    expect(h.renewalEvents.filter((e) => e === 'attempted')).toHaveLength(36);
    expect(h.renewalEvents.filter((e) => e === 'succeeded')).toHaveLength(36);
  });

  it('confirms renewals off-session with a key derived from (subscription, period, try)', async () => {
    const subscription = await h.subscribe('user-a');
    moveToNextBilling([subscription]);
    await h.renewals().renewDue();
    const [renewal] = h.renewalsOf(subscription.id);
    expect(renewal?.stripeIdempotencyKey).toBe(`pay:${subscription.id}:2026-02-28T12:00:00.000Z:0`);
    expect(h.gateway.intentReturnUrl(renewal?.stripePaymentIntentId ?? '')).toBeNull();
    expect(
      h.gateway.calls
        .filter((c) => c.idempotencyKey?.startsWith(`pay:${subscription.id}:`))
        .map((c) => c.method),
    ).toEqual(['createIntent', 'confirmIntent']);
  });

  it('renews a yearly plan once a year, for the plan’s amount', async () => {
    const yearly = await h.memory.store.repos.plans.create({
      accountId: h.account.id,
      name: 'Pro yearly',
      amount: 20_000,
      currency: 'usd',
      interval: 'year',
    });
    const subscription = await h.subscribe('user-y', { plan: yearly });
    expect(day(subscription.currentPeriodEnd.toISOString())).toBe('2027-01-31');
    const renewals = h.renewals();
    h.moveTo(new Date('2026-12-31T12:00:00.000Z'));
    expect(await renewals.renewDue()).toMatchObject({ attempted: 0 });
    moveToNextBilling([subscription]);
    expect(await renewals.renewDue()).toMatchObject({ attempted: 1, renewed: 1 });
    expect(h.subscription(subscription.id)).toMatchObject({
      currentPeriodStart: new Date('2027-01-31T12:00:00.000Z'),
      currentPeriodEnd: new Date('2028-01-31T12:00:00.000Z'),
      nextBillingAt: new Date('2028-01-31T12:00:00.000Z'),
    });
    expect(h.renewalsOf(subscription.id).map((p) => [p.amount, p.status])).toEqual([[20_000, 'succeeded']]);
  });
});

describe('two schedulers at once', () => {
  it('never bill a period twice', async () => {
    const subscriptions = [
      await h.subscribe('user-a'),
      await h.subscribe('user-b'),
      await h.subscribe('user-c'),
    ];
    const [one, two] = [h.renewals(), h.renewals()];
    for (let month = 0; month < 3; month += 1) {
      moveToNextBilling(subscriptions);
      const reports = await Promise.all([one.renewDue(), two.renewDue()]);
      expect(reports.map((r) => r.failures)).toEqual([[], []]);
      // Both really ran at once: each began charges, and the other met them in flight.
      expect(reports.every((r) => r.attempted > 0)).toBe(true);
      expect(reports.reduce((sum, r) => sum + r.renewed, 0)).toBe(3);
      expect(reports.reduce((sum, r) => sum + r.attempted, 0)).toBe(3);
    }
    for (const { id } of subscriptions) {
      expect(h.renewalsOf(id).map((p) => p.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(h.confirmationsActedOn(id)).toBe(4);
      expect(day(h.subscription(id).currentPeriodEnd.toISOString())).toBe('2026-05-31');
    }
  });
});

describe('a scheduler that dies mid-renewal', () => {
  it('is finished by a later pass without a second charge (crash after the charge)', async () => {
    const subscription = await h.subscribe('user-a');
    moveToNextBilling([subscription]);
    h.faults.arm('renewal.after_charge_before_settle');
    await expect(h.renewals().renewDue()).rejects.toThrow(/process is gone/);
    expect(h.subscription(subscription.id).currentPeriodEnd).toEqual(subscription.currentPeriodEnd);
    expect(h.renewalsOf(subscription.id).map((p) => p.status)).toEqual(['succeeded']);

    h.faults.restart();
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 0, renewed: 1, failures: [] });
    expect(h.confirmationsActedOn(subscription.id)).toBe(2);
    expect(h.subscription(subscription.id).currentPeriodEnd).toEqual(new Date('2026-03-31T12:00:00.000Z'));
  });

  it('is finished by the recovery job, then settled by the next pass (crash after the payment insert)', async () => {
    const subscription = await h.subscribe('user-a');
    moveToNextBilling([subscription]);
    h.faults.arm('renewal.after_payment_insert');
    await expect(h.renewals().renewDue()).rejects.toThrow(/process is gone/);
    h.faults.restart();
    // The dead scheduler's key is still locked: nobody charges until it goes stale.
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 0, waiting: 1 });
    expect(h.gateway.calls.filter((c) => c.idempotencyKey?.startsWith(`pay:${subscription.id}:`))).toEqual(
      [],
    );

    h.clock.advance(STALE);
    expect(await h.service().recover()).toMatchObject({ keysResumed: 1, failures: [] });
    expect(h.renewalsOf(subscription.id).map((p) => p.status)).toEqual(['succeeded']);
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 0, renewed: 1 });
    expect(h.confirmationsActedOn(subscription.id)).toBe(2);
    expect(h.subscription(subscription.id)).toMatchObject({ status: 'active', dunningAttempts: 0 });
  });

  it.each(RENEWAL_CRASH_POINTS)('at %s, is finished by a pass once the lock is stale', async (point) => {
    const subscription = await h.subscribe('user-a');
    moveToNextBilling([subscription]);
    h.faults.arm(point);
    await expect(h.renewals().renewDue()).rejects.toThrow(/process is gone/);
    h.faults.restart();
    h.clock.advance(STALE);
    expect(await h.renewals().renewDue()).toMatchObject({ renewed: 1, failures: [] });
    expect(h.renewalsOf(subscription.id)).toHaveLength(1);
    expect(h.confirmationsActedOn(subscription.id)).toBe(2);
  });
});

describe('Stripe not answering', () => {
  it('leaves the renewal waiting and the subscription due; the next pass charges it once', async () => {
    const subscription = await h.subscribe('user-a');
    moveToNextBilling([subscription]);
    h.gateway.fail('confirmIntent', 'unavailable_after');
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 1, waiting: 1, failures: [] });
    expect(h.renewalsOf(subscription.id).map((p) => p.status)).toEqual(['pending']);
    expect(h.subscription(subscription.id).status).toBe('active');

    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 0, renewed: 1 });
    expect(h.confirmationsActedOn(subscription.id)).toBe(2);
    expect(h.renewalsOf(subscription.id).map((p) => p.status)).toEqual(['succeeded']);
  });

  it('counts a subscription that fails in `failures` and goes on with the others', async () => {
    const first = await h.subscribe('user-a');
    const second = await h.subscribe('user-b');
    moveToNextBilling([first, second]);
    h.gateway.fail('createIntent', 'unknown_state');
    const report = await h.renewals().renewDue();
    expect(report).toMatchObject({ attempted: 2, renewed: 1 });
    expect(report.failures).toEqual([
      { id: expect.any(String) as unknown, error: expect.stringContaining('odd') as unknown },
    ]);
    const failed = report.failures[0]?.id;
    const renewed = [first, second].find((s) => s.id !== failed);
    expect(renewed && h.subscription(renewed.id).currentPeriodEnd).toEqual(
      new Date('2026-03-31T12:00:00.000Z'),
    );
    // The failed one is still due and is renewed by the next pass, with the payment it began.
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 0, renewed: 1, failures: [] });
    for (const { id } of [first, second]) {
      expect(h.renewalsOf(id).map((p) => p.status)).toEqual(['succeeded']);
    }
  });
});

describe('renew (the card-change retry)', () => {
  it('does nothing for an active subscription that is not due', async () => {
    const subscription = await h.subscribe('user-a');
    const calls = h.gateway.count();
    expect(await h.renewals().renew(subscription.id)).toEqual({
      kind: 'not_due',
      subscriptionId: subscription.id,
    });
    expect(h.gateway.count()).toBe(calls);
  });

  it('refuses an unknown subscription', async () => {
    const subscription = await h.subscribe('user-a');
    const unknown = subscription.id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) as Subscription['id'];
    await expect(h.renewals().renew(unknown)).rejects.toMatchObject({ code: 'not_found' });
  });
});
