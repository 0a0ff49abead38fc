import type { Cause, IdempotencyKey, Payment } from '../domain/entities.js';
import {
  GatewayRejectedError,
  InternalError,
  InvalidStateError,
  UnknownGatewayStateError,
} from '../errors.js';
import type { PaymentId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { FaultPoints } from '../ports/faults.js';
import type { GatewayIntent, PaymentGateway } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import { FINISHED_RECOVERY_POINT } from './idempotency.js';
import {
  STRIPE_WINDOW_MARGIN_MS,
  observed,
  pastStripeKeyWindow,
  reach,
  stripeCallKey,
  stripeCustomerKey,
  type GatewayCallName,
  type PaymentCrashPoint,
} from './payment-gateway-calls.js';
import {
  loadRows,
  paymentIdOf,
  recoveryPointOf,
  storedPaymentMethod,
  storedThreeDSecureReturnUrl,
  type FlowRows,
} from './payment-flow-state.js';
import {
  applyObservation,
  observeConfirmation,
  observeIntent,
  paymentResultStatus,
  resultOf,
  viewOf,
  type Observation,
} from './payment-outcome.js';
import { encodePaymentResult } from './payment-result-codec.js';
import { releaseKey, type PausedFlow } from './key-release.js';
import type { PaymentResult } from './payment-results.js';

const PAYMENT_FLOW: PausedFlow = {
  name: 'payment flow',
  resourceField: 'paymentId',
  progress: 'the payment’s progress',
};

/** What the flow runs on: the service's dependencies with their defaults applied. */
export interface FlowDeps {
  readonly store: Store;
  readonly gateway: PaymentGateway;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly faults: FaultPoints;
  readonly threeDSecureReturnUrl: (paymentId: PaymentId) => string;
  readonly observeGatewayCall:
    ((call: GatewayCallName, seconds: number, outcome: 'ok' | 'error') => void) | undefined;
}

/**
 * The payment flow after its first transaction (Brandur Leach's atomic phases): each gateway call is made
 * outside any transaction, and its answer is recorded in one short transaction that advances the key's
 * recovery point. Driven by the request that created the key, by a retry that took the key over, and by
 * the recovery job: each continues from the recovery point and never makes a second payment or intent.
 */
export class PaymentFlow {
  constructor(private readonly deps: FlowDeps) {}

  /**
   * Drives the payment of `key` (locked by the caller) to its outcome, stores the result on the key and
   * returns it. `recorded`: the rows the caller has just written under the key's lock (a new payment),
   * so nothing else can have moved them; otherwise they are read first. On failure the key is released at its last recovery point, the payment stays `pending`,
   * and the error is thrown: retryable ones as a {@link DependencyUnavailableError}.
   */
  async run(key: IdempotencyKey, cause: Cause, recorded?: FlowRows): Promise<PaymentResult> {
    try {
      return await this.drive(key, cause, recorded);
    } catch (error) {
      throw await this.release(key, error);
    }
  }

  private async drive(key: IdempotencyKey, cause: Cause, recorded?: FlowRows): Promise<PaymentResult> {
    const paymentId = paymentIdOf(key);
    let rows = recorded ?? (await loadRows(this.deps.store.repos, paymentId));
    const { status, nextActionUrl, stripePaymentIntentId } = rows.payment;
    // A 3-D Secure challenge recorded without its page (by a webhook): the confirm's answer has it.
    const challengeWithoutPage =
      status === 'requires_action' && nextActionUrl === null && stripePaymentIntentId !== null;
    // Decided elsewhere (the 3-D Secure return, a webhook, recovery): answer from the row.
    if (status !== 'pending' && !challengeWithoutPage) {
      return this.finish(rows, key, null, cause, null);
    }
    try {
      let point = challengeWithoutPage ? 'intent_created' : recoveryPointOf(key);
      if (point === 'started' || point === 'payment_created') {
        const stripeCustomerId = await this.ensureStripeCustomer(rows);
        rows = { ...rows, customer: { ...rows.customer, stripeCustomerId } };
        const attached = await this.attachCard(rows, key, stripeCustomerId, cause);
        if (attached.done !== null) {
          return attached.done;
        }
        rows = attached.rows;
        point = 'card_attached';
      }
      if (point === 'card_attached') {
        const created = await this.ensureIntent(rows, key, cause);
        if (created.done !== null) {
          return created.done;
        }
        rows = created.rows;
        point = 'intent_created';
      }
      if (point === 'intent_created') {
        return await this.confirm(rows, key, cause);
      }
      throw new InternalError(`Idempotency key ${key.id} is ${point} but holds no response.`);
    } catch (error) {
      if (error instanceof GatewayRejectedError) {
        // Stripe refused the request itself (an unknown or unusable card): nothing happened there,
        // and the same request would be refused again, so the answer is final and stored.
        const observation: Observation = {
          kind: 'rejected',
          gatewayCode: error.gatewayCode,
          message: error.message,
          ...(error.param === 'payment_method' || error.param === 'payment_method_id'
            ? { param: 'payment_method_id' }
            : {}),
        };
        const current = await loadRows(this.deps.store.repos, paymentId);
        return this.finish(current, key, observation, cause, null);
      }
      throw error;
    }
  }

  private async ensureStripeCustomer(rows: FlowRows): Promise<string> {
    const { customer } = rows;
    if (customer.stripeCustomerId !== null) {
      return customer.stripeCustomerId;
    }
    reach(this.deps.faults, 'payment.before_create_customer');
    const created = await this.call('create_customer', () =>
      this.deps.gateway.createCustomer({
        accountId: customer.accountId,
        customerId: customer.id,
        idempotencyKey: stripeCustomerKey(customer),
      }),
    );
    // One statement, so no transaction around it: a crash here leaves nothing recorded, as one before
    // the commit of a transaction would.
    reach(this.deps.faults, 'payment.after_create_customer_before_commit');
    const { customers } = this.deps.store.repos;
    const recorded = await customers.setStripeCustomerId(customer.id, created.stripeCustomerId);
    // Another payment of the same user recorded its Stripe customer first: use that one.
    const current = recorded ?? (await customers.findById(customer.accountId, customer.id));
    if (current === null || current.stripeCustomerId === null) {
      throw new InternalError(`Customer ${customer.id} lost its Stripe customer.`);
    }
    return current.stripeCustomerId;
  }

  private async attachCard(
    rows: FlowRows,
    key: IdempotencyKey,
    stripeCustomerId: string,
    cause: Cause,
  ): Promise<{ done: PaymentResult; rows?: never } | { done: null; rows: FlowRows }> {
    const { payment } = rows;
    reach(this.deps.faults, 'payment.before_attach_payment_method');
    const outcome = await this.call('attach_payment_method', () =>
      this.deps.gateway.attachPaymentMethod({
        stripeCustomerId,
        paymentMethod: storedPaymentMethod(key),
        idempotencyKey: stripeCallKey(payment, 'attach_payment_method'),
      }),
    );
    if (outcome.kind === 'declined') {
      const observation: Observation = { kind: 'declined', decline: outcome.decline };
      return {
        done: await this.finish(
          rows,
          key,
          observation,
          cause,
          'payment.after_attach_payment_method_before_commit',
        ),
      };
    }
    const card = await this.deps.store.transaction(async (tx) => {
      const stored = await tx.paymentMethods.upsertByStripeId({
        accountId: payment.accountId,
        customerId: payment.customerId,
        ...outcome.card,
      });
      if (stored.accountId !== payment.accountId || stored.customerId !== payment.customerId) {
        throw new InternalError(
          `Stripe attached a card pay holds for another customer to payment ${payment.id}.`,
        );
      }
      if ((await tx.payments.setPaymentMethodId(payment.id, stored.id)) === null) {
        throw new InternalError(`Payment ${payment.id} already records another card.`);
      }
      await tx.idempotencyKeys.update(key.id, { recoveryPoint: 'card_attached' });
      reach(this.deps.faults, 'payment.after_attach_payment_method_before_commit');
      return stored;
    });
    return { done: null, rows: { ...rows, payment: { ...payment, paymentMethodId: card.id }, card } };
  }

  private async ensureIntent(
    rows: FlowRows,
    key: IdempotencyKey,
    cause: Cause,
  ): Promise<{ done: PaymentResult; rows?: never } | { done: null; rows: FlowRows }> {
    const { payment, customer, card } = rows;
    if (payment.stripePaymentIntentId !== null) {
      await this.deps.store.repos.idempotencyKeys.update(key.id, { recoveryPoint: 'intent_created' });
      return { done: null, rows };
    }
    if (card === null || customer.stripeCustomerId === null) {
      throw new InternalError(`Payment ${payment.id} is past attaching its card but records none.`);
    }
    const stripeCustomerId = customer.stripeCustomerId;
    let intent: GatewayIntent | null = null;
    if (pastStripeKeyWindow(payment, this.deps.clock.now())) {
      // Past Stripe's key window a re-sent create would make a second intent: ask Stripe first.
      intent = await this.call('find_intent', () =>
        this.deps.gateway.findIntentByPaymentId({
          paymentId: payment.id,
          stripeCustomerId,
          createdAfter: new Date(payment.createdAt.getTime() - STRIPE_WINDOW_MARGIN_MS),
        }),
      );
    }
    if (intent === null) {
      reach(this.deps.faults, 'payment.before_create_intent');
      intent = await this.call('create_intent', () =>
        this.deps.gateway.createIntent({
          paymentId: payment.id,
          accountId: payment.accountId,
          amount: payment.amount,
          currency: payment.currency,
          stripeCustomerId,
          stripePaymentMethodId: card.stripePaymentMethodId,
          idempotencyKey: stripeCallKey(payment, 'create_intent'),
          ...(payment.billingReason === 'subscription_create' ? { setupFutureUsage: 'off_session' } : {}),
        }),
      );
    }
    const intentId = intent.stripePaymentIntentId;
    const recorded = await this.deps.store.transaction(async (tx) => {
      // Under the row lock: recovery abandons a payment with no intent only under the same lock, so
      // either it sees this intent's id or this flow sees the payment it abandoned.
      const current = await tx.payments.lockById(payment.id);
      if (current !== null && current.stripePaymentIntentId === intentId) {
        // Another driver of this key (the request whose lock went stale, a retry, recovery) recorded
        // this very intent first — Stripe answered both from one key. It is the payment's own intent,
        // never an orphan to cancel: carry on from it.
        await tx.idempotencyKeys.update(key.id, { recoveryPoint: 'intent_created' });
        return current;
      }
      if (current === null || current.status !== 'pending') {
        return null;
      }
      const withIntent = await tx.payments.setStripeIntentId(payment.id, intentId);
      if (withIntent === null) {
        throw new InternalError(
          `Payment ${payment.id} already records another PaymentIntent than ${intentId}.`,
        );
      }
      await tx.idempotencyKeys.update(key.id, { recoveryPoint: 'intent_created' });
      reach(this.deps.faults, 'payment.after_create_intent_before_commit');
      return withIntent;
    });
    if (recorded === null) {
      // The payment was settled without this intent: make sure the intent can never be confirmed.
      await this.call('cancel_intent', () =>
        this.deps.gateway.cancelIntent({
          stripePaymentIntentId: intentId,
          idempotencyKey: stripeCallKey(payment, 'cancel_intent'),
        }),
      );
      return { done: await this.finish(rows, key, null, cause, null) };
    }
    return { done: null, rows: { ...rows, payment: recorded } };
  }

  private async confirm(rows: FlowRows, key: IdempotencyKey, cause: Cause): Promise<PaymentResult> {
    const { payment } = rows;
    const intentId = payment.stripePaymentIntentId;
    if (intentId === null) {
      throw new InternalError(`Payment ${payment.id} is at intent_created without an intent.`);
    }
    let observation: Observation | null = null;
    if (pastStripeKeyWindow(payment, this.deps.clock.now())) {
      // A confirm re-sent past the key window would be a new attempt: look first, confirm only if unconfirmed.
      const current = observeIntent(await this.retrieve(intentId));
      observation = current.kind === 'pending' ? null : current;
    }
    if (observation === null) {
      reach(this.deps.faults, 'payment.before_confirm');
      try {
        observation = observeConfirmation(
          await this.call('confirm_intent', () =>
            this.deps.gateway.confirmIntent({
              stripePaymentIntentId: intentId,
              idempotencyKey: stripeCallKey(payment, 'confirm_intent'),
              // A renewal charges a card holder who is not there: Stripe then declines a card that needs
              // 3-D Secure (`authentication_required`) instead of waiting for a challenge nobody will see.
              ...(payment.billingReason === 'subscription_cycle'
                ? { offSession: true }
                : {
                    returnUrl:
                      storedThreeDSecureReturnUrl(key) ?? this.deps.threeDSecureReturnUrl(payment.id),
                  }),
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof InvalidStateError)) {
          throw error;
        }
        // Stripe will not confirm it (already confirmed, canceled): record what it is instead.
        observation = observeIntent(await this.retrieve(intentId));
      }
    }
    if (observation.kind === 'pending') {
      throw new UnknownGatewayStateError(`Stripe neither confirmed nor refused PaymentIntent ${intentId}.`, {
        context: { paymentId: payment.id, stripePaymentIntentId: intentId },
      });
    }
    return this.finish(rows, key, observation, cause, 'payment.after_confirm_before_commit');
  }

  /**
   * Records `observation` (none: the row already holds the outcome), stores the result on the key with
   * its HTTP status and releases the key, in one transaction.
   */
  private async finish(
    rows: FlowRows,
    key: IdempotencyKey,
    observation: Observation | null,
    cause: Cause,
    point: PaymentCrashPoint | null,
  ): Promise<PaymentResult> {
    const now = this.deps.clock.now();
    const result = await this.deps.store.transaction(async (tx) => {
      const payment =
        observation === null
          ? await this.settled(tx, rows.payment, now, cause)
          : await applyObservation(tx, rows.payment, observation, now, cause, { copy: 'recent' });
      const view = viewOf(payment, rows.customer.userId, rows.card);
      const rejected =
        observation?.kind === 'rejected' &&
        payment.status === 'failed' &&
        payment.failureMessage === observation.message
          ? { observation, requestId: cause.requestId ?? `job:${cause.job ?? 'unknown'}` }
          : undefined;
      const answer = resultOf(view, {
        rejection: rejected,
        redirectUrl: observation?.kind === 'requires_action' ? observation.redirectUrl : null,
      });
      await tx.idempotencyKeys.update(key.id, {
        recoveryPoint: FINISHED_RECOVERY_POINT,
        lockedAt: null,
        responseStatus: paymentResultStatus(answer),
        responseBody: encodePaymentResult(answer),
      });
      if (point !== null) {
        reach(this.deps.faults, point);
      }
      return answer;
    });
    reach(this.deps.faults, 'payment.after_commit_before_response');
    return result;
  }

  /** The payment as the row holds it, with its subscription brought in line. */
  private async settled(tx: Repositories, payment: Payment, now: Date, cause: Cause): Promise<Payment> {
    return applyObservation(tx, payment, { kind: 'pending' }, now, cause, { copy: 'recent' });
  }

  private retrieve(intentId: string): Promise<GatewayIntent> {
    return this.call('retrieve_intent', () => this.deps.gateway.retrieveIntent(intentId));
  }

  private call<T>(name: GatewayCallName, run: () => Promise<T>): Promise<T> {
    return observed(name, this.deps.observeGatewayCall, run);
  }

  /** Releases the key at its last recovery point (the payment stays `pending`): see {@link releaseKey}. */
  private release(key: IdempotencyKey, error: unknown): Promise<unknown> {
    return releaseKey(this.deps, key, error, PAYMENT_FLOW);
  }
}
