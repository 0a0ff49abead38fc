import type { Cause, Payment } from '../domain/entities.js';
import { InternalError, InvalidStateError } from '../errors.js';
import { ID_PREFIXES, type PaymentId } from '../ids.js';
import type { GatewayIntent } from '../ports/gateway.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
import { resumeStaleKeys } from './key-resumption.js';
import type { FlowDeps, PaymentFlow } from './payment-flow.js';
import { logFieldsOf } from './payment-log-fields.js';
import {
  STRIPE_WINDOW_MARGIN_MS,
  observed,
  reach,
  stripeCallKey,
  type GatewayCallName,
} from './payment-gateway-calls.js';
import { applyObservation, CANCELED_FAILURE, observeIntent, settleSubscription } from './payment-outcome.js';
import type { RecoveryReport } from './payment-results.js';

/** How many keys or payments recovery reads per query. */
const BATCH = 100;

const RECOVERY: Cause = { job: 'recovery' };

/** What one recovery pass needs besides the flow. */
export interface RecoveryDeps extends FlowDeps {
  readonly lockTimeoutMs: number;
}

/**
 * One pass of payment recovery (`pay recover`, the worker's loop), in three steps:
 * 1. asks Stripe about every payment still `pending`, `requires_action` or `processing` for longer than
 *    the lock timeout, and records what Stripe says (see {@link resolveInFlight});
 * 2. resumes every payment idempotency key left without a response, free or stale, younger than 24 h,
 *    from its recovery point (the client may be gone; its retry will then get the stored answer): a
 *    key whose payment step 1 settled is finished with that outcome;
 * 3. deletes idempotency keys older than 24 h.
 * A failure on one object is counted in `failures` and never stops the pass.
 */
export async function recoverPayments(
  deps: RecoveryDeps,
  flow: PaymentFlow,
  now: Date,
): Promise<RecoveryReport> {
  const failures: { id: PaymentId | string; error: string }[] = [];
  const fail = (id: string, error: unknown) => {
    const described = logFieldsOf(error);
    deps.logger.warn('recovery could not finish an object this pass', { id, error: described });
    failures.push({ id, error: String(described.message) });
  };

  const staleBefore = new Date(now.getTime() - deps.lockTimeoutMs);

  let paymentsResolved = 0;
  let afterPayment: PaymentId | undefined;
  for (;;) {
    const payments = await deps.store.repos.payments.listInFlight({
      createdBefore: staleBefore,
      afterId: afterPayment,
      limit: BATCH,
    });
    for (const payment of payments) {
      try {
        if (await resolveInFlight(deps, payment, now)) {
          paymentsResolved += 1;
        }
      } catch (error) {
        fail(payment.id, error);
      }
    }
    afterPayment = payments.at(-1)?.id;
    if (payments.length < BATCH) {
      break;
    }
  }

  // After Stripe was asked: a key whose payment that just settled is finished from the recorded outcome
  // in this same pass, instead of repeating a call whose stored answer (a 500) can never change.
  const keysResumed = await resumeStaleKeys(
    deps.store,
    { now, lockTimeoutMs: deps.lockTimeoutMs, resourceIdPrefix: `${ID_PREFIXES.payment}_`, batch: BATCH },
    async (key) => {
      await flow.run(key, RECOVERY);
    },
    fail,
  );

  const keysReaped = await deps.store.repos.idempotencyKeys.deleteCreatedBefore(
    new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS),
  );
  return { keysResumed, paymentsResolved, keysReaped, failures };
}

function call<T>(deps: FlowDeps, name: GatewayCallName, run: () => Promise<T>): Promise<T> {
  return observed(name, deps.observeGatewayCall, run);
}

