import fc from 'fast-check';
import { NIGHTLY, seedOf } from '../../test/memory/seeded-runs.js';
import type { Delivery } from '../../test/memory/memory-stripe.js';
import { API_BASE, RETURN_ORIGIN } from '../../test/memory/payment-harness.js';
import { refundHarness, type RefundHarness } from '../../test/memory/refund-harness.js';
import {
  InvalidStateError,
  RefundExceedsCapturedError,
  silentLogger,
  type PaymentStatus,
  type RefundStatus,
  type SubscriptionStatus,
} from '../index.js';
import { PAYMENT_CRASH_POINTS, PaymentService } from './payment-service.js';
import { RenewalService } from './renewal-service.js';
import { REFUND_CRASH_POINTS, type RefundService } from './refund-service.js';
import { SubscriptionService } from './subscription-service.js';
import { WEBHOOK_CRASH_POINTS } from './webhook-service.js';

/*
 * RELIABILITY.md I1: a model-based test of the payment flow. Random sequences of what happens to payments
 * — created with cards that succeed, decline or need 3-D Secure; the card holder passing or failing 3-D
 * Secure and coming back; Stripe's webhooks for intents, charges and refunds delivered late, out of order
 * and twice; partial, full and over-the-limit refunds, some left pending at the bank and settled (or
 * failed) later; subscription cancellations; client retries with the same key; and the process dying at a
 * named crash point followed by a recovery pass — run against the real services on the in-memory ports,
 * and against a plain model written here from DESIGN.md §2–§3. After every command the real ledger equals
 * the model (payments, amount_refunded, refunds, subscriptions, and Stripe's side), every event row is a
 * move the model's own table allows, final states never change again, and money stays integer and bounded.
 * At the end of each run every outstanding event is delivered and recovery runs: pay then equals Stripe.
 */

const RUNS = NIGHTLY ? 10_000 : 1_000;
const SEED = seedOf();
/**
 * A hang guard, not a timing assertion: about 8 s for 1,000 runs alone on this machine, but 65 s in CI
 * with every package's tests competing for the two cores.
 */
const HANG_GUARD_MS = NIGHTLY ? 30 * 60_000 : 5 * 60_000;
const LOCK_TIMEOUT_MS = 60_000;

/* ---------------------------------------------------------------------------------------------------
 * The model: DESIGN.md §3's tables, stated here (not read from pay), and what each actor does.
 * ------------------------------------------------------------------------------------------------- */

/**
 * The payment machine. DESIGN.md §3 gives the forward path; a refund that fails at the bank gives its
 * amount back (Stripe lowers the charge's total), so the refund side may also move back towards
 * `succeeded` — never to a status before capture.
 */
const PAYMENT_TABLE: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ['requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  requires_action: ['processing', 'succeeded', 'failed', 'canceled'],
  processing: ['succeeded', 'failed', 'canceled'],
  succeeded: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded', 'succeeded'],
  refunded: ['partially_refunded', 'succeeded'],
  failed: [],
  canceled: [],
};
const SUBSCRIPTION_TABLE: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  incomplete: ['active', 'expired'],
  active: ['past_due', 'canceled'],
  past_due: ['active', 'expired', 'canceled'],
  canceled: [],
  expired: [],
};
/** A refund Stripe reported succeeded may still fail at the bank (its amount is then given back). */
const REFUND_TABLE: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  requires_approval: ['pending', 'canceled'],
  pending: ['succeeded', 'failed', 'canceled'],
  succeeded: ['failed'],
  failed: [],
  canceled: [],
};
const CAPTURED: ReadonlySet<PaymentStatus> = new Set(['succeeded', 'partially_refunded', 'refunded']);
const IN_FLIGHT: ReadonlySet<PaymentStatus> = new Set(['pending', 'requires_action', 'processing']);
const isFinal = <S extends string>(table: Readonly<Record<S, readonly S[]>>, status: S) =>
  table[status].length === 0;

/** Test cards by what they do: Stripe's aliases in the twin. */
type Card = 'visa' | 'attach_decline' | 'charge_decline' | '3ds' | '3ds_decline';
const CARD_ALIAS: Readonly<Record<Card, string>> = {
  visa: 'pm_card_visa',
  attach_decline: 'pm_card_chargeDeclined',
  charge_decline: 'pm_card_chargeCustomerFail',
  '3ds': 'pm_card_threeDSecure2Required',
  '3ds_decline': 'pm_card_threeDSecureRequiredChargeDeclined',
};
/** Two plans, one of an odd amount, so refund arithmetic meets remainders. */
const PLAN_AMOUNTS = [2000, 1337] as const;

type IntentStatus = 'requires_action' | 'succeeded' | 'failed';
type StripeRefundStatus = 'pending' | 'succeeded' | 'failed';
type Answer = 'succeeded' | 'declined' | 'requires_action';

interface ModelPayment {
  readonly card: Card;
  readonly plan: 0 | 1;
  readonly amount: number;
  status: PaymentStatus;
  amountRefunded: number;
  subscription: SubscriptionStatus;
  /** The kind of the answer stored on the payment's idempotency key. */
  answer: Answer;
  /** Stripe's side: the intent (null: the card was refused when attached, no intent) and the charge's total. */
  intent: IntentStatus | null;
  stripeRefunded: number;
}

interface ModelRefund {
  readonly payment: number;
  readonly amount: number;
  status: RefundStatus;
  /** Stripe's refund: null until Stripe was asked (a request killed before it waits for recovery). */
  stripe: StripeRefundStatus | null;
  /** What Stripe answers when asked to create it (its key replays that answer). */
  readonly onCreate: 'succeeded' | 'pending';
  /** pay has recorded Stripe's answer (and so the refund's Stripe id). */
  recorded: boolean;
}

