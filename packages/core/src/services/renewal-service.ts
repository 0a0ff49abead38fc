import { DependencyUnavailableError, InternalError } from '../errors.js';
import { newId, type PaymentId, type SubscriptionId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import { noFaults, type FaultPoints } from '../ports/faults.js';
import type { PaymentGateway } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS } from './idempotency.js';
import { PaymentFlow, type FlowDeps } from './payment-flow.js';
import { logFieldsOf } from './payment-log-fields.js';
import type { PaymentServiceDeps } from './payment-service.js';
import { reachRenewal, startRenewal } from './renewal-charge.js';
import { expireIncomplete } from './renewal-incomplete.js';
import { RENEWALS_JOB, settleRenewal, type Settlement } from './renewal-settlement.js';
import {
  DEFAULT_DUNNING_SCHEDULE,
  INCOMPLETE_EXPIRY_MS,
  type DunningSchedule,
  type RenewalOutcome,
  type RenewalReport,
} from './subscription-results.js';

export { RENEWAL_CRASH_POINTS, type RenewalCrashPoint } from './renewal-charge.js';

/** How many due subscriptions (and how many abandoned `incomplete` ones) one pass takes at most. */
export const DEFAULT_RENEWAL_BATCH = 500;

/** What {@link RenewalService} is built from; `createPay` in `@pay/runtime` wires it. */
export interface RenewalServiceDeps {
  /** Where subscriptions and their renewal payments live; each phase is one short transaction. */
  readonly store: Store;
  /** Stripe, charging the saved card off-session; never called inside a transaction. */
  readonly gateway: PaymentGateway;
  /** What decides which subscriptions are due, unless a pass is given its own `now`. */
  readonly clock: Clock;
  /**
   * Where each renewal's outcome is logged, and a renewal that could not run (not a decline); the pass goes
   * on.
   */
  readonly logger: Logger;
  /** Named crash points ({@link RENEWAL_CRASH_POINTS} and the payment flow's); inert by default. */
  readonly faults?: FaultPoints;
  /** When `past_due` subscriptions are retried; {@link DEFAULT_DUNNING_SCHEDULE} by default. */
  readonly dunningSchedule?: DunningSchedule;
  /** The payment flow needs it; a renewal is confirmed off-session, without a 3-D Secure return. */
  readonly threeDSecureReturnUrl: (paymentId: PaymentId) => string;
  /**
   * Called after every gateway call of a renewal charge, as for
   * {@link PaymentServiceDeps.observeGatewayCall}.
   */
  readonly observeGatewayCall?: PaymentServiceDeps['observeGatewayCall'];
  /** How long a renewal run may hold its key before another scheduler takes it over; 60 s. */
  readonly lockTimeoutMs?: number;
  /** Called once per renewal charge outcome, for metrics. */
  readonly observeRenewal?: (outcome: 'attempted' | 'succeeded' | 'failed') => void;
}

const CAUSE = { job: RENEWALS_JOB } as const;

/**
 * The renewal scheduler's work (issue 6): charges each due subscription's next period off-session,
 * retries `past_due` ones on the dunning schedule, ends cancellations at period end, and expires
 * `incomplete` subscriptions whose first payment was abandoned.
 *
 * A renewal is a payment driven by the payment flow in atomic phases: (1) one transaction, the
 * subscription row locked, re-checks that it is due and records the renewal payment with its
 * idempotency key; (2) the flow creates and confirms the PaymentIntent outside any transaction, with a
 * Stripe key derived from (subscription, period, try); (3) one transaction, the row locked again, moves
 * the subscription to match the payment. Any number of schedulers may run at once, and any may die
 * anywhere: a period is billed once (the derived key and a unique row per try), and a subscription stays
 * due until its renewal is settled, so a later pass finishes what a dead one began.
 */
export class RenewalService {
  private readonly flow: PaymentFlow;
  private readonly flowDeps: FlowDeps;
  private readonly schedule: DunningSchedule;
  private readonly lockTimeoutMs: number;

  constructor(private readonly deps: RenewalServiceDeps) {
    this.schedule = deps.dunningSchedule ?? DEFAULT_DUNNING_SCHEDULE;
    this.lockTimeoutMs = deps.lockTimeoutMs ?? DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS;
    this.flowDeps = {
      store: deps.store,
      gateway: deps.gateway,
      clock: deps.clock,
      logger: deps.logger,
      faults: deps.faults ?? noFaults,
      threeDSecureReturnUrl: deps.threeDSecureReturnUrl,
      observeGatewayCall: deps.observeGatewayCall,
    };
    this.flow = new PaymentFlow(this.flowDeps);
  }

