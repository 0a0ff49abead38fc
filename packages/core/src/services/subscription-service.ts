import type { Cause, Subscription } from '../domain/entities.js';
import type { SubscriptionStatus } from '../domain/statuses.js';
import { InternalError } from '../errors.js';
import { isId, parseId, type AccountId, type SubscriptionId } from '../ids.js';
import type { Clock } from '../ports/clock.js';
import type { PaymentGateway } from '../ports/gateway.js';
import type { Logger } from '../ports/logger.js';
import type { Page, PageRequest } from '../ports/page.js';
import type { Repositories } from '../ports/repositories.js';
import type { Store } from '../ports/store.js';
import { DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS } from './idempotency.js';
import { checkPageRequest } from './page-limits.js';
import type { IdempotentRequest } from './payment-results.js';
import { runCardChange } from './subscription-card-change.js';
import {
  assertCardChangeable,
  planCancellation,
  planResumption,
  type SubscriptionChangePlan,
} from './subscription-changes.js';
import {
  assertSameAccount,
  beginSubscriptionRequest,
  finishWithView,
  lockSubscription,
  subscriptionNotFound,
  type StoredSubscriptionRequest,
} from './subscription-requests.js';
import type {
  CancelSubscriptionInput,
  ChangePaymentMethodInput,
  RenewalOutcome,
  ResumeSubscriptionInput,
  SubscriptionChange,
  SubscriptionView,
} from './subscription-results.js';
import { decodeSubscriptionAnswer } from './subscription-view-codec.js';
import { viewOfSubscription, viewsOfSubscriptions } from './subscription-views.js';

export { CARD_CHANGE_RECOVERY_POINTS, cardChangeStripeKey } from './subscription-card-change.js';
export { planCancellation, planCardChange, planResumption } from './subscription-changes.js';
export { RECENT_PAYMENTS_LIMIT } from './subscription-views.js';

/** What {@link SubscriptionService} is built from; `createPay` in `@pay/runtime` wires it. */
export interface SubscriptionServiceDeps {
  /** Where subscriptions, their payments and idempotency keys live. */
  readonly store: Store;
  /** Stripe, to attach a new card to the customer; never called inside a transaction. */
  readonly gateway: PaymentGateway;
  /** The time a cancellation or card change is stamped with, and key lock expiry. */
  readonly clock: Clock;
  /** Where each change, and the retry of a `past_due` subscription after its card changed, is logged. */
  readonly logger: Logger;
  /** Retries a past_due subscription at once after its card changed. */
  readonly renewals: {
    renew(subscriptionId: SubscriptionId, options?: { now?: Date }): Promise<RenewalOutcome>;
  };
  /** How long a request may hold an idempotency key before a retry may take it over; 60 s. */
  readonly lockTimeoutMs?: number;
}

/**
 * A subscription's reads and the changes its owner asks for (issue 6): cancel (now or at period end),
 * resume a pending cancellation, change the card. Every change is idempotent per request like a
 * payment (DESIGN.md §4), goes through the state machine with its event row, and is refused with an
 * InvalidStateError (409) — nothing written — when the subscription's status does not allow it.
 */
export class SubscriptionService {
  private readonly lockTimeoutMs: number;

  constructor(private readonly deps: SubscriptionServiceDeps) {
    this.lockTimeoutMs = deps.lockTimeoutMs ?? DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS;
  }

  /** The account's subscription `subscriptionId`; NotFoundError for an unknown, malformed or foreign id. */
  async get(accountId: AccountId, subscriptionId: string): Promise<SubscriptionView> {
    if (!isId('subscription', subscriptionId)) {
      throw subscriptionNotFound(subscriptionId);
    }
    const { repos } = this.deps.store;
    const subscription = await repos.subscriptions.findById(accountId, subscriptionId);
    if (subscription === null) {
      throw subscriptionNotFound(subscriptionId);
    }
    return viewOfSubscription(repos, subscription);
  }

  /** One user's subscriptions, newest first; a user pay has never seen has none. */
  async listByUser(accountId: AccountId, userId: string, page: PageRequest): Promise<Page<SubscriptionView>> {
    const { limit, startingAfter } = checkPageRequest(page);
    const request = {
      limit,
      startingAfter:
        startingAfter === undefined ? undefined : parseId('subscription', startingAfter, 'starting_after'),
    };
    const { repos } = this.deps.store;
    const customer = await repos.customers.findByUserId(accountId, userId);
    if (customer === null) {
      return { data: [], hasMore: false };
    }
    const subscriptions = await repos.subscriptions.listByCustomer(accountId, customer.id, request);
    return { data: await viewsOfSubscriptions(repos, subscriptions.data), hasMore: subscriptions.hasMore };
  }