/** An event Stripe sent, as the model knows it: a snapshot of the object when it was sent. */
type ModelEvent =
  | { readonly id: number; readonly kind: 'intent'; readonly payment: number; readonly status: IntentStatus }
  | { readonly id: number; readonly kind: 'charge'; readonly payment: number; readonly total: number }
  | {
      readonly id: number;
      readonly kind: 'refund';
      readonly refund: number;
      readonly type: 'refund.created' | 'refund.updated' | 'refund.failed';
      readonly status: StripeRefundStatus;
    };

interface Model {
  payments: ModelPayment[];
  refunds: ModelRefund[];
  /** Events Stripe will (re)deliver, in the order it sent them. */
  outbox: ModelEvent[];
  /** Event ids pay has taken: a redelivery changes nothing. */
  delivered: Set<number>;
  nextEvent: number;
}

const INTENT_EVENT_TYPE: Readonly<Record<IntentStatus, string>> = {
  requires_action: 'payment_intent.requires_action',
  succeeded: 'payment_intent.succeeded',
  failed: 'payment_intent.payment_failed',
};

/** An event before Stripe numbers it (Omit distributed over the union). */
type Unsent<E> = E extends unknown ? Omit<E, 'id'> : never;

function emit(m: Model, event: Unsent<ModelEvent>): void {
  m.nextEvent += 1;
  m.outbox.push({ ...event, id: m.nextEvent });
}

/** The first payment's subscription follows its payment: active once captured, expired once it failed. */
function settleSubscription(p: ModelPayment): void {
  if (p.subscription !== 'incomplete') {
    return;
  }
  if (CAPTURED.has(p.status)) {
    p.subscription = 'active';
  } else if (p.status === 'failed' || p.status === 'canceled') {
    p.subscription = 'expired';
  }
}

/** pay hears how Stripe's intent stands: one forward move, never away from a captured or final status. */
function observeIntent(p: ModelPayment, intent: IntentStatus): void {
  const to: PaymentStatus = intent;
  if (!CAPTURED.has(p.status) && to !== p.status && PAYMENT_TABLE[p.status].includes(to)) {
    p.status = to;
  }
  settleSubscription(p);
}

/** Sets a captured payment's amount_refunded and the status it implies; a full refund cancels the subscription. */
function setRefunded(p: ModelPayment, target: number): void {
  if (target === p.amountRefunded || !CAPTURED.has(p.status)) {
    return;
  }
  const before = p.status;
  p.amountRefunded = target;
  p.status = target <= 0 ? 'succeeded' : target >= p.amount ? 'refunded' : 'partially_refunded';
  // PAY_REFUND_SUBSCRIPTION_POLICY's default, cancel_now.
  if (p.status === 'refunded' && before !== 'refunded' && p.subscription === 'active') {
    p.subscription = 'canceled';
  }
}

const refundsOf = (m: Model, payment: number) => m.refunds.filter((r) => r.payment === payment);
const sum = (amounts: readonly number[]) => amounts.reduce((a, b) => a + b, 0);

/** After pay records a refund as succeeded: amount_refunded rises to its succeeded refunds, never falls. */
function raiseToSucceeded(m: Model, payment: number): void {
  const p = m.payments[payment] as ModelPayment;
  const succeeded = sum(
    refundsOf(m, payment)
      .filter((r) => r.status === 'succeeded')
      .map((r) => r.amount),
  );
  setRefunded(p, Math.min(Math.max(p.amountRefunded, succeeded), p.amount));
}

/** pay applies one event Stripe sent (once per event id). */
function applyEvent(m: Model, e: ModelEvent): void {
  if (m.delivered.has(e.id)) {
    return;
  }
  m.delivered.add(e.id);
  switch (e.kind) {
    case 'intent': {
      const p = m.payments[e.payment] as ModelPayment;
      if (e.status === 'failed') {
        // A failure report may be stale: pay asks Stripe how the intent stands now.
        if (IN_FLIGHT.has(p.status) && p.intent !== null) {
          observeIntent(p, p.intent);
        }
      } else {
        observeIntent(p, e.status);
      }
      return;
    }
    case 'charge': {
      const p = m.payments[e.payment] as ModelPayment;
      if (e.total <= p.amountRefunded) {
        return;
      }
      // Once a refund's failure is applied, a higher total may predate it: the charge is read fresh.
      const gaveBack = refundsOf(m, e.payment).some((r) => r.status === 'failed');
      const total = gaveBack ? p.stripeRefunded : e.total;
      if (total > p.amountRefunded) {
        setRefunded(p, total);
      }
      return;
    }
    case 'refund': {
      const r = m.refunds[e.refund] as ModelRefund;
      if (r.status === e.status || !REFUND_TABLE[r.status].includes(e.status)) {
        return;
      }
      r.status = e.status;
      // The charge is read fresh: its total sets amount_refunded, up, or down when this refund failed.
      const p = m.payments[r.payment] as ModelPayment;
      if (p.stripeRefunded > p.amountRefunded || e.status === 'failed') {
        setRefunded(p, p.stripeRefunded);
      }
      return;
    }
  }
}

/** Stripe creates pay's refund `index` (its create call, or a retry of it with the same key, arrived). */
function createAtStripe(m: Model, index: number): void {
  const r = m.refunds[index] as ModelRefund;
  const p = m.payments[r.payment] as ModelPayment;
  // pay never asks Stripe for more than the charge has left: what pay reserves covers Stripe's total.
  if (p.amount - p.stripeRefunded < r.amount) {
    throw new Error(
      `the model asks Stripe for ${r.amount} of a charge with ${p.amount - p.stripeRefunded} left`,
    );
  }
  r.stripe = r.onCreate;
  p.stripeRefunded += r.amount;
  emit(m, { kind: 'refund', refund: index, type: 'refund.created', status: r.stripe });
  emit(m, { kind: 'charge', payment: r.payment, total: p.stripeRefunded });
}

