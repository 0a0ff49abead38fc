import { randomBytes } from 'node:crypto';
import { checkInvariants, formatReport, readPayState } from '@pay/reliability';
import type { Pay } from '@pay/runtime';
import type { WebhookBatchReport } from '@pay/core';
import { openBattery, type Battery } from './support/battery.js';
import { figure } from './support/figures.js';
import { readCausedMoves } from './support/inbox-rows.js';
import { makePayments, refundInDashboard, type MadePayment } from './support/payment-mix.js';
import type { ApiProcess } from './support/processes.js';
import {
  createWebhookSender,
  illegalPaymentMoves,
  intentOfEvent,
  isDrained,
  listSandboxEvents,
  newWebhookSecret,
  openPay,
  payloadOf,
  type StripeEventJson,
  type WebhookSender,
} from './support/webhooks.js';

/*
 * RELIABILITY.md D5: events for one object arriving out of order or late, or created in the same second,
 * end in the state Stripe has, and nothing moves backward. The sandbox runs on a virtual clock that
 * never moves here, so every event of this file carries the same `created` second: the hardest case,
 * where an event's own timestamp can never tell which came last.
 *
 * Each case delivers chosen events, in a chosen order, to the real API process (which only stores
 * them), and applies each one before the next arrives with the same WebhookService `pay worker` runs
 * (here in the test process, so the order they are applied in is the order chosen). Events a handler
 * parks (fails, to retry later) are then retried until none is left. No `pay recover` runs.
 * Subscription events reversed are out of scope: pay makes no Stripe subscriptions.
 */