/**
 * Brings one in-flight payment in line with Stripe; true when its status changed.
 * - With an intent: retrieves it and records its status. An intent never confirmed is left to the
 *   payment's idempotency key while that lives (24 h); after that nobody will confirm it, so it is
 *   canceled at Stripe and the payment `canceled`.
 * - Without an intent, younger than 24 h: left to its idempotency key, which step 1 resumes (canceling
 *   it here would turn a Stripe outage the client is retrying through into a canceled payment).
 * - Without an intent, older: Stripe is asked whether an intent for it exists (a create whose answer
 *   was lost); one found is recorded as above. With none, no charge can exist, so the payment is
 *   `canceled` — under the payment's row lock, where the flow records an intent's id, so a flow still
 *   running either sees the cancellation (and cancels its intent) or makes recovery see its intent.
 */
export async function resolveInFlight(deps: FlowDeps, payment: Payment, now: Date): Promise<boolean> {
  const expired = now.getTime() - payment.createdAt.getTime() >= IDEMPOTENCY_KEY_TTL_MS;
  let intent: GatewayIntent | null;
  let current = payment;
  if (payment.stripePaymentIntentId === null) {
    if (!expired) {
      return false;
    }
    intent = await findIntent(deps, payment);
    if (intent === null) {
      return abandon(deps, payment, now);
    }
    const intentId = intent.stripePaymentIntentId;
    const recorded = await deps.store.repos.payments.setStripeIntentId(payment.id, intentId);
    if (recorded === null) {
      throw new InternalError(`Payment ${payment.id} records another PaymentIntent than ${intentId}.`);
    }
    current = recorded;
  } else {
    const intentId = payment.stripePaymentIntentId;
    reach(deps.faults, 'payment.before_retrieve_intent');
    intent = await call(deps, 'retrieve_intent', () => deps.gateway.retrieveIntent(intentId));
  }
  if (intent.status === 'pending') {
    if (!expired) {
      return false;
    }
    intent = await cancelAtStripe(deps, current, intent.stripePaymentIntentId);
  }
  const observation = observeIntent(intent);
  const before = current.status;
  const after = await deps.store.transaction(async (tx) => {
    const moved = await applyObservation(tx, current, observation, now, RECOVERY);
    reach(deps.faults, 'payment.after_retrieve_intent_before_commit');
    return moved;
  });
  return after.status !== before;
}

async function findIntent(deps: FlowDeps, payment: Payment): Promise<GatewayIntent | null> {
  const customer = await deps.store.repos.customers.findById(payment.accountId, payment.customerId);
  const stripeCustomerId = customer?.stripeCustomerId ?? null;
  // The flow records the Stripe customer before it creates an intent: without one, there is none.
  if (stripeCustomerId === null) {
    return null;
  }
  return call(deps, 'find_intent', () =>
    deps.gateway.findIntentByPaymentId({
      paymentId: payment.id,
      stripeCustomerId,
      createdAfter: new Date(payment.createdAt.getTime() - STRIPE_WINDOW_MARGIN_MS),
    }),
  );
}

/** Cancels the intent at Stripe; one that completed meanwhile (succeeded, processing) is read back instead. */
export async function cancelAtStripe(
  deps: FlowDeps,
  payment: Payment,
  intentId: string,
): Promise<GatewayIntent> {
  try {
    return await call(deps, 'cancel_intent', () =>
      deps.gateway.cancelIntent({
        stripePaymentIntentId: intentId,
        idempotencyKey: stripeCallKey(payment, 'cancel_intent'),
      }),
    );
  } catch (error) {
    if (!(error instanceof InvalidStateError)) {
      throw error;
    }
    // It moved on its own meanwhile (confirmed after all): record that instead.
    return call(deps, 'retrieve_intent', () => deps.gateway.retrieveIntent(intentId));
  }
}

async function abandon(deps: FlowDeps, payment: Payment, now: Date): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    const locked = await tx.payments.lockById(payment.id);
    if (locked === null || locked.status !== 'pending' || locked.stripePaymentIntentId !== null) {
      return false;
    }
    const canceled = await tx.payments.transition(
      payment.id,
      { from: 'pending', to: 'canceled', patch: { ...CANCELED_FAILURE } },
      RECOVERY,
    );
    if (canceled === null) {
      return false;
    }
    await settleSubscription(tx, canceled, now, RECOVERY);
    return true;
  });
}