/** pay records Stripe's answer to its create: the refund linked, and succeeded when Stripe said so. */
function recordCreated(m: Model, index: number): void {
  const r = m.refunds[index] as ModelRefund;
  r.recorded = true;
  if (r.onCreate === 'succeeded') {
    r.status = 'succeeded';
    raiseToSucceeded(m, r.payment);
  }
}

/**
 * One recovery pass. First Stripe is asked: in-flight payments take their intent's status; pending
 * refunds, oldest first, are created at Stripe if they never got there and recorded if their answer was
 * lost, or take Stripe's status — a failed one lowers amount_refunded to what pay knows Stripe still
 * counts. Then stale keys are resumed, which finishes them from the rows (no further change).
 */
function recoverModel(m: Model): void {
  for (const p of m.payments) {
    if (IN_FLIGHT.has(p.status) && p.intent !== null) {
      observeIntent(p, p.intent);
    }
  }
  m.refunds.forEach((r, index) => {
    if (r.status !== 'pending') {
      return;
    }
    if (r.stripe === null) {
      createAtStripe(m, index);
    }
    if (!r.recorded) {
      recordCreated(m, index);
      return;
    }
    if (r.stripe === 'pending' || r.stripe === null) {
      return;
    }
    r.status = r.stripe;
    const p = m.payments[r.payment] as ModelPayment;
    if (r.status === 'succeeded') {
      raiseToSucceeded(m, r.payment);
    } else {
      const counted = sum(
        refundsOf(m, r.payment)
          .filter((x) => x.status === 'succeeded' || (x.status === 'pending' && x.recorded))
          .map((x) => x.amount),
      );
      setRefunded(p, Math.min(p.amountRefunded, counted));
    }
  });
}

/* ---------------------------------------------------------------------------------------------------
 * The real world: the services on the in-memory ports, and the events Stripe sent but did not deliver.
 * ------------------------------------------------------------------------------------------------- */

interface Real {
  readonly h: RefundHarness;
  readonly payments: PaymentService;
  readonly refunds: RefundService;
  readonly subscriptions: SubscriptionService;
  readonly planIds: readonly string[];
  /** Per model payment: its idempotency key, and the answer the first request got (null: it crashed). */
  readonly paymentKeys: string[];
  readonly paymentArgs: { readonly card: Card; readonly plan: 0 | 1 }[];
  readonly firstAnswers: (string | null)[];
  /** Per model refund: its idempotency key. */
  readonly refundKeys: string[];
  /** Deliveries, index for index with the model's outbox. */
  readonly outbox: Delivery[];
  /** Event rows per object when the model first saw it in a final status. */
  readonly rowsWhenFinal: Map<string, number>;
  requests: number;
  /** Counts idempotency keys made, so each request gets its own. */
  keys: number;
}

async function setup(): Promise<Real> {
  const h = await refundHarness();
  const deps = { store: h.store, gateway: h.stripe, clock: h.clock, logger: silentLogger };
  const threeDSecureReturnUrl = (id: string) => `${API_BASE}/api/v1/payments/${id}/return`;
  const payments = new PaymentService({
    ...deps,
    threeDSecureReturnUrl,
    returnUrlOrigins: [RETURN_ORIGIN],
    faults: h.faults,
  });
  const renewals = new RenewalService({ ...deps, threeDSecureReturnUrl });
  const second = await h.memory.store.repos.plans.create({
    accountId: h.account.id,
    name: 'Odd monthly',
    amount: PLAN_AMOUNTS[1],
    currency: 'usd',
    interval: 'month',
  });
  return {
    h,
    payments,
    refunds: h.refunds(),
    subscriptions: new SubscriptionService({ ...deps, renewals }),
    planIds: [h.plan.id, second.id],
    paymentKeys: [],
    paymentArgs: [],
    firstAnswers: [],
    refundKeys: [],
    outbox: [],
    rowsWhenFinal: new Map(),
    requests: 0,
    keys: 0,
  };
}

function nextKey(r: Real, what: string): string {
  r.keys += 1;
  return `model-${what}-${r.keys}-${'k'.repeat(20)}`;
}

function nextRequestId(r: Real): string {
  r.requests += 1;
  return `req_model_${r.requests}`;
}

function keyRow(r: Real, key: string) {
  const row = r.h.memory.tables.idempotencyKeys.find((k) => k.key === key);
  if (row === undefined || row.resourceId === null) {
    throw new Error(`no resource recorded for idempotency key ${key}`);
  }
  return row;
}

function paymentRow(r: Real, index: number) {
  const id = keyRow(r, r.paymentKeys[index] as string).resourceId;
  const payment = r.h.memory.tables.payments.find((p) => p.id === id);
  if (payment === undefined) {
    throw new Error(`payment ${String(id)} is gone`);
  }
  return payment;
}

function refundRow(r: Real, index: number) {
  const id = keyRow(r, r.refundKeys[index] as string).resourceId;
  const refund = r.h.memory.tables.refunds.find((x) => x.id === id);
  if (refund === undefined) {
    throw new Error(`refund ${String(id)} is gone`);
  }
  return refund;
}

function stripeRefundOf(r: Real, index: number) {
  const refundId = refundRow(r, index).id;
  const refund = r.h.stripe.allRefunds().find((x) => x.refundId === refundId);
  if (refund === undefined) {
    throw new Error(`Stripe holds no refund for ${refundId}`);
  }
  return refund;
}

function paymentRequest(r: Real, index: number, card: Card, plan: 0 | 1) {
  const key = r.paymentKeys[index] as string;
  const planId = r.planIds[plan] as string;
  const userId = `model-user-${index}`;
  const input = {
    accountId: r.h.account.id,
    userId,
    planId,
    paymentMethodId: CARD_ALIAS[card],
    returnUrl: `${RETURN_ORIGIN}/thanks`,
  };
  const request = {
    accountId: r.h.account.id,
    key,
    method: 'POST',
    path: '/api/v1/payments',
    params: { user_id: userId, plan_id: planId, payment_method_id: input.paymentMethodId },
    requestId: nextRequestId(r),
  };
  return [input, request] as const;
}