  /**
   * Cancels now (`canceled` at once) or at the period's end (stays billable until then; undo with
   * {@link SubscriptionService.resume}). A cancellation at period end already pending is answered as it is.
   */
  cancel(input: CancelSubscriptionInput, request: IdempotentRequest): Promise<SubscriptionChange> {
    return this.change(
      input.accountId,
      input.subscriptionId,
      request,
      { operation: 'cancel', input: { atPeriodEnd: input.atPeriodEnd } },
      (subscription, now) => planCancellation(subscription, input.atPeriodEnd, now),
    );
  }

  /** Undoes a pending cancellation at period end. */
  resume(input: ResumeSubscriptionInput, request: IdempotentRequest): Promise<SubscriptionChange> {
    return this.change(
      input.accountId,
      input.subscriptionId,
      request,
      { operation: 'resume', input: {} },
      (s) => planResumption(s),
    );
  }

  /**
   * Attaches the card at Stripe and makes it the one renewals charge; a past-due subscription is then
   * retried at once and answered as it stands after that attempt. A card Stripe declines or refuses
   * is a GatewayRejectedError (invalid_request, param `payment_method_id`), stored as the key's answer.
   */
  async changePaymentMethod(
    input: ChangePaymentMethodInput,
    request: IdempotentRequest,
  ): Promise<SubscriptionChange> {
    assertSameAccount(input.accountId, request);
    const begun = await beginSubscriptionRequest(
      this.deps.store,
      request,
      {
        now: this.deps.clock.now(),
        lockTimeoutMs: this.lockTimeoutMs,
        stored: this.stored(input.subscriptionId, request, {
          operation: 'change_payment_method',
          input: { paymentMethodId: input.paymentMethodId },
        }),
      },
      async (tx, start) => {
        const subscription = await lockSubscription(tx, input.accountId, input.subscriptionId);
        // Checked here too, so a refusal rolls the key back with it (after `card_changed` the change
        // is made and only its answer is missing).
        if (start.key.recoveryPoint !== 'card_changed') {
          assertCardChangeable(subscription);
        }
        const key = await tx.idempotencyKeys.update(start.key.id, { resourceId: subscription.id });
        return { key, subscription };
      },
    );
    if (begun.kind === 'replay') {
      return { view: decodeSubscriptionAnswer(begun.key.responseBody), replayed: true };
    }
    const { key, subscription } = begun.value;
    const view = await runCardChange(
      this.deps,
      key,
      { subscription, paymentMethodId: input.paymentMethodId },
      request,
    );
    return { view, replayed: false };
  }

  /** How many subscriptions of every account are in each status (the metrics gauge). */
  countByStatus(): Promise<Record<SubscriptionStatus, number>> {
    return this.deps.store.repos.subscriptions.countByStatus();
  }

  /** A cancel or a resume: one transaction holding the key, the check, the change and the answer. */
  private async change(
    accountId: AccountId,
    subscriptionId: string,
    request: IdempotentRequest,
    operation: Pick<StoredSubscriptionRequest, 'operation' | 'input'>,
    plan: (subscription: Subscription, now: Date) => SubscriptionChangePlan | null,
  ): Promise<SubscriptionChange> {
    assertSameAccount(accountId, request);
    const now = this.deps.clock.now();
    const cause: Cause = { requestId: request.requestId };
    const begun = await beginSubscriptionRequest(
      this.deps.store,
      request,
      { now, lockTimeoutMs: this.lockTimeoutMs, stored: this.stored(subscriptionId, request, operation) },
      async (tx: Repositories, start) => {
        const subscription = await lockSubscription(tx, accountId, subscriptionId);
        const planned = plan(subscription, now);
        const changed =
          planned === null
            ? subscription
            : await tx.subscriptions.transition(subscription.id, planned, cause);
        if (changed === null) {
          throw new InternalError(`Subscription ${subscription.id} moved while locked.`);
        }
        const key = await tx.idempotencyKeys.update(start.key.id, { resourceId: subscription.id });
        return finishWithView(tx, key, await viewOfSubscription(tx, changed));
      },
    );
    if (begun.kind === 'replay') {
      return { view: decodeSubscriptionAnswer(begun.key.responseBody), replayed: true };
    }
    this.deps.logger.info('subscription changed', {
      subscriptionId: begun.value.subscription.id,
      operation: operation.operation,
      status: begun.value.subscription.status,
    });
    return { view: begun.value, replayed: false };
  }

  private stored(
    subscriptionId: string,
    request: IdempotentRequest,
    operation: Pick<StoredSubscriptionRequest, 'operation' | 'input'>,
  ): StoredSubscriptionRequest {
    return { version: 1, ...operation, subscriptionId, params: request.params ?? null };
  }
}
