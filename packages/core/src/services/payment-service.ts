import { addInterval } from '../domain/billing-period.js';
import type { Cause, IdempotencyKey } from '../domain/entities.js';
import { DependencyUnavailableError, InternalError, NotFoundError, isPayError } from '../errors.js';
import { isId, newId, parseId, type AccountId, type PaymentId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import { noFaults, type FaultPoints } from '../ports/faults.js';
import type { PaymentGateway } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Page, PageRequest } from '../ports/page.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import {
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  hashIdempotentRequest,
  startIdempotentRequest,
  type IdempotencyStart,
} from './idempotency.js';
import { checkPageRequest } from './page-limits.js';
import { PaymentFlow, type FlowDeps } from './payment-flow.js';
import { storedRequestOf, type FlowRows } from './payment-flow-state.js';
import { observed, reach, stripeIdempotencyKeyFor, type GatewayCallName } from './payment-gateway-calls.js';
import { checkCreatePaymentInput, type CheckedPaymentInput } from './payment-input.js';
import { applyObservation, observeIntent } from './payment-outcome.js';
import { recoverPayments } from './payment-recovery.js';
import { decodePaymentResult } from './payment-result-codec.js';
import type {
  CreatePaymentInput,
  IdempotentRequest,
  PaymentAttempt,
  PaymentView,
  RecoveryReport,
  ReturnOutcome,
} from './payment-results.js';
import { viewOfPayment, viewsOf } from './payment-views.js';

export { PAYMENT_CRASH_POINTS, type GatewayCallName } from './payment-gateway-calls.js';
export { paymentResultStatus } from './payment-outcome.js';
export { PAYMENT_RECOVERY_POINTS, type PaymentRecoveryPoint } from './payment-flow-state.js';

/** What {@link PaymentService} is built from; `createPay` in `@pay/runtime` wires it from config. */
export interface PaymentServiceDeps {
  /**
   * Where payments, customers, cards and idempotency keys live; each phase of the flow is one short
   * transaction.
   */
  readonly store: Store;
  /** Stripe, for customers, cards and PaymentIntents; never called inside a transaction. */
  readonly gateway: PaymentGateway;
  /** The time source for key locks and their expiry, recovery sweeps and event timestamps. */
  readonly clock: Clock;
  /** Where recovery failures and unexpected gateway answers are logged; never card data. */
  readonly logger: Logger;
  /** pay's own 3-D Secure return address for a payment (`${API_BASE_URL}/api/v1/payments/${id}/return`): Stripe sends the card holder back there. */
  readonly threeDSecureReturnUrl: (paymentId: PaymentId) => string;
  /** Origins (scheme://host[:port]) a caller's return_url may use; empty → any return_url is refused (ValidationError, param return_url). */
  readonly returnUrlOrigins: readonly string[];
  /** Named crash points ({@link PAYMENT_CRASH_POINTS}); inert by default. */
  readonly faults?: FaultPoints;
  /** Called after every gateway call with its duration, answered (`ok`, declines included) or not. */
  readonly observeGatewayCall?: (call: GatewayCallName, seconds: number, outcome: 'ok' | 'error') => void;
  /** How long a request may hold an idempotency key before a retry or recovery takes it over; 60 s. */
  readonly lockTimeoutMs?: number;
}