/** The deliveries for the events the model sent in the last command, from Stripe's objects as they are now. */
function sendEvents(m: Model, r: Real): void {
  for (const e of m.outbox.slice(r.outbox.length)) {
    switch (e.kind) {
      case 'intent':
      case 'charge': {
        const intentId = paymentRow(r, e.payment).stripePaymentIntentId;
        if (intentId === null) {
          throw new Error(`model payment ${e.payment} has no intent to send an event about`);
        }
        r.outbox.push(
          e.kind === 'intent'
            ? r.h.stripe.intentEvent(INTENT_EVENT_TYPE[e.status], intentId)
            : r.h.stripe.chargeEvent(intentId),
        );
        break;
      }
      case 'refund':
        r.outbox.push(r.h.stripe.refundEvent(e.type, stripeRefundOf(r, e.refund).stripeRefundId));
        break;
    }
  }
}

/** The process "restarts" after a while and one recovery pass runs: payments, refunds, the inbox. */
async function recoveryPass(r: Real): Promise<void> {
  r.h.faults.restart();
  r.h.clock.advance(LOCK_TIMEOUT_MS + 1_000);
  const payments = await r.payments.recover();
  const refunds = await r.refunds.recover();
  same({ payments: payments.failures, refunds: refunds.failures }, { payments: [], refunds: [] });
  await r.h.webhooks.processDue();
}

/* ---------------------------------------------------------------------------------------------------
 * Commands. Each predicts its effect on the model, acts on the real world, and compares what the
 * caller was answered. A crash wraps another command: its answer is lost, and recovery finishes it.
 * ------------------------------------------------------------------------------------------------- */

/** What a real call answered, reduced to what the model predicts. */
type Outcome = Readonly<Record<string, unknown>>;

interface Action {
  readonly label: string;
  check(m: Readonly<Model>): boolean;
  /**
   * Moves the model; returns the answer the caller should get. `crashAt`: the process will die at this
   * crash point of the action (null: it runs to its end), and a recovery pass finish it.
   */
  predict(m: Model, crashAt: string | null): Outcome;
  act(r: Real): Promise<Outcome>;
  /** The crash points this action passes. */
  readonly points: readonly string[];
}

class Create implements Action {
  readonly points = PAYMENT_CRASH_POINTS;
  private index = -1;
  constructor(
    readonly card: Card,
    readonly plan: 0 | 1,
  ) {}
  get label() {
    return `create(${this.card}, ${PLAN_AMOUNTS[this.plan]})`;
  }
  check = () => true;
  predict(m: Model): Outcome {
    this.index = m.payments.length;
    const p: ModelPayment = {
      card: this.card,
      plan: this.plan,
      amount: PLAN_AMOUNTS[this.plan],
      status: 'pending',
      amountRefunded: 0,
      subscription: 'incomplete',
      answer: 'declined',
      intent: null,
      stripeRefunded: 0,
    };
    m.payments.push(p);
    if (this.card === 'attach_decline') {
      p.status = 'failed';
      settleSubscription(p);
      return { kind: 'declined' };
    }
    p.intent =
      this.card === 'visa' ? 'succeeded' : this.card === 'charge_decline' ? 'failed' : 'requires_action';
    emit(m, { kind: 'intent', payment: this.index, status: p.intent });
    observeIntent(p, p.intent);
    p.answer =
      p.status === 'succeeded' ? 'succeeded' : p.status === 'failed' ? 'declined' : 'requires_action';
    return { kind: p.answer };
  }
  async act(r: Real): Promise<Outcome> {
    r.paymentKeys[this.index] = nextKey(r, 'payment');
    r.paymentArgs[this.index] = { card: this.card, plan: this.plan };
    r.firstAnswers[this.index] = null;
    const attempt = await r.payments.create(...paymentRequest(r, this.index, this.card, this.plan));
    r.firstAnswers[this.index] = JSON.stringify(attempt.result);
    if (attempt.result.kind === 'requires_action') {
      same(attempt.result.redirectUrl.startsWith('https://'), true);
    }
    return { kind: attempt.result.kind };
  }
}

/** The client retries a payment with its key: the stored answer again, and nothing sent to Stripe. */
class Retry implements Action {
  readonly points = [];
  constructor(readonly payment: number) {}
  get label() {
    return `retry(#${this.payment})`;
  }
  check = (m: Readonly<Model>) => m.payments.length > 0;
  private index(m: Readonly<{ payments: readonly unknown[] }>) {
    return this.payment % m.payments.length;
  }
  private at = 0;
  predict(m: Model): Outcome {
    this.at = this.index(m);
    const p = m.payments[this.at] as ModelPayment;
    return { replayed: true, kind: p.answer };
  }
  async act(r: Real): Promise<Outcome> {
    const { card, plan } = r.paymentArgs[this.at] as { card: Card; plan: 0 | 1 };
    const calls = r.h.stripe.calls.length;
    const attempt = await r.payments.create(...paymentRequest(r, this.at, card, plan));
    same({ stripeCalls: r.h.stripe.calls.length }, { stripeCalls: calls });
    const first = r.firstAnswers[this.at];
    if (first !== null && first !== undefined) {
      same(JSON.stringify(attempt.result), first);
    }
    return { replayed: attempt.replayed, kind: attempt.result.kind };
  }
}

