import fc from 'fast-check';
import {
  GatewayRejectedError,
  InvalidStateError,
  SUBSCRIPTION_TRANSITIONS,
  isFinal,
  silentLogger,
  type PaymentId,
  type Subscription,
  type SubscriptionId,
  type SubscriptionStatus,
} from '../index.js';
import { RenewalService } from '../services/renewal-service.js';
import { SubscriptionService } from '../services/subscription-service.js';
import { API_BASE, paymentHarness, type PaymentHarness } from '../../test/memory/payment-harness.js';

/*
 * A model-based test of the subscription state machine (issue 6): random sequences of what happens to a
 * subscription — its first payment completing or failing, renewals paying or failing, dunning running
 * out, cancellations now and at period end, resumptions, card changes — run against the real services
 * (payments, renewals, subscriptions) on the in-memory store, whose `transition` checks the table, and
 * against a plain model. After every step the real subscription matches the model, every event row is
 * a move the table allows, and a subscription that ended never changes again.
 */

const DAY_MS = 86_400_000;
/** A short dunning schedule, so runs reach `expired`: retries 1 and 3 days after the period began. */
const SCHEDULE = [1 * DAY_MS, 3 * DAY_MS];

/** Cards by how renewals go on them: `3ds` is the first payment's (off-session renewals not modelled). */
type Card = '3ds' | 'good' | 'bad';
const CARD_TOKENS: Record<Exclude<Card, '3ds'> | 'declined', string> = {
  good: 'pm_card_visa',
  bad: 'pm_card_chargeCustomerFail',
  declined: 'pm_card_chargeDeclined',
};

interface Model {
  status: SubscriptionStatus;
  cancelAtPeriodEnd: boolean;
  card: Card;
  /** Failed tries of the period being dunned. */
  dunning: number;
}

interface Real {
  readonly h: PaymentHarness;
  readonly subscriptions: SubscriptionService;
  readonly renewals: RenewalService;
  readonly subscriptionId: SubscriptionId;
  readonly firstPaymentId: PaymentId;
  /** How many event rows the subscription had when it reached a final state. */
  eventsWhenFinal: number | null;
  requests: number;
}

const isLive = (m: Model) => m.status === 'active' || m.status === 'past_due';

/** A charge on the model's card at a renewal (or the retry after a card change). */
function charge(m: Model): void {
  if (m.cancelAtPeriodEnd) {
    m.status = 'canceled';
  } else if (m.card === 'good') {
    m.status = 'active';
    m.dunning = 0;
  } else if (m.dunning >= SCHEDULE.length) {
    m.status = 'expired';
  } else {
    m.status = 'past_due';
    m.dunning += 1;
  }
}

async function current(r: Real): Promise<Subscription> {
  const s = await r.h.store.repos.subscriptions.findById(r.h.account.id, r.subscriptionId);
  if (s === null) {
    throw new Error('the subscription disappeared');
  }
  return s;
}

async function eventCount(r: Real): Promise<number> {
  return (await r.h.store.repos.subscriptions.listEvents(r.subscriptionId)).length;
}

function request(r: Real, path: string, params: unknown) {
  r.requests += 1;
  return {
    accountId: r.h.account.id,
    key: `model-${r.requests}`,
    method: 'POST',
    path: `/api/v1/subscriptions/${r.subscriptionId}/${path}`,
    params,
    requestId: `req_model_${r.requests}`,
  };
}

/** Runs a service request the model says may be refused; a refusal must write nothing. */
async function refusable(
  r: Real,
  expected: 'ok' | 'invalid_state' | 'rejected',
  run: () => Promise<unknown>,
): Promise<void> {
  const before = await eventCount(r);
  const outcome = await run().then(
    () => 'ok' as const,
    (error: unknown) => {
      if (error instanceof InvalidStateError) {
        return 'invalid_state' as const;
      }
      if (error instanceof GatewayRejectedError) {
        return 'rejected' as const;
      }
      throw error;
    },
  );
  expect(outcome).toBe(expected);
  if (outcome !== 'ok') {
    expect(await eventCount(r)).toBe(before);
  }
}

