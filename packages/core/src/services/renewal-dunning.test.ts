import { renewalHarness, type RenewalHarness } from '../../test/memory/renewal-harness.js';
import type { Subscription } from '../domain/entities.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS } from './idempotency.js';

/* Dunning: a failed renewal makes the subscription past_due, retried on the schedule until it pays or expires. */

let h: RenewalHarness;

beforeEach(async () => {
  h = await renewalHarness();
});

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const FIRST_RENEWAL = new Date('2026-02-28T12:00:00.000Z');

/** An active subscription whose saved card from now on is charged as the twin's `alias`. */
async function subscriptionWithCard(alias: string): Promise<Subscription> {
  const subscription = await h.subscribe('user-a');
  h.gateway.changeCard(h.stripeCardOf(subscription), alias);
  return subscription;
}

/** The subscription's events written by the renewal job, as [from, to, amount]. */
async function renewalEvents(id: Subscription['id']) {
  const events = await h.store.repos.subscriptions.listEvents(id);
  return events.filter((e) => e.cause.job === 'renewals').map((e) => [e.fromStatus, e.toStatus, e.amount]);
}

/** What the user does in H3b's card change: a new card attached at Stripe and saved on the subscription. */
async function changeCard(subscription: Subscription, alias: string): Promise<void> {
  const customer = h.memory.tables.customers.find((c) => c.id === subscription.customerId);
  const attached = await h.gateway.attachPaymentMethod({
    stripeCustomerId: customer?.stripeCustomerId ?? '',
    paymentMethod: alias,
    idempotencyKey: `test-attach-${alias}`,
  });
  if (attached.kind !== 'attached') {
    throw new Error('the twin refused the card');
  }
  const card = await h.store.repos.paymentMethods.upsertByStripeId({
    accountId: subscription.accountId,
    customerId: subscription.customerId,
    ...attached.card,
  });
  const current = h.subscription(subscription.id);
  await h.store.repos.subscriptions.transition(
    subscription.id,
    { from: current.status, to: current.status, patch: { paymentMethodId: card.id } },
    { requestId: 'req_card' },
  );
}

