import type { Cause } from '../domain/entities.js';
import { ValidationError } from '../errors.js';
import type { PaymentId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { GatewayIntent } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { STRIPE_WINDOW_MARGIN_MS } from './payment-gateway-calls.js';
import { logFieldsOf } from './payment-log-fields.js';
import { reconcileUnrecordedIntent } from './reconcile-intents.js';
import {
  reconcilePayment,
  type ReconcileContext,
  type ReconcileServiceGateway,
} from './reconcile-payment.js';
import {
  DRIFT_KINDS,
  type DriftItem,
  type DriftKind,
  type ReconcileInput,
  type ReconcileReport,
} from './reconcile-results.js';
import type { RefundSubscriptionPolicy } from './refund-results.js';

export type { ReconcileServiceGateway } from './reconcile-payment.js';
export { orphanCancelKey } from './reconcile-intents.js';

/** How many payments reconciliation reads per query. */
const BATCH = 100;

const RECONCILE: Cause = { job: 'reconcile' };

/** What {@link ReconcileService} is built from. */
export interface ReconcileServiceDeps {
  /** pay's ledger: payments and refunds of every account, read and repaired under their row locks. */
  readonly store: Store;
  /** Stripe, read for intents and refunds, and written to only to cancel an orphan intent. */
  readonly gateway: ReconcileServiceGateway;
  /** The end of the window when a run names no `until`. */
  readonly clock: Clock;
  /**
   * Where an object that could not be compared, a drift pay must not repair and each run's totals are logged.
   */
  readonly logger: Logger;
  /** PAY_REFUND_SUBSCRIPTION_POLICY: what a payment found refunded in full does to its subscription. */
  readonly refundSubscriptionPolicy: RefundSubscriptionPolicy;
}

/**
 * Reconciliation (`pay reconcile`, RELIABILITY.md H1): compares pay's ledger with Stripe over a window
 * and, asked to, repairs it through the state machines with event rows whose cause is
 * `{ job: 'reconcile' }`. Stripe is read first and written to (an orphan's cancel) outside any
 * transaction; every repair is its own short transaction under the payment's row lock, re-checked there,
 * so a webhook or the flow writing meanwhile wins and the repair becomes a no-op. A second run after a
 * fixing one finds nothing but what is unfixable.
 */
export class ReconcileService {
  constructor(private readonly deps: ReconcileServiceDeps) {}

  /**
   * Compares every payment created in `[since, until)` (all accounts) and its refunds with Stripe, and
   * every intent Stripe holds from that window (with a margin for clock skew) that names a pay payment.
   * A failure on one object is listed in `failures` and never stops the run.
   */
  async run(input: ReconcileInput): Promise<ReconcileReport> {
    const now = this.deps.clock.now();
    const until = input.until ?? now;
    if (until.getTime() <= input.since.getTime()) {
      throw new ValidationError('The window to reconcile is empty: `since` must be before `until`.', {
        param: 'since',
      });
    }
    const ctx: ReconcileContext = {
      store: this.deps.store,
      gateway: this.deps.gateway,
      logger: this.deps.logger,
      refundSubscriptionPolicy: this.deps.refundSubscriptionPolicy,
      now,
      fix: input.fix,
      cause: RECONCILE,
    };
    const items: DriftItem[] = [];
    const failures: { id: string; error: string }[] = [];
    const attempt = async (id: string, fn: () => Promise<readonly DriftItem[]>) => {
      try {
        items.push(...(await fn()));
      } catch (error) {
        const described = logFieldsOf(error);
        this.deps.logger.warn('reconcile could not compare an object this run', { id, error: described });
        failures.push({ id, error: String(described.message) });
      }
    };

    const intents = await this.listIntents(input.since, until);
    const seen = new Set<string>();
    let paymentsChecked = 0;
    let afterId: PaymentId | undefined;
    for (;;) {
      const payments = await this.deps.store.repos.payments.listCreatedBetween({
        createdAfter: input.since,
        createdBefore: until,
        afterId,
        limit: BATCH,
      });
      for (const payment of payments) {
        paymentsChecked += 1;
        if (payment.stripePaymentIntentId !== null) {
          seen.add(payment.stripePaymentIntentId);
        }
        await attempt(payment.id, () =>
          reconcilePayment(ctx, payment, intents.get(payment.stripePaymentIntentId ?? '')),
        );
      }
      afterId = payments.at(-1)?.id;
      if (payments.length < BATCH) {
        break;
      }
    }

    for (const intent of intents.values()) {
      if (seen.has(intent.stripePaymentIntentId)) {
        continue;
      }
      await attempt(intent.stripePaymentIntentId, async () => {
        const recorded = await this.deps.store.repos.payments.findByStripeIntentId(
          intent.stripePaymentIntentId,
        );
        if (recorded === null) {
          const item = await reconcileUnrecordedIntent(ctx, intent);
          return item === null ? [] : [item];
        }
        // A payment created just outside the window whose intent falls inside it: compared all the same.
        paymentsChecked += 1;
        return reconcilePayment(ctx, recorded, intent);
      });
    }

    const report: ReconcileReport = {
      since: input.since,
      until,
      fix: input.fix,
      paymentsChecked,
      intentsChecked: intents.size,
      counts: countByKind(items),
      items,
      failures,
    };
    this.deps.logger.info('reconcile run finished', {
      fix: input.fix,
      paymentsChecked,
      intentsChecked: intents.size,
      counts: report.counts,
      fixed: items.filter((i) => i.fixed).length,
      unfixable: items.filter((i) => i.unfixable).length,
      failures: failures.length,
    });
    return report;
  }

  /** Every intent naming a pay payment created in the window, widened by the clock-skew margin. */
  private async listIntents(since: Date, until: Date): Promise<Map<string, GatewayIntent>> {
    const intents = new Map<string, GatewayIntent>();
    let startingAfter: string | null = null;
    do {
      const page = await this.deps.gateway.listIntents({
        createdAfter: new Date(since.getTime() - STRIPE_WINDOW_MARGIN_MS),
        createdBefore: new Date(until.getTime() + STRIPE_WINDOW_MARGIN_MS),
        ...(startingAfter === null ? {} : { startingAfter }),
      });
      for (const intent of page.data) {
        intents.set(intent.stripePaymentIntentId, intent);
      }
      startingAfter = page.nextStartingAfter;
    } while (startingAfter !== null);
    return intents;
  }
}

function countByKind(items: readonly DriftItem[]): Record<DriftKind, number> {
  const counts = Object.fromEntries(DRIFT_KINDS.map((kind) => [kind, 0])) as Record<DriftKind, number>;
  for (const item of items) {
    counts[item.kind] += 1;
  }
  return counts;
}