/** The card holder passes or fails 3-D Secure at Stripe (pay hears of it later). */
class ThreeDSecure implements Action {
  readonly points = [];
  private at = 0;
  constructor(
    readonly payment: number,
    readonly passed: boolean,
  ) {}
  get label() {
    return `threeDSecure(#${this.payment}, ${this.passed ? 'passed' : 'failed'})`;
  }
  private waiting = (m: Readonly<Model>) => m.payments.filter((p) => p.intent === 'requires_action');
  check = (m: Readonly<Model>) => this.waiting(m).length > 0;
  predict(m: Model): Outcome {
    const waiting = this.waiting(m);
    const p = waiting[this.payment % waiting.length] as ModelPayment;
    this.at = m.payments.indexOf(p);
    p.intent = this.passed && p.card === '3ds' ? 'succeeded' : 'failed';
    emit(m, { kind: 'intent', payment: this.at, status: p.intent });
    return {};
  }
  act(r: Real): Promise<Outcome> {
    const intentId = paymentRow(r, this.at).stripePaymentIntentId as string;
    r.h.stripe.completeThreeDSecure(intentId, this.passed);
    return Promise.resolve({});
  }
}

/** The card holder's browser comes back to pay from 3-D Secure (or any payment's return page). */
class Return implements Action {
  readonly points = ['payment.before_retrieve_intent', 'payment.after_retrieve_intent_before_commit'];
  private at = 0;
  constructor(readonly payment: number) {}
  get label() {
    return `return(#${this.payment})`;
  }
  check = (m: Readonly<Model>) => m.payments.length > 0;
  predict(m: Model): Outcome {
    this.at = this.payment % m.payments.length;
    const p = m.payments[this.at] as ModelPayment;
    if (IN_FLIGHT.has(p.status) && p.intent !== null) {
      observeIntent(p, p.intent);
    }
    return { status: p.status };
  }
  async act(r: Real): Promise<Outcome> {
    const outcome = await r.payments.completeReturn(paymentRow(r, this.at).id, nextRequestId(r));
    same(outcome.returnUrl, `${RETURN_ORIGIN}/thanks`);
    return { status: outcome.view.payment.status };
  }
}

/** An admin refunds part or all of a payment; Stripe settles it at once or leaves it pending. */
class Refund implements Action {
  readonly points = REFUND_CRASH_POINTS;
  private at = 0;
  private refund = -1;
  constructor(
    readonly payment: number,
    readonly amount: number | null,
    readonly settles: 'now' | 'later',
  ) {}
  get label() {
    return `refund(#${this.payment}, ${this.amount ?? 'rest'}, ${this.settles})`;
  }
  check = (m: Readonly<Model>) => m.payments.length > 0;
  predict(m: Model, crashAt: string | null): Outcome {
    this.at = this.payment % m.payments.length;
    this.refund = -1;
    const p = m.payments[this.at] as ModelPayment;
    if (!CAPTURED.has(p.status)) {
      return { refused: 'invalid_state' };
    }
    const reserved = sum(
      refundsOf(m, this.at)
        .filter((r) => r.status === 'pending' || r.status === 'succeeded' || r.status === 'requires_approval')
        .map((r) => r.amount),
    );
    const remaining = p.amount - reserved;
    const amount = this.amount ?? remaining;
    if (remaining <= 0 || amount > remaining) {
      return { refused: 'refund_exceeds_captured' };
    }
    this.refund = m.refunds.length;
    const onCreate = this.settles === 'now' ? 'succeeded' : 'pending';
    m.refunds.push({ payment: this.at, amount, status: 'pending', stripe: null, onCreate, recorded: false });
    // Killed before Stripe was asked, or after it answered but before pay recorded the answer: the
    // refund waits, pending, for the recovery pass.
    if (crashAt === 'refund.after_key_insert' || crashAt === 'refund.before_gateway_call') {
      return {};
    }
    createAtStripe(m, this.refund);
    if (crashAt === 'refund.after_gateway_before_commit') {
      return {};
    }
    recordCreated(m, this.refund);
    return { refund: onCreate, amount, payment: p.status, amountRefunded: p.amountRefunded };
  }
  async act(r: Real): Promise<Outcome> {
    const t = r.h.memory.tables;
    const before = {
      refunds: t.refunds.length,
      keys: t.idempotencyKeys.length,
      calls: r.h.stripe.calls.length,
    };
    const key = nextKey(r, 'refund');
    if (this.refund >= 0) {
      r.refundKeys[this.refund] = key;
    }
    r.h.stripe.refundStatusOnCreate = this.settles === 'now' ? 'succeeded' : 'pending';
    const payment = paymentRow(r, this.at);
    try {
      const attempt = await r.refunds.create(
        ...r.h.request(key, {
          paymentId: payment.id,
          ...(this.amount === null ? {} : { amount: this.amount }),
        }),
      );
      return {
        refund: attempt.refund.status,
        amount: attempt.refund.amount,
        payment: attempt.payment.status,
        amountRefunded: attempt.payment.amountRefunded,
      };
    } catch (error) {
      if (error instanceof RefundExceedsCapturedError || error instanceof InvalidStateError) {
        // Refused: nothing written, not even the key, and nothing sent.
        same(
          { refunds: t.refunds.length, keys: t.idempotencyKeys.length, calls: r.h.stripe.calls.length },
          before,
        );
        return { refused: error.code };
      }
      throw error;
    }
  }
}

/** The bank settles a pending refund, or a refund (even a succeeded one) fails: Stripe gives the amount back. */
class StripeSettlesRefund implements Action {
  readonly points = [];
  private refund = 0;
  constructor(
    readonly which: number,
    readonly outcome: 'succeeded' | 'failed',
  ) {}
  get label() {
    return `stripeSettlesRefund(#${this.which}, ${this.outcome})`;
  }
  private movable = (m: Readonly<Model>) =>
    m.refunds.filter(
      (r) => r.stripe === 'pending' || (r.stripe === 'succeeded' && this.outcome === 'failed'),
    );
  check = (m: Readonly<Model>) => this.movable(m).length > 0;
  predict(m: Model): Outcome {
    const movable = this.movable(m);
    const r = movable[this.which % movable.length] as ModelRefund;
    this.refund = m.refunds.indexOf(r);
    r.stripe = this.outcome;
    if (this.outcome === 'failed') {
      (m.payments[r.payment] as ModelPayment).stripeRefunded -= r.amount;
    }
    emit(m, { kind: 'refund', refund: this.refund, type: 'refund.updated', status: r.stripe });
    if (this.outcome === 'failed') {
      emit(m, { kind: 'refund', refund: this.refund, type: 'refund.failed', status: r.stripe });
    }
    return {};
  }
  act(r: Real): Promise<Outcome> {
    r.h.stripe.setRefundStatus(stripeRefundOf(r, this.refund).stripeRefundId, this.outcome);
    return Promise.resolve({});
  }
}