/** The first payment's 3-D Secure is completed (or failed) by the card holder, and they come back. */
class FinishFirstPayment implements fc.AsyncCommand<Model, Real> {
  constructor(readonly passed: boolean) {}
  check = (m: Readonly<Model>) => m.status === 'incomplete';
  async run(m: Model, r: Real): Promise<void> {
    const payment = await r.h.store.repos.payments.findById(r.h.account.id, r.firstPaymentId);
    const intentId = payment?.stripePaymentIntentId;
    if (intentId === null || intentId === undefined) {
      throw new Error('the first payment has no intent');
    }
    r.h.gateway.completeThreeDSecure(intentId, this.passed);
    await r.h.service().completeReturn(r.firstPaymentId, 'req_return');
    m.status = this.passed ? 'active' : 'expired';
  }
  toString = () => (this.passed ? 'activate' : 'firstPaymentFailed');
}

/** The card holder never comes back: past the deadline, the scheduler expires the subscription. */
class AbandonFirstPayment implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.status === 'incomplete';
  async run(m: Model, r: Real): Promise<void> {
    r.h.clock.advance(DAY_MS + 1);
    await r.renewals.renewDue();
    m.status = 'expired';
  }
  toString = () => 'abandonFirstPayment';
}

/**
 * Time moves to the subscription's next billing time and the scheduler runs: a renewal (paid or
 * declined), a dunning retry (recovered, failed again, or exhausted), or a cancellation at period end.
 */
class SchedulerReachesIt implements fc.AsyncCommand<Model, Real> {
  // A first-payment card needs 3-D Secure off-session: its renewals' outcome is not what this models.
  check = (m: Readonly<Model>) => isLive(m) && (m.card !== '3ds' || m.cancelAtPeriodEnd);
  async run(m: Model, r: Real): Promise<void> {
    const s = await current(r);
    const now = r.h.clock.now().getTime();
    if (s.nextBillingAt === null) {
      throw new Error(`a live subscription without a next billing time: ${JSON.stringify(s)}`);
    }
    r.h.clock.advance(Math.max(0, s.nextBillingAt.getTime() - now));
    await r.renewals.renewDue();
    charge(m);
  }
  toString = () => 'schedulerReachesIt';
}

class CancelNow implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await refusable(r, isLive(m) ? 'ok' : 'invalid_state', () =>
      r.subscriptions.cancel(
        { accountId: r.h.account.id, subscriptionId: r.subscriptionId, atPeriodEnd: false },
        request(r, 'cancel', { at_period_end: false }),
      ),
    );
    if (isLive(m)) {
      m.status = 'canceled';
      m.cancelAtPeriodEnd = false;
    }
  }
  toString = () => 'cancelNow';
}

class CancelAtPeriodEnd implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await refusable(r, isLive(m) ? 'ok' : 'invalid_state', () =>
      r.subscriptions.cancel(
        { accountId: r.h.account.id, subscriptionId: r.subscriptionId, atPeriodEnd: true },
        request(r, 'cancel', { at_period_end: true }),
      ),
    );
    if (isLive(m)) {
      m.cancelAtPeriodEnd = true;
    }
  }
  toString = () => 'cancelAtPeriodEnd';
}

class Resume implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const allowed = isLive(m) && m.cancelAtPeriodEnd;
    await refusable(r, allowed ? 'ok' : 'invalid_state', () =>
      r.subscriptions.resume(
        { accountId: r.h.account.id, subscriptionId: r.subscriptionId },
        request(r, 'resume', {}),
      ),
    );
    if (allowed) {
      m.cancelAtPeriodEnd = false;
    }
  }
  toString = () => 'resume';
}

/** A card change; a past-due subscription is retried on the new card at once. */
class ChangeCard implements fc.AsyncCommand<Model, Real> {
  constructor(readonly card: keyof typeof CARD_TOKENS) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const expected = !isLive(m) ? 'invalid_state' : this.card === 'declined' ? 'rejected' : 'ok';
    await refusable(r, expected, () =>
      r.subscriptions.changePaymentMethod(
        {
          accountId: r.h.account.id,
          subscriptionId: r.subscriptionId,
          paymentMethodId: CARD_TOKENS[this.card],
        },
        request(r, 'payment-method', { payment_method_id: CARD_TOKENS[this.card] }),
      ),
    );
    if (expected !== 'ok' || this.card === 'declined') {
      return;
    }
    m.card = this.card;
    if (m.status === 'past_due') {
      charge(m);
    }
  }
  toString = () => `changeCard(${this.card})`;
}

