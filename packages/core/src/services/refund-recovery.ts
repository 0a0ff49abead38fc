import type { Cause, Refund } from '../domain/entities.js';
import { ID_PREFIXES, type RefundId } from '../ids.js';
import { resumeStaleKeys } from './key-resumption.js';
import { logFieldsOf } from './payment-log-fields.js';
import { observed } from './payment-gateway-calls.js';
import type { RefundFlow, RefundFlowDeps } from './refund-flow.js';
import type { RefundObservation } from './refund-outcome.js';
import type { RefundRecoveryReport } from './refund-results.js';

/** How many keys or refunds recovery reads per query. */
const BATCH = 100;

const RECOVERY: Cause = { job: 'recovery' };

/** What one refund recovery pass needs besides the flow. */
export interface RefundRecoveryDeps extends RefundFlowDeps {
  readonly lockTimeoutMs: number;
}

/**
 * One pass of refund recovery, in two steps (a failure on one object is counted, never stops the pass):
 * 1. brings every refund pay made that is still `pending` without word for longer than the lock timeout
 *    in line with Stripe: one Stripe holds (its id is recorded) is retrieved; one never answered for is
 *    created again with the same key inside Stripe's 24 h window, and looked up after it — a refund
 *    Stripe does not hold by then is `canceled` (nothing was refunded; its amount is refundable again);
 * 2. resumes every refund idempotency key left without a response, free or stale, younger than 24 h
 *    (the client may be gone; its retry then gets the stored answer): a key whose refund step 1
 *    settled is finished with that outcome.
 * Deleting expired keys is left to the payment recovery pass, which deletes every kind.
 */
export async function recoverRefunds(
  deps: RefundRecoveryDeps,
  flow: RefundFlow,
  now: Date,
): Promise<RefundRecoveryReport> {
  const failures: { id: string; error: string }[] = [];
  const fail = (id: string, error: unknown) => {
    const described = logFieldsOf(error);
    deps.logger.warn('refund recovery could not finish an object this pass', { id, error: described });
    failures.push({ id, error: String(described.message) });
  };

  const staleBefore = new Date(now.getTime() - deps.lockTimeoutMs);

  let refundsResolved = 0;
  let afterRefund: RefundId | undefined;
  for (;;) {
    const refunds = await deps.store.repos.refunds.listInFlight({
      updatedBefore: staleBefore,
      afterId: afterRefund,
      limit: BATCH,
    });
    for (const refund of refunds) {
      try {
        if (await resolveInFlightRefund(deps, flow, refund, now)) {
          refundsResolved += 1;
        }
      } catch (error) {
        fail(refund.id, error);
      }
    }
    afterRefund = refunds.at(-1)?.id;
    if (refunds.length < BATCH) {
      break;
    }
  }

  // After Stripe was asked, as for payments: a key whose refund just settled is finished in this pass.
  const keysResumed = await resumeStaleKeys(
    deps.store,
    { now, lockTimeoutMs: deps.lockTimeoutMs, resourceIdPrefix: `${ID_PREFIXES.refund}_`, batch: BATCH },
    async (key) => {
      await flow.run(key, RECOVERY);
    },
    fail,
  );
  return { keysResumed, refundsResolved, failures };
}

/**
 * Brings one pending refund in line with Stripe; true when its status changed. With a Stripe id, Stripe
 * is asked how it stands; without one the flow's own phase 2 runs (the same create key inside the
 * window, a lookup after it).
 */
async function resolveInFlightRefund(
  deps: RefundRecoveryDeps,
  flow: RefundFlow,
  refund: Refund,
  now: Date,
): Promise<boolean> {
  const stripeRefundId = refund.stripeRefundId;
  let observation: RefundObservation;
  if (stripeRefundId === null) {
    observation = await flow.ask(refund, now);
  } else {
    const stripe = await observed('retrieve_refund', deps.observeGatewayCall, () =>
      deps.gateway.retrieveRefund(stripeRefundId),
    );
    observation = { kind: 'gateway', refund: stripe };
  }
  const recorded = await flow.settle(refund, observation, RECOVERY);
  return recorded.moved;
}