/** Stripe delivers one of the events it sent — any of them, so out of order — and may deliver it again later. */
class Deliver implements Action {
  readonly points = WEBHOOK_CRASH_POINTS;
  private at = 0;
  private event: ModelEvent | null = null;
  constructor(
    readonly which: number,
    readonly again: boolean,
  ) {}
  get label() {
    return `deliver(#${this.which}${this.again ? ', again later' : ''})`;
  }
  check = (m: Readonly<Model>) => m.outbox.length > 0;
  predict(m: Model, crashAt: string | null): Outcome {
    this.at = this.which % m.outbox.length;
    const event = m.outbox[this.at] as ModelEvent;
    this.event = event;
    if (!this.again) {
      m.outbox.splice(this.at, 1);
    }
    // Killed after storing it (or while applying it): the recovery pass's worker applies it, last.
    if (crashAt === null) {
      applyEvent(m, event);
    }
    return {};
  }
  /** After a crashed delivery's recovery pass: the event (if new) was applied by its worker, last. */
  predictAfterRecovery(m: Model): void {
    if (this.event !== null) {
      applyEvent(m, this.event);
    }
  }
  async act(r: Real): Promise<Outcome> {
    const delivery = r.outbox[this.at] as Delivery;
    if (!this.again) {
      r.outbox.splice(this.at, 1);
    }
    await r.h.webhooks.receive(delivery.payload);
    await r.h.webhooks.processDue();
    return {};
  }
}

/** The customer cancels the subscription now. */
class Cancel implements Action {
  readonly points = [];
  private at = 0;
  constructor(readonly payment: number) {}
  get label() {
    return `cancelSubscription(#${this.payment})`;
  }
  check = (m: Readonly<Model>) => m.payments.length > 0;
  predict(m: Model): Outcome {
    this.at = this.payment % m.payments.length;
    const p = m.payments[this.at] as ModelPayment;
    if (p.subscription !== 'active' && p.subscription !== 'past_due') {
      return { refused: 'invalid_state' };
    }
    p.subscription = 'canceled';
    return { status: 'canceled' };
  }
  async act(r: Real): Promise<Outcome> {
    const subscriptionId = paymentRow(r, this.at).subscriptionId as string;
    const request = {
      accountId: r.h.account.id,
      key: nextKey(r, 'cancel'),
      method: 'POST',
      path: `/api/v1/subscriptions/${subscriptionId}/cancel`,
      params: { at_period_end: false },
      requestId: nextRequestId(r),
    };
    const rows = r.h.memory.tables.subscriptionEvents.length;
    try {
      const change = await r.subscriptions.cancel(
        { accountId: r.h.account.id, subscriptionId, atPeriodEnd: false },
        request,
      );
      return { status: change.view.subscription.status };
    } catch (error) {
      if (error instanceof InvalidStateError) {
        same(r.h.memory.tables.subscriptionEvents.length, rows);
        return { refused: error.code };
      }
      throw error;
    }
  }
}

/** Time passes and a recovery pass runs, with nothing crashed. */
class Recover implements Action {
  readonly points = [];
  readonly label = 'recover';
  check = () => true;
  predict(m: Model): Outcome {
    recoverModel(m);
    return {};
  }
  async act(r: Real): Promise<Outcome> {
    await recoveryPass(r);
    return {};
  }
}

/**
 * What must hold after every command. Findings are collected and asserted once (a jest `expect` per row
 * would cost more than the commands themselves): the real ledger as the model has it, then every rule
 * the model's tables and the money invariants state.
 */