describe('D5: out of order, late, and in the same second', () => {
  let battery: Battery;
  let api: ApiProcess;
  let pay: Pay;
  let sender: WebhookSender;
  const secret = newWebhookSecret();

  beforeAll(async () => {
    battery = await openBattery('battery_d5', { clock: 'virtual' });
    const env = { STRIPE_WEBHOOK_SECRETS: secret };
    api = await battery.startApi(env);
    pay = await openPay(battery, env);
    sender = createWebhookSender(api.url, 4);
  });

  afterAll(async () => {
    sender?.close();
    await pay?.close();
    await api?.stop();
    await battery?.close();
  });

  afterEach(async () => {
    expect(await illegalPaymentMoves(battery)).toEqual([]);
    const report = await checkInvariants(battery.ctx);
    figure('D5', formatReport(report));
    expect(report.violations).toEqual([]);
  });

  /** The payment's events in the sandbox, by type (several of a type in creation order). */
  async function eventsOf(payment: MadePayment): Promise<Map<string, StripeEventJson[]>> {
    const all = await listSandboxEvents(battery.sandbox.url, battery.stripeKey);
    const byType = new Map<string, StripeEventJson[]>();
    for (const event of all.filter((e) => intentOfEvent(e) === payment.intentId)) {
      byType.set(event.type, [...(byType.get(event.type) ?? []), event]);
    }
    return byType;
  }

  function one(events: Map<string, StripeEventJson[]>, type: string, index = 0): StripeEventJson {
    const event = events.get(type)?.[index];
    if (event === undefined) {
      throw new Error(`no ${type} #${index}; the payment has ${[...events.keys()].join(', ')}`);
    }
    return event;
  }

  /** Delivers each event (2xx expected) and applies what is due before the next one arrives. */
  async function deliverInOrder(label: string, events: readonly StripeEventJson[]): Promise<void> {
    for (const event of events) {
      const answer = await sender.deliver(payloadOf(event), secret);
      expect({ event: event.type, status: answer.status }).toEqual({ event: event.type, status: 200 });
      const report: WebhookBatchReport = await pay.services.webhooks.processDue();
      figure(label, `${event.type} (${event.id}) → ${JSON.stringify(report)}`);
    }
  }

  /** Applies parked events as their retries fall due, until none waits; hang-guarded. */
  async function settleInbox(label: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      await pay.services.webhooks.processDue();
      const status = await pay.services.webhooks.status();
      if (isDrained(status)) {
        figure(label, `inbox: ${JSON.stringify(status.counts)}`);
        expect(status.counts.dead).toBe(0);
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`${label}: events still waiting: ${JSON.stringify(status.counts)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The statuses a payment's ledger rows moved it through, in order. */
  async function chainOf(paymentId: string): Promise<string[]> {
    const state = await readPayState(battery.database.url);
    return state.paymentEvents.filter((e) => e.object_id === paymentId).map((e) => e.to_status);
  }

  async function paymentRow(paymentId: string) {
    const state = await readPayState(battery.database.url);
    return state.payments.find((p) => p.id === paymentId);
  }

  /** A second Event object for a change Stripe already announced: same object, new event id. */
  function announcedAgain(event: StripeEventJson, changes: Partial<StripeEventJson> = {}): StripeEventJson {
    return { ...event, id: `evt_${randomBytes(12).toString('hex')}`, ...changes };
  }

  it('a late payment_failed and a late requires_action cannot undo succeeded', async () => {
    const [payment] = await makePayments(battery, api, ['3ds_succeeded']);
    if (payment === undefined) {
      throw new Error('no payment');
    }
    const events = await eventsOf(payment);
    const requiresAction = one(events, 'payment_intent.requires_action');
    const succeeded = one(events, 'payment_intent.succeeded');
    expect(requiresAction.created).toBe(succeeded.created);
    // What Stripe sends when an earlier attempt at the same intent failed: a payment_failed event whose
    // snapshot is the intent back at requires_payment_method, arriving after the success.
    const lateFailure = announcedAgain(requiresAction, {
      type: 'payment_intent.payment_failed',
      data: {
        object: {
          ...requiresAction.data.object,
          status: 'requires_payment_method',
          next_action: null,
          last_payment_error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'generic_decline',
            message: 'Your card was declined.',
          },
        },
      },
    });
    await deliverInOrder('D5 late failure', [
      succeeded,
      one(events, 'charge.succeeded'),
      lateFailure,
      requiresAction,
    ]);
    await settleInbox('D5 late failure');

    expect((await paymentRow(payment.paymentId))?.status).toBe('succeeded');
    const chain = await chainOf(payment.paymentId);
    figure('D5 late failure', `ledger: ${chain.join(' → ')}`);
    expect(chain[chain.length - 1]).toBe('succeeded');
    expect(chain).not.toContain('failed');
  });

  it('charge.refunded before payment_intent.succeeded ends refunded as Stripe says', async () => {
    const [threeDs, processing] = await makePayments(battery, api, ['3ds_succeeded', 'processing_succeeded']);
    if (threeDs === undefined || processing === undefined) {
      throw new Error('no payments');
    }
    await refundInDashboard(battery, threeDs, 'partial');
    await refundInDashboard(battery, processing, 'full');

    const a = await eventsOf(threeDs);
    await deliverInOrder('D5 refund first (3-D Secure)', [
      one(a, 'charge.refunded'),
      one(a, 'refund.created'),
      one(a, 'payment_intent.succeeded'),
      one(a, 'charge.succeeded'),
      one(a, 'payment_intent.requires_action'),
    ]);
    const b = await eventsOf(processing);
    await deliverInOrder('D5 refund first (processing)', [
      one(b, 'charge.refunded'),
      one(b, 'payment_intent.succeeded'),
      one(b, 'refund.created'),
      one(b, 'payment_intent.processing'),
    ]);
    await settleInbox('D5 refund first');

    const third = Math.floor(threeDs.amount / 3);
    expect(await paymentRow(threeDs.paymentId)).toMatchObject({
      status: 'partially_refunded',
      amount_refunded: third,
    });
    expect(await paymentRow(processing.paymentId)).toMatchObject({
      status: 'refunded',
      amount_refunded: processing.amount,
    });
    for (const p of [threeDs, processing]) {
      figure('D5 refund first', `${p.kind} ledger: ${(await chainOf(p.paymentId)).join(' → ')}`);
    }
    const state = await readPayState(battery.database.url);
    expect(
      state.refunds
        .filter((r) => r.payment_id === threeDs.paymentId || r.payment_id === processing.paymentId)
        .map((r) => `${r.payment_id === threeDs.paymentId ? '3ds' : 'processing'} ${r.status} ${r.amount}`)
        .sort(),
    ).toEqual([`3ds succeeded ${third}`, `processing succeeded ${processing.amount}`]);
  });

  it('in the same second: two partial refunds arriving newest first both apply, and processing after succeeded changes nothing', async () => {
    const [card, processing] = await makePayments(battery, api, ['succeeded', 'processing_succeeded']);
    if (card === undefined || processing === undefined) {
      throw new Error('no payments');
    }
    await refundInDashboard(battery, card, 'two_partials');
    const a = await eventsOf(card);
    const [first, second] = [one(a, 'charge.refunded', 0), one(a, 'charge.refunded', 1)];
    expect(first.created).toBe(second.created);
    const third = Math.floor(card.amount / 3);
    expect([first.data.object.amount_refunded, second.data.object.amount_refunded]).toEqual([
      third,
      2 * third + 1,
    ]);
    await deliverInOrder('D5 same second (refunds)', [
      second,
      one(a, 'refund.created', 1),
      first,
      one(a, 'refund.created', 0),
    ]);

    const b = await eventsOf(processing);
    expect(one(b, 'payment_intent.processing').created).toBe(one(b, 'payment_intent.succeeded').created);
    await deliverInOrder('D5 same second (processing)', [
      one(b, 'payment_intent.succeeded'),
      one(b, 'payment_intent.processing'),
      one(b, 'charge.succeeded'),
    ]);
    await settleInbox('D5 same second');

    expect(await paymentRow(card.paymentId)).toMatchObject({
      status: 'partially_refunded',
      amount_refunded: 2 * third + 1,
    });
    const state = await readPayState(battery.database.url);
    expect(
      state.refunds
        .filter((r) => r.payment_id === card.paymentId)
        .map((r) => r.amount)
        .sort((x, y) => x - y),
    ).toEqual([third, third + 1]);
    expect((await paymentRow(processing.paymentId))?.status).toBe('succeeded');
    const chain = await chainOf(processing.paymentId);
    figure('D5 same second', `processing ledger: ${chain.join(' → ')}`);
    expect(chain.filter((s) => s === 'processing')).toHaveLength(1);
  });

  it('one refund announced by two different events applies once', async () => {
    const [card] = await makePayments(battery, api, ['succeeded']);
    if (card === undefined) {
      throw new Error('no payment');
    }
    await refundInDashboard(battery, card, 'partial');
    const a = await eventsOf(card);
    const refunded = one(a, 'charge.refunded');
    const created = one(a, 'refund.created');
    await deliverInOrder('D5 one change, two events', [
      refunded,
      announcedAgain(refunded),
      created,
      announcedAgain(created),
    ]);
    await settleInbox('D5 one change, two events');

    const third = Math.floor(card.amount / 3);
    expect(await paymentRow(card.paymentId)).toMatchObject({
      status: 'partially_refunded',
      amount_refunded: third,
    });
    const state = await readPayState(battery.database.url);
    expect(state.refunds.filter((r) => r.payment_id === card.paymentId).map((r) => r.amount)).toEqual([
      third,
    ]);
    // One ledger row moved the refunded amount, whichever of the four events it names.
    const moves = (await readCausedMoves(battery.database.url)).filter(
      (mv) =>
        mv.table === 'payment_events' &&
        mv.objectId === card.paymentId &&
        mv.toStatus === 'partially_refunded',
    );
    expect(moves.map((mv) => mv.amount)).toEqual([third]);
  });
});