describe('dunning', () => {
  it('a declined renewal makes the subscription past_due, and the retry a day later recovers it', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    const renewals = h.renewals();
    h.moveTo(FIRST_RENEWAL);
    expect(await renewals.renewDue()).toMatchObject({ attempted: 1, renewed: 0, failed: 1, failures: [] });
    expect(h.subscription(subscription.id)).toMatchObject({
      status: 'past_due',
      dunningAttempts: 1,
      nextBillingAt: new Date('2026-03-01T12:00:00.000Z'),
      currentPeriodEnd: FIRST_RENEWAL,
    });
    expect(h.renewalsOf(subscription.id).map((p) => [p.renewalAttempt, p.status, p.declineCode])).toEqual([
      [0, 'failed', 'generic_decline'],
    ]);

    h.moveTo(new Date('2026-03-01T11:59:59.999Z'));
    expect(await renewals.renewDue()).toMatchObject({ attempted: 0 });

    h.gateway.changeCard(h.stripeCardOf(subscription), 'pm_card_visa');
    h.moveTo(new Date('2026-03-01T12:00:00.000Z'));
    expect(await renewals.renewDue()).toMatchObject({ attempted: 1, renewed: 1, failed: 0 });
    expect(h.subscription(subscription.id)).toMatchObject({
      status: 'active',
      dunningAttempts: 0,
      currentPeriodStart: FIRST_RENEWAL,
      currentPeriodEnd: new Date('2026-03-31T12:00:00.000Z'),
      nextBillingAt: new Date('2026-03-31T12:00:00.000Z'),
    });
    // Every try is a payment of its own, with its own Stripe key.
    const tries = h.renewalsOf(subscription.id);
    expect(tries.map((p) => [p.renewalAttempt, p.status])).toEqual([
      [0, 'failed'],
      [1, 'succeeded'],
    ]);
    expect(new Set(tries.map((p) => p.stripeIdempotencyKey)).size).toBe(2);
    expect(await renewalEvents(subscription.id)).toEqual([
      ['active', 'past_due', 0],
      ['past_due', 'active', 2000],
    ]);
    expect(h.renewalEvents).toEqual(['attempted', 'failed', 'attempted', 'succeeded']);
  });

  it('retries on days 1, 3, 7 and 14, then expires the subscription', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    const renewals = h.renewals();
    h.moveTo(FIRST_RENEWAL);
    const kinds: string[] = [];
    const retryTimes: string[] = [];
    for (let pass = 0; pass < 5; pass += 1) {
      const report = await renewals.renewDue();
      expect(report).toMatchObject({ attempted: 1, failed: 1, failures: [] });
      kinds.push(report.expired === 1 ? 'expired' : h.subscription(subscription.id).status);
      const next = h.subscription(subscription.id).nextBillingAt;
      if (next !== null) {
        retryTimes.push(next.toISOString());
        h.moveTo(next);
      }
    }
    expect(kinds).toEqual(['past_due', 'past_due', 'past_due', 'past_due', 'expired']);
    expect(retryTimes).toEqual([
      '2026-03-01T12:00:00.000Z',
      '2026-03-03T12:00:00.000Z',
      '2026-03-07T12:00:00.000Z',
      '2026-03-14T12:00:00.000Z',
    ]);
    expect(h.subscription(subscription.id)).toMatchObject({
      status: 'expired',
      dunningAttempts: 5,
      nextBillingAt: null,
      endedAt: new Date('2026-03-14T12:00:00.000Z'),
    });
    expect(h.renewalsOf(subscription.id).map((p) => [p.renewalAttempt, p.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'failed'],
    ]);
    expect(await renewalEvents(subscription.id)).toEqual([
      ['active', 'past_due', 0],
      ['past_due', 'past_due', 0],
      ['past_due', 'past_due', 0],
      ['past_due', 'past_due', 0],
      ['past_due', 'expired', 0],
    ]);
    h.clock.advance(60 * DAY);
    expect(await renewals.renewDue()).toMatchObject({ attempted: 0, expired: 0 });
  });

  it('follows a configured schedule', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    const renewals = h.renewals({ dunningSchedule: [HOUR] });
    h.moveTo(FIRST_RENEWAL);
    await renewals.renewDue();
    expect(h.subscription(subscription.id).nextBillingAt).toEqual(new Date(FIRST_RENEWAL.getTime() + HOUR));
    h.clock.advance(HOUR);
    expect(await renewals.renewDue()).toMatchObject({ attempted: 1, failed: 1, expired: 1 });
    expect(h.subscription(subscription.id).status).toBe('expired');
  });

  it('a card that needs authentication off-session makes the subscription past_due, with no 3-D Secure page', async () => {
    const [input, request] = h.request('key-3ds-first-payment-1', {
      paymentMethodId: 'pm_card_threeDSecure2Required',
    });
    const first = await h.service().create(input, request);
    expect(first.result.kind).toBe('requires_action');
    const firstPayment = first.result.view.payment;
    h.gateway.completeThreeDSecure(firstPayment.stripePaymentIntentId ?? '', true);
    await h.service().completeReturn(firstPayment.id, 'req_return');
    const id = firstPayment.subscriptionId;
    if (id === null) {
      throw new Error('no subscription');
    }
    expect(h.subscription(id).status).toBe('active');

    h.moveTo(h.subscription(id).nextBillingAt ?? FIRST_RENEWAL);
    expect(await h.renewals().renewDue()).toMatchObject({ attempted: 1, failed: 1 });
    expect(h.subscription(id)).toMatchObject({ status: 'past_due', dunningAttempts: 1 });
    const [renewal] = h.renewalsOf(id);
    expect(renewal).toMatchObject({
      status: 'failed',
      failureCode: 'authentication_required',
      nextActionUrl: null,
    });
    expect(h.gateway.intentReturnUrl(renewal?.stripePaymentIntentId ?? '')).toBeNull();
  });

  it('a renewal still processing keeps the subscription due and is settled once Stripe decides', async () => {
    const subscription = await subscriptionWithCard('pm_card_twinProcessing');
    const renewals = h.renewals();
    h.moveTo(FIRST_RENEWAL);
    expect(await renewals.renewDue()).toMatchObject({ attempted: 1, waiting: 1 });
    expect(await renewals.renewDue()).toMatchObject({ attempted: 0, waiting: 1 });
    expect(h.confirmationsActedOn(subscription.id)).toBe(2);

    const [renewal] = h.renewalsOf(subscription.id);
    h.gateway.settle(renewal?.stripePaymentIntentId ?? '', 'failed');
    h.clock.advance(DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS + 1);
    await h.service().recover();
    expect(await renewals.renewDue()).toMatchObject({ attempted: 0, failed: 1 });
    expect(h.subscription(subscription.id)).toMatchObject({
      status: 'past_due',
      nextBillingAt: new Date('2026-03-01T12:00:00.000Z'),
    });
  });
});