function checkInvariants(m: Model, r: Real): void {
  const t = r.h.memory.tables;
  const problems: string[] = [];
  const real: unknown[] = [];
  const modelled: unknown[] = [];
  m.payments.forEach((p, i) => {
    const row = paymentRow(r, i);
    const subscription = t.subscriptions.find((s) => s.id === row.subscriptionId);
    const intent = row.stripePaymentIntentId === null ? null : r.h.stripe.intent(row.stripePaymentIntentId);
    const hasRefunds = refundsOf(m, i).length > 0;
    real.push({
      payment: i,
      status: row.status,
      amountRefunded: row.amountRefunded,
      subscription: subscription?.status,
      refunds: m.refunds.flatMap((x, j) => (x.payment === i ? [refundRow(r, j).status] : [])),
      // Stripe's side, as the model has it.
      intent: intent?.status ?? null,
      stripeRefunded:
        intent !== null && hasRefunds ? r.h.stripe.chargeOf(intent.stripePaymentIntentId).amountRefunded : 0,
    });
    modelled.push({
      payment: i,
      status: p.status,
      amountRefunded: p.amountRefunded,
      subscription: p.subscription,
      refunds: refundsOf(m, i).map((x) => x.status),
      intent: p.intent,
      stripeRefunded: hasRefunds ? p.stripeRefunded : 0,
    });
    // Money: integers, bounded by what was captured; the event rows add up to the balance.
    if (
      !Number.isSafeInteger(row.amountRefunded) ||
      row.amountRefunded < 0 ||
      row.amountRefunded > row.amount
    ) {
      problems.push(`payment ${i}: amount_refunded ${row.amountRefunded} of ${row.amount}`);
    }
    const events = t.paymentEvents.filter((e) => e.paymentId === row.id);
    let refundSide = 0;
    for (const e of events) {
      const allowed =
        e.fromStatus === null ? e.toStatus === 'pending' : PAYMENT_TABLE[e.fromStatus].includes(e.toStatus);
      if (!allowed) {
        problems.push(`payment ${i}: event ${String(e.fromStatus)} → ${e.toStatus} is not in the table`);
      }
      if (!Number.isSafeInteger(e.amount)) {
        problems.push(`payment ${i}: event amount ${e.amount} is not an integer`);
      }
      if (
        e.fromStatus !== null &&
        IN_FLIGHT.has(e.fromStatus) &&
        e.toStatus === 'succeeded' &&
        e.amount !== row.amount
      ) {
        problems.push(`payment ${i}: captured ${e.amount}, not its amount ${row.amount}`);
      }
      if (e.fromStatus !== null && CAPTURED.has(e.fromStatus)) {
        refundSide += e.amount;
      }
    }
    if (refundSide !== row.amountRefunded) {
      problems.push(
        `payment ${i}: refund event rows add up to ${refundSide}, amount_refunded is ${row.amountRefunded}`,
      );
    }
    const live = sum(
      t.refunds
        .filter((x) => x.paymentId === row.id && (x.status === 'pending' || x.status === 'succeeded'))
        .map((x) => x.amount),
    );
    if (live > row.amount) {
      problems.push(`payment ${i}: live refunds ${live} exceed its amount ${row.amount}`);
    }
    absorbing(r, problems, `payment ${i}`, isFinal(PAYMENT_TABLE, row.status), events.length);
    if (subscription !== undefined) {
      const rows = t.subscriptionEvents.filter((e) => e.subscriptionId === subscription.id);
      for (const e of rows) {
        const allowed =
          e.fromStatus === null
            ? e.toStatus === 'incomplete'
            : SUBSCRIPTION_TABLE[e.fromStatus].includes(e.toStatus) ||
              (e.fromStatus === e.toStatus && !isFinal(SUBSCRIPTION_TABLE, e.fromStatus));
        if (!allowed) {
          problems.push(
            `subscription ${i}: event ${String(e.fromStatus)} → ${e.toStatus} is not in the table`,
          );
        }
      }
      absorbing(
        r,
        problems,
        `subscription ${i}`,
        isFinal(SUBSCRIPTION_TABLE, subscription.status),
        rows.length,
      );
    }
  });
  for (const refund of t.refunds) {
    if (!Number.isSafeInteger(refund.amount) || refund.amount <= 0) {
      problems.push(`refund ${refund.id}: amount ${refund.amount}`);
    }
    const rows = t.refundEvents.filter((e) => e.refundId === refund.id);
    for (const e of rows) {
      const allowed =
        e.fromStatus === null ? e.toStatus === 'pending' : REFUND_TABLE[e.fromStatus].includes(e.toStatus);
      if (!allowed) {
        problems.push(
          `refund ${refund.id}: event ${String(e.fromStatus)} → ${e.toStatus} is not in the table`,
        );
      }
    }
    absorbing(r, problems, `refund ${refund.id}`, isFinal(REFUND_TABLE, refund.status), rows.length);
  }
  if (t.refunds.length !== m.refunds.length) {
    problems.push(`${t.refunds.length} refund rows, the model has ${m.refunds.length}`);
  }
  // Nothing left half-done: every key answered and free, every event applied.
  for (const k of t.idempotencyKeys) {
    if (k.lockedAt !== null || k.responseStatus === null) {
      problems.push(
        `idempotency key ${k.key} is ${k.lockedAt === null ? 'unanswered' : 'locked'} at ${k.recoveryPoint}`,
      );
    }
  }
  for (const e of t.webhookEvents) {
    if (e.status !== 'processed' && e.status !== 'ignored') {
      problems.push(`webhook ${e.type} ${e.stripeEventId} is ${e.status}: ${String(e.lastError)}`);
    }
  }
  if (problems.length > 0 || !equalJson(real, modelled)) {
    expect({ real, problems }).toEqual({ real: modelled, problems: [] });
  }
}

function equalJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `expect(actual).toEqual(expected)`, paid for only when it fails. */
function same(actual: unknown, expected: unknown): void {
  if (!equalJson(actual, expected)) {
    expect(actual).toEqual(expected);
  }
}

/** An object in a final status never gets another event row. */
function absorbing(r: Real, problems: string[], object: string, final: boolean, rows: number): void {
  const first = r.rowsWhenFinal.get(object);
  if (!final) {
    if (first !== undefined) {
      problems.push(`${object} left a final status`);
    }
    return;
  }
  r.rowsWhenFinal.set(object, first ?? rows);
  if (first !== undefined && rows !== first) {
    problems.push(`${object}: ${rows - first} event rows after it reached a final status`);
  }
}

/** What the runs did, printed at the end: commands by kind, crashes that fired, refusals. */
const tally = new Map<string, number>();
function count(what: string): void {
  tally.set(what, (tally.get(what) ?? 0) + 1);
}