const IN_FLIGHT = new Set(['pending', 'requires_action', 'processing']);

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No such payment: ${id.slice(0, 64)}.`, { param: 'id' });
}

/**
 * Payments for a plan (DESIGN.md §3–§4): the request's idempotency, the payment flow in atomic phases
 * (record the payment and the key; attach the card; create the PaymentIntent and record its id;
 * confirm it and record the outcome), reads, the 3-D Secure return, and recovery. Gateway calls are
 * never made inside a transaction; a call that ends without an answer leaves the payment `pending`
 * and throws a retryable error, and the next attempt resumes where the last one stopped.
 */
export class PaymentService {
  private readonly flow: PaymentFlow;
  private readonly flowDeps: FlowDeps;
  private readonly lockTimeoutMs: number;

  constructor(private readonly deps: PaymentServiceDeps) {
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
   * Takes a payment for a plan, once per idempotency key. Every field is checked before anything is
   * written (ValidationError / NotFoundError, never stored). Then: same key and parameters as an
   * earlier request → that request's result (`replayed`); other parameters or another endpoint →
   * IdempotencyKeyReusedError (422); the first request still running → IdempotencyKeyInUseError (409,
   * `context.retryAfterSeconds`); an earlier attempt that stopped → resumed from its recovery point.
   * Outcomes (succeeded, processing, requires_action, declined, rejected) are results; a dependency
   * that did not answer throws a retryable DependencyUnavailableError (503: retry with the same key).
   */
  async create(input: CreatePaymentInput, request: IdempotentRequest): Promise<PaymentAttempt> {
    if (input.accountId !== request.accountId) {
      throw new InternalError('A payment request and its idempotency key name different accounts.');
    }
    const checked = await checkCreatePaymentInput(this.deps.store.repos, input, this.deps.returnUrlOrigins);
    const paramsHash = await hashIdempotentRequest(request);
    const now = this.deps.clock.now();
    // Chosen before the key is recorded, so the key carries the payment's 3-D Secure return address
    // (unused when the key turns out to exist already).
    const paymentId = newId('payment', now);
    const cause: Cause = { requestId: request.requestId };
    let start: IdempotencyStart & { readonly recorded?: FlowRows };
    try {
      start = await this.deps.store.transaction(async (tx) => {
        const begun = await startIdempotentRequest(tx, request, {
          now,
          lockTimeoutMs: this.lockTimeoutMs,
          paramsHash,
          requestParams: storedRequestOf(checked, request.params, {
            id: paymentId,
            threeDSecureReturnUrl: this.deps.threeDSecureReturnUrl(paymentId),
          }),
        });
        if (begun.kind === 'replay' || begun.key.resourceId !== null) {
          return begun;
        }
        return {
          kind: begun.kind,
          ...(await this.recordPayment(tx, checked, begun.key, paymentId, now, cause)),
        };
      });
    } catch (error) {
      throw isPayError(error)
        ? error
        : new DependencyUnavailableError(
            'pay could not record the payment; retry with the same Idempotency-Key.',
            {
              cause: error,
            },
          );
    }
    if (start.kind === 'replay') {
      return { replayed: true, result: decodePaymentResult(start.key.responseBody) };
    }
    if (start.kind === 'new') {
      reach(this.flowDeps.faults, 'payment.after_key_insert');
    }
    const result = await this.flow.run(start.key, cause, start.recorded);
    this.deps.logger.info('payment answered', { paymentId: result.view.payment.id, result: result.kind });
    return { replayed: false, result };
  }

  /** The account's payment `id`; NotFoundError for an unknown id, a malformed one, or another account's. */
  async get(accountId: AccountId, id: string): Promise<PaymentView> {
    if (!isId('payment', id)) {
      throw notFound(id);
    }
    const payment = await this.deps.store.repos.payments.findById(accountId, id);
    if (payment === null) {
      throw notFound(id);
    }
    return viewOfPayment(this.deps.store.repos, payment);
  }

  /** The account's payments, newest first; only `userId`'s when given (an unknown user has none). */
  async list(
    accountId: AccountId,
    query: PageRequest & { readonly userId?: string },
  ): Promise<Page<PaymentView>> {
    const { limit, startingAfter } = checkPageRequest(query);
    const page = {
      limit,
      startingAfter:
        startingAfter === undefined ? undefined : parseId('payment', startingAfter, 'starting_after'),
    };
    const { repos } = this.deps.store;
    let payments;
    if (query.userId === undefined) {
      payments = await repos.payments.list(accountId, page);
    } else {
      const customer = await repos.customers.findByUserId(accountId, query.userId);
      if (customer === null) {
        return { data: [], hasMore: false };
      }
      payments = await repos.payments.listByCustomer(accountId, customer.id, page);
    }
    return { data: await viewsOf(repos, payments.data), hasMore: payments.hasMore };
  }

  /**
   * The card holder is back from 3-D Secure (Stripe's redirect carries no API key, only the payment's
   * id): asks Stripe how the payment stands and records it, subscription included. Idempotent: a
   * payment already decided is returned as it is. NotFoundError for an id that names no payment.
   */
  async completeReturn(paymentId: string, requestId: string): Promise<ReturnOutcome> {
    if (!isId('payment', paymentId)) {
      throw notFound(paymentId);
    }
    const { repos } = this.deps.store;
    let payment = await repos.payments.findByIdAcrossAccounts(paymentId);
    if (payment === null) {
      throw notFound(paymentId);
    }
    const intentId = payment.stripePaymentIntentId;
    if (intentId !== null && IN_FLIGHT.has(payment.status)) {
      const { faults, gateway, observeGatewayCall } = this.flowDeps;
      reach(faults, 'payment.before_retrieve_intent');
      const observation = observeIntent(
        await observed('retrieve_intent', observeGatewayCall, () => gateway.retrieveIntent(intentId)),
      );
      const before = payment;
      payment = await this.deps.store.transaction(async (tx) => {
        const moved = await applyObservation(tx, before, observation, this.deps.clock.now(), { requestId });
        reach(faults, 'payment.after_retrieve_intent_before_commit');
        return moved;
      });
    }
    return { view: await viewOfPayment(repos, payment), returnUrl: payment.returnUrl };
  }

  /**
   * One pass of recovery (`pay recover`): resumes idempotency keys left mid-flow, resolves in-flight
   * payments with Stripe (the same keys inside Stripe's 24 h window, lookups after it), and deletes
   * keys older than 24 h. `now` (default: the clock) decides what is stale and what expired.
   */
  recover(options: { readonly now?: Date } = {}): Promise<RecoveryReport> {
    return recoverPayments(
      { ...this.flowDeps, lockTimeoutMs: this.lockTimeoutMs },
      this.flow,
      options.now ?? this.deps.clock.now(),
    );
  }

  /** The first phase's writes, in the key's transaction: customer, subscription, payment, key. */
  private async recordPayment(
    tx: Repositories,
    checked: CheckedPaymentInput,
    key: IdempotencyKey,
    paymentId: PaymentId,
    now: Date,
    cause: Cause,
  ): Promise<{ readonly key: IdempotencyKey; readonly recorded: FlowRows }> {
    const { accountId, plan } = checked;
    const customer = await tx.customers.findOrCreate({ accountId, userId: checked.userId });
    const subscription = await tx.subscriptions.create(
      {
        accountId,
        customerId: customer.id,
        planId: plan.id,
        status: 'incomplete',
        currentPeriodStart: now,
        currentPeriodEnd: addInterval(now, plan.interval),
        nextBillingAt: null,
      },
      cause,
    );
    const payment = await tx.payments.create(
      {
        id: paymentId,
        accountId,
        customerId: customer.id,
        planId: plan.id,
        subscriptionId: subscription.id,
        billingReason: 'subscription_create',
        amount: plan.amount,
        currency: plan.currency,
        stripeIdempotencyKey: stripeIdempotencyKeyFor(paymentId),
        returnUrl: checked.returnUrl,
      },
      cause,
    );
    return {
      key: await tx.idempotencyKeys.update(key.id, {
        resourceId: payment.id,
        recoveryPoint: 'payment_created',
      }),
      recorded: { payment, customer, card: null },
    };
  }
}