describe('retrying at once after a card change (renew)', () => {
  it('charges the new card now, before the scheduled retry, and returns the subscription to active', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    h.moveTo(FIRST_RENEWAL);
    await h.renewals().renewDue();
    h.clock.advance(HOUR);
    await changeCard(subscription, 'pm_card_mastercard');

    const outcome = await h.renewals().renew(subscription.id);
    expect(outcome).toMatchObject({ kind: 'renewed', subscriptionId: subscription.id });
    const tries = h.renewalsOf(subscription.id);
    expect(tries.map((p) => [p.renewalAttempt, p.status])).toEqual([
      [0, 'failed'],
      [1, 'succeeded'],
    ]);
    expect(tries[1]?.paymentMethodId).toBe(h.subscription(subscription.id).paymentMethodId);
    expect(tries[1]?.paymentMethodId).not.toBe(tries[0]?.paymentMethodId);
    expect(h.subscription(subscription.id)).toMatchObject({ status: 'active', dunningAttempts: 0 });
    expect(await h.renewals().renew(subscription.id)).toEqual({
      kind: 'not_due',
      subscriptionId: subscription.id,
    });
  });

  it('a retry that fails again counts a try and keeps the schedule', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    h.moveTo(FIRST_RENEWAL);
    await h.renewals().renewDue();
    h.clock.advance(HOUR);
    expect(await h.renewals().renew(subscription.id)).toMatchObject({
      kind: 'past_due',
      nextRetryAt: new Date('2026-03-03T12:00:00.000Z'),
    });
    expect(h.subscription(subscription.id).dunningAttempts).toBe(2);
  });
});

describe('cancellation at period end', () => {
  async function cancelAtPeriodEnd(subscription: Subscription): Promise<void> {
    const current = h.subscription(subscription.id);
    await h.store.repos.subscriptions.transition(
      subscription.id,
      {
        from: current.status,
        to: current.status,
        patch: { cancelAtPeriodEnd: true, canceledAt: h.clock.now() },
      },
      { requestId: 'req_cancel' },
    );
  }

  it('takes effect when the period ends, with no charge', async () => {
    const subscription = await h.subscribe('user-a');
    await cancelAtPeriodEnd(subscription);
    const renewals = h.renewals();
    const calls = h.gateway.count();
    h.moveTo(new Date(FIRST_RENEWAL.getTime() - 1));
    expect(await renewals.renewDue()).toMatchObject({ canceled: 0, attempted: 0 });
    expect(h.subscription(subscription.id).status).toBe('active');

    h.moveTo(FIRST_RENEWAL);
    expect(await renewals.renewDue()).toMatchObject({ canceled: 1, attempted: 0, renewed: 0 });
    expect(h.subscription(subscription.id)).toMatchObject({
      status: 'canceled',
      endedAt: FIRST_RENEWAL,
      nextBillingAt: null,
    });
    expect(h.renewalsOf(subscription.id)).toEqual([]);
    expect(h.gateway.count()).toBe(calls);
    expect(await renewalEvents(subscription.id)).toEqual([['active', 'canceled', 0]]);
  });

  it('undone before the end, the subscription renews as usual', async () => {
    const subscription = await h.subscribe('user-a');
    await cancelAtPeriodEnd(subscription);
    await h.store.repos.subscriptions.transition(
      subscription.id,
      { from: 'active', to: 'active', patch: { cancelAtPeriodEnd: false, canceledAt: null } },
      { requestId: 'req_resume' },
    );
    h.moveTo(FIRST_RENEWAL);
    expect(await h.renewals().renewDue()).toMatchObject({ renewed: 1, canceled: 0 });
  });

  it('ends a past_due subscription instead of retrying it', async () => {
    const subscription = await subscriptionWithCard('pm_card_chargeCustomerFail');
    h.moveTo(FIRST_RENEWAL);
    await h.renewals().renewDue();
    await cancelAtPeriodEnd(subscription);
    h.moveTo(new Date('2026-03-01T12:00:00.000Z'));
    expect(await h.renewals().renewDue()).toMatchObject({ canceled: 1, attempted: 0 });
    expect(h.subscription(subscription.id)).toMatchObject({ status: 'canceled', endedAt: FIRST_RENEWAL });
    expect(h.renewalsOf(subscription.id)).toHaveLength(1);
  });
});