  /**
   * One scheduler pass: every due subscription (`active` or `past_due` whose next billing time has come,
   * oldest first) and every `incomplete` one past INCOMPLETE_EXPIRY_MS, one by one. A failure on one is
   * counted in `failures` and never stops the pass. `now` (default: the clock) decides what is due.
   */
  async renewDue(options: { readonly now?: Date; readonly limit?: number } = {}): Promise<RenewalReport> {
    const now = options.now ?? this.deps.clock.now();
    const limit = options.limit ?? DEFAULT_RENEWAL_BATCH;
    const report = {
      attempted: 0,
      renewed: 0,
      failed: 0,
      expired: 0,
      canceled: 0,
      waiting: 0,
      failures: [] as { id: string; error: string }[],
    };
    const fail = (id: string, error: unknown) => {
      const described = logFieldsOf(error);
      this.deps.logger.warn('a renewal could not finish this pass', { subscriptionId: id, error: described });
      report.failures.push({ id, error: String(described.message) });
    };
    const attempted = () => {
      report.attempted += 1;
    };
    const count = (run: Settlement) => {
      report.failed += run.charge === 'failed' ? 1 : 0;
      const kind = run.outcome.kind;
      if (kind === 'renewed' || kind === 'expired' || kind === 'canceled' || kind === 'waiting') {
        report[kind] += 1;
      }
    };

    for (const subscription of await this.deps.store.repos.subscriptions.listDue(now, limit)) {
      try {
        count(await this.run(subscription.id, now, 'scheduled', attempted));
      } catch (error) {
        fail(subscription.id, error);
      }
    }
    const abandoned = await this.deps.store.repos.subscriptions.listIncompleteCreatedBefore(
      new Date(now.getTime() - INCOMPLETE_EXPIRY_MS),
      limit,
    );
    for (const subscription of abandoned) {
      try {
        const outcome = await expireIncomplete(this.flowDeps, subscription, this.deps.clock.now());
        count({ outcome, charge: null });
      } catch (error) {
        fail(subscription.id, error);
      }
    }
    return report;
  }

  /**
   * Renews one subscription of any account now if it has a period to pay: an `active` one whose next
   * billing time has come, or a `past_due` one at once (the retry after its card changed). The outcome
   * says what happened; NotFoundError for an unknown id. A Stripe that does not answer is `waiting`
   * (the next pass, or the recovery job, resumes the same charge).
   */
  async renew(
    subscriptionId: SubscriptionId,
    options: { readonly now?: Date } = {},
  ): Promise<RenewalOutcome> {
    const run = await this.run(subscriptionId, options.now ?? this.deps.clock.now(), 'now', () => undefined);
    return run.outcome;
  }

  /** Renews one subscription; `attempted` is told when a charge for a new try is about to be sent. */
  private async run(
    subscriptionId: SubscriptionId,
    now: Date,
    when: 'scheduled' | 'now',
    attempted: () => void,
  ): Promise<Settlement> {
    const lockAt = this.deps.clock.now();
    const start = await this.deps.store.transaction((tx) =>
      startRenewal(tx, subscriptionId, {
        now,
        lockAt,
        when,
        lockTimeoutMs: this.lockTimeoutMs,
        schedule: this.schedule,
        newPaymentId: newId('payment', lockAt),
      }),
    );
    if (start.kind === 'done') {
      this.observe(start.settlement);
      return start.settlement;
    }
    const { paymentId, created } = start;
    if (created) {
      reachRenewal(this.flowDeps.faults, 'renewal.after_payment_insert');
      this.deps.observeRenewal?.('attempted');
      attempted();
    }
    try {
      await this.flow.run(start.key, CAUSE);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) {
        throw error;
      }
      // The payment stays `pending` at its recovery point and the subscription due: resumed later.
      return { outcome: { kind: 'waiting', subscriptionId, paymentId }, charge: null };
    }
    reachRenewal(this.flowDeps.faults, 'renewal.after_charge_before_settle');
    const settlement = await this.deps.store.transaction(async (tx) => {
      const subscription = await tx.subscriptions.lockById(subscriptionId);
      if (subscription === null) {
        throw new InternalError(`Subscription ${subscriptionId} disappeared during its renewal.`);
      }
      return settleRenewal(tx, subscription, paymentId, this.schedule, this.deps.clock.now());
    });
    this.observe(settlement);
    return settlement;
  }

  private observe(settlement: Settlement): void {
    const { outcome, charge } = settlement;
    if (charge !== null) {
      this.deps.observeRenewal?.(charge);
    }
    if (outcome.kind !== 'not_due' && outcome.kind !== 'waiting') {
      this.deps.logger.info('subscription renewal', { ...outcome });
    }
  }
}