/** What must hold after every step, whatever ran. */
async function checkInvariants(m: Model, r: Real): Promise<void> {
  const s = await current(r);
  expect(s.status).toBe(m.status);
  if (isLive(m)) {
    expect({ cancelAtPeriodEnd: s.cancelAtPeriodEnd, dunning: s.dunningAttempts }).toEqual({
      cancelAtPeriodEnd: m.cancelAtPeriodEnd,
      dunning: m.dunning,
    });
  }
  const events = await r.h.store.repos.subscriptions.listEvents(r.subscriptionId);
  for (const e of events) {
    const allowed =
      e.fromStatus === null ||
      (e.fromStatus === e.toStatus && !isFinal('subscription', e.fromStatus)) ||
      SUBSCRIPTION_TRANSITIONS[e.fromStatus].includes(e.toStatus);
    expect({ from: e.fromStatus, to: e.toStatus, allowed }).toEqual({
      from: e.fromStatus,
      to: e.toStatus,
      allowed: true,
    });
  }
  if (isFinal('subscription', s.status)) {
    r.eventsWhenFinal ??= events.length;
    expect(events).toHaveLength(r.eventsWhenFinal);
  }
}

/** Wraps a command so the invariants are checked after it runs. */
function checked(command: fc.AsyncCommand<Model, Real>): fc.AsyncCommand<Model, Real> {
  return {
    check: (m) => command.check(m),
    run: async (m, r) => {
      await command.run(m, r);
      await checkInvariants(m, r);
    },
    toString: () => command.toString(),
  };
}

/**
 * A subscription whose first payment waits for 3-D Secure (`incomplete`), or one already paid on a card
 * whose renewals go through (`active`).
 */
async function setup(start: 'incomplete' | 'active'): Promise<{ model: Model; real: Real }> {
  const h = await paymentHarness();
  const deps = { store: h.store, gateway: h.gateway, clock: h.clock, logger: silentLogger };
  const renewals = new RenewalService({
    ...deps,
    dunningSchedule: SCHEDULE,
    threeDSecureReturnUrl: (id) => `${API_BASE}/api/v1/payments/${id}/return`,
  });
  const subscriptions = new SubscriptionService({ ...deps, renewals });
  const attempt = await h.service().create(
    ...h.request('first', {
      paymentMethodId: start === 'incomplete' ? 'pm_card_threeDSecure2Required' : CARD_TOKENS.good,
    }),
  );
  const subscriptionId = attempt.result.view.payment.subscriptionId;
  const kind = start === 'incomplete' ? 'requires_action' : 'succeeded';
  if (attempt.result.kind !== kind || subscriptionId === null) {
    throw new Error(`the first payment did not start the subscription ${start}: ${JSON.stringify(attempt)}`);
  }
  return {
    model: {
      status: start,
      cancelAtPeriodEnd: false,
      card: start === 'incomplete' ? '3ds' : 'good',
      dunning: 0,
    },
    real: {
      h,
      subscriptions,
      renewals,
      subscriptionId,
      firstPaymentId: attempt.result.view.payment.id,
      eventsWhenFinal: null,
      requests: 0,
    },
  };
}

const scheduler = fc.constant(new SchedulerReachesIt());
const changeCard = fc
  .constantFrom<(keyof typeof CARD_TOKENS)[]>('good', 'bad', 'bad', 'declined')
  .map((card) => new ChangeCard(card));
// fc.commands picks uniformly among these: time passing and card changes are listed more than once so
// runs spend long enough in `active` and `past_due` to reach dunning's end before a cancellation.
const commands = [
  fc.boolean().map((passed) => new FinishFirstPayment(passed)),
  fc.constant(new AbandonFirstPayment()),
  scheduler,
  scheduler,
  scheduler,
  scheduler,
  changeCard,
  changeCard,
  fc.constant(new CancelNow()),
  fc.constant(new CancelAtPeriodEnd()),
  fc.constant(new Resume()),
].map((arbitrary) => arbitrary.map(checked));

describe('the subscription state machine against a plain model', () => {
  it('matches the model after every step, moves only as the table allows, and never leaves a final state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('incomplete' as const, 'active' as const),
        fc.commands(commands, { maxCommands: 40, size: 'large' }),
        async (start, steps) => {
          const { model, real } = await setup(start);
          await fc.asyncModelRun(() => ({ model, real }), steps);
        },
      ),
      { numRuns: 250 },
    );
  });
});