/** A command: the action, its answer compared with the model's, then the invariants. */
function command(action: Action): fc.AsyncCommand<Model, Real> {
  return {
    check: (m) => action.check(m),
    run: async (m, r) => {
      // Time passes between commands, so ids (which begin with their creation time) sort by creation.
      r.h.clock.advance(1);
      const expected = action.predict(m, null);
      count(action.label.replace(/\(.*/, ''));
      if ('refused' in expected) {
        count('refused');
      }
      const answered = await action.act(r);
      if (!equalJson(answered, expected)) {
        expect({ command: action.label, answered }).toEqual({ command: action.label, answered: expected });
      }
      sendEvents(m, r);
      checkInvariants(m, r);
    },
    toString: () => action.label,
  };
}

/** The process dies at `point` while running `action` (if it gets there); a restart and a recovery pass follow. */
function crash(action: Action, point: string): fc.AsyncCommand<Model, Real> {
  const label = `crash(${action.label} at ${point})`;
  return {
    check: (m) => action.check(m),
    run: async (m, r) => {
      r.h.clock.advance(1);
      const expected = action.predict(m, point);
      r.h.faults.arm(point);
      let answered: Outcome | null = null;
      try {
        answered = await action.act(r);
      } catch (error) {
        if (!r.h.faults.halted) {
          throw error;
        }
        expect(r.h.faults.reached).toContain(point);
      }
      count(
        r.h.faults.halted ? `crash fired in ${action.label.replace(/\(.*/, '')}` : 'crash point not reached',
      );
      if (!r.h.faults.halted && !equalJson(answered, expected)) {
        expect({ command: label, answered }).toEqual({ command: label, answered: expected });
      }
      await recoveryPass(r);
      recoverModel(m);
      if (action instanceof Deliver) {
        // A new event always reaches the inbox's crash points; a redelivered one changes nothing.
        action.predictAfterRecovery(m);
      }
      sendEvents(m, r);
      checkInvariants(m, r);
    },
    toString: () => label,
  };
}

const paymentIndex = fc.nat({ max: 7 });
const card = fc.constantFrom<Card>(
  'visa',
  'visa',
  'attach_decline',
  'charge_decline',
  '3ds',
  '3ds',
  '3ds_decline',
);
const plan = fc.constantFrom<0 | 1>(0, 1);
const create = fc.tuple(card, plan).map(([c, p]) => new Create(c, p));
const refund = fc
  .tuple(
    paymentIndex,
    fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2100 }), fc.integer({ min: 1, max: 700 })),
    fc.constantFrom<'now' | 'later'>('now', 'later'),
  )
  .map(([i, amount, settles]) => new Refund(i, amount, settles));
const deliver = fc.tuple(fc.nat({ max: 31 }), fc.boolean()).map(([k, again]) => new Deliver(k, again));
const returnFrom = paymentIndex.map((i) => new Return(i));

const actions: fc.Arbitrary<Action>[] = [
  create,
  create,
  paymentIndex.map((i) => new Retry(i)),
  fc.tuple(paymentIndex, fc.boolean()).map(([i, passed]) => new ThreeDSecure(i, passed)),
  returnFrom,
  refund,
  refund,
  fc
    .tuple(fc.nat({ max: 7 }), fc.constantFrom<'succeeded' | 'failed'>('succeeded', 'failed'))
    .map(([j, outcome]) => new StripeSettlesRefund(j, outcome)),
  deliver,
  deliver,
  deliver,
  paymentIndex.map((i) => new Cancel(i)),
  fc.constant(new Recover()),
];

/** A crash at one of the points the action passes (some are not reached on every path: then no crash). */
const crashes = fc
  .oneof(create, refund, returnFrom, deliver)
  .chain((action) => fc.constantFrom(...action.points).map((point) => crash(action, point)));

const commands = [...actions.map((a) => a.map(command)), crashes, crashes];

/**
 * Every outstanding event delivered, each applied as it arrives, in the order `picks` chooses (so a
 * failing order replays from the seed), then a recovery pass: pay then holds what Stripe holds.
 */
async function converge(r: Real, models: Model, picks: readonly number[]): Promise<void> {
  const outstanding = [...r.outbox];
  for (let k = 0; outstanding.length > 0; k++) {
    const [delivery] = outstanding.splice((picks[k] ?? 0) % outstanding.length, 1);
    await r.h.webhooks.receive((delivery as Delivery).payload);
    await r.h.webhooks.processDue();
  }
  await recoveryPass(r);
  same(
    r.h.memory.tables.webhookEvents.filter((e) => e.status !== 'processed' && e.status !== 'ignored'),
    [],
  );
  models.payments.forEach((_, i) => {
    const row = paymentRow(r, i);
    const intent = row.stripePaymentIntentId === null ? null : r.h.stripe.intent(row.stripePaymentIntentId);
    const stripeTotal =
      intent?.status === 'succeeded' ? r.h.stripe.chargeOf(intent.stripePaymentIntentId).amountRefunded : 0;
    const stripeStatus =
      intent === null
        ? 'failed'
        : intent.status === 'succeeded'
          ? stripeTotal === 0
            ? 'succeeded'
            : stripeTotal >= intent.amount
              ? 'refunded'
              : 'partially_refunded'
          : intent.status;
    same(
      { payment: i, status: row.status, amountRefunded: row.amountRefunded },
      {
        payment: i,
        status: stripeStatus,
        amountRefunded: stripeTotal,
      },
    );
  });
  models.refunds.forEach((_, j) => {
    same(
      { refund: j, status: refundRow(r, j).status },
      {
        refund: j,
        status: stripeRefundOf(r, j).status,
      },
    );
  });
}

describe('the payment flow against a plain model (RELIABILITY.md I1)', () => {
  it(
    'matches the model after every command, moves only as the tables allow, and converges on Stripe',
    async () => {
      const started = performance.now();
      let commandsRun = 0;
      console.log(`[I1] seed ${SEED}, ${RUNS} runs (replay: SEED=${SEED}; NIGHTLY=1 for ${10_000})`);
      await fc.assert(
        fc.asyncProperty(
          fc.commands(commands, { maxCommands: 30, size: 'large' }),
          fc.array(fc.nat(), { maxLength: 40 }),
          async (steps, picks) => {
            const real = await setup();
            const model: Model = {
              payments: [],
              refunds: [],
              outbox: [],
              delivered: new Set(),
              nextEvent: 0,
            };
            await fc.asyncModelRun(() => ({ model, real }), steps);
            commandsRun += [...steps].length;
            await converge(real, model, picks);
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
      const seconds = (performance.now() - started) / 1000;
      const mix = [...tally.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([what, n]) => `${what}×${n}`)
        .join(', ');
      console.log(`[I1] ${RUNS} runs, ${commandsRun} commands in ${seconds.toFixed(1)} s: ${mix}`);
    },
    HANG_GUARD_MS,
  );
});
