import type { Currency } from '../money.js';
import type {
  AccountId,
  ApiKeyId,
  CustomerId,
  DisputeId,
  PaymentId,
  PaymentMethodId,
  PlanId,
  RefundId,
  SubscriptionId,
} from '../ids.js';
import type {
  Account,
  ApiKey,
  AuditEntry,
  Cause,
  Customer,
  Dispute,
  Payment,
  PaymentEvent,
  PaymentMethod,
  Plan,
  Refund,
  RefundEvent,
  Subscription,
  SubscriptionEvent,
} from '../domain/entities.js';
import type {
  ActorType,
  ApiKeyRole,
  BillingReason,
  DisputeStatus,
  PaymentStatus,
  PlanInterval,
  RefundOrigin,
  RefundStatus,
  SubscriptionStatus,
} from '../domain/statuses.js';
import type { Page, PageRequest } from './page.js';
import type { IdempotencyKeyRepository, RateLimitRepository } from './request-guard-repositories.js';
import type { WebhookEventRepository } from './webhook-event-repository.js';

export type {
  IdempotencyKeyPatch,
  IdempotencyKeyRepository,
  NewIdempotencyKey,
  RateLimitCounts,
  RateLimitRepository,
} from './request-guard-repositories.js';
export type { NewWebhookEvent, WebhookEventRepository } from './webhook-event-repository.js';

/*
 * Lookups by id take the account too: an object of another account is simply not found, so no code
 * path can leak it. Lookups by a Stripe id do not (Stripe's ids are global and come from webhooks).
 */

export interface AccountRepository {
  create(input: { name: string }): Promise<Account>;
  findById(id: AccountId): Promise<Account | null>;
  /** Every account, newest first: how an admin command picks the only one when it is not told which. */
  list(page: PageRequest): Promise<Page<Account>>;
}

export interface ApiKeyRepository {
  create(input: {
    accountId: AccountId;
    name: string;
    role: ApiKeyRole;
    keyHash: string;
    keyPrefix: string;
  }): Promise<ApiKey>;
  /** The key with this SHA-256 hash, unless it was revoked. */
  findActiveByHash(keyHash: string): Promise<ApiKey | null>;
  listByAccount(accountId: AccountId): Promise<ApiKey[]>;
  /** Revokes the key; revoking twice keeps the first time. Null when no such key. */
  revoke(accountId: AccountId, id: ApiKeyId, at: Date): Promise<ApiKey | null>;
}

export interface CustomerRepository {
  create(input: {
    accountId: AccountId;
    userId: string;
    email?: string | null;
    stripeCustomerId?: string | null;
  }): Promise<Customer>;
  findById(accountId: AccountId, id: CustomerId): Promise<Customer | null>;
  findByUserId(accountId: AccountId, userId: string): Promise<Customer | null>;
  findByStripeId(stripeCustomerId: string): Promise<Customer | null>;
  /** Records the Stripe customer once; returns null when another one was recorded first. */
  setStripeCustomerId(id: CustomerId, stripeCustomerId: string): Promise<Customer | null>;
  /**
   * The customer of (account, user), created on first use. Race-safe: two first requests of one user
   * at once (with different idempotency keys) both get the one row.
   */
  findOrCreate(input: { accountId: AccountId; userId: string }): Promise<Customer>;
}

export interface NewPaymentMethod {
  accountId: AccountId;
  customerId: CustomerId;
  stripePaymentMethodId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface PaymentMethodRepository {
  /** Inserts the card, or returns the row already stored for its Stripe id. */
  upsertByStripeId(input: NewPaymentMethod): Promise<PaymentMethod>;
  findById(accountId: AccountId, id: PaymentMethodId): Promise<PaymentMethod | null>;
  findByStripeId(stripePaymentMethodId: string): Promise<PaymentMethod | null>;
  listByCustomer(accountId: AccountId, customerId: CustomerId): Promise<PaymentMethod[]>;
}

export interface PlanRepository {
  create(input: {
    accountId: AccountId;
    name: string;
    amount: number;
    currency: Currency;
    interval: PlanInterval;
  }): Promise<Plan>;
  findById(accountId: AccountId, id: PlanId): Promise<Plan | null>;
  list(accountId: AccountId, page: PageRequest): Promise<Page<Plan>>;
}

export interface NewPayment {
  id?: PaymentId;
  accountId: AccountId;
  customerId: CustomerId;
  paymentMethodId?: PaymentMethodId | null;
  planId?: PlanId | null;
  subscriptionId?: SubscriptionId | null;
  billingReason: BillingReason;
  amount: number;
  currency: Currency;
  stripeIdempotencyKey: string;
  description?: string | null;
  returnUrl?: string | null;
  /** For a renewal (`subscription_cycle`): the period it pays for and which try it is. */
  renewal?: { periodStart: Date; periodEnd: Date; attempt: number } | null;
}

/** Fields a transition may set together with the status. */
export interface PaymentPatch {
  amountRefunded?: number;
  stripePaymentIntentId?: string;
  paymentMethodId?: PaymentMethodId;
  failureCode?: string | null;
  declineCode?: string | null;
  failureMessage?: string | null;
  nextActionUrl?: string | null;
}

/** A compare-and-set status change: applied only while the row is still `from`. */
export interface Transition<S extends string, P> {
  from: S;
  to: S;
  /** Minor units the change moved, for the event row; 0 when omitted. */
  amount?: number;
  patch?: P;
}

export interface PaymentRepository {
  /** Inserts a `pending` payment and its creation event row. */
  create(input: NewPayment, cause: Cause): Promise<Payment>;
  findById(accountId: AccountId, id: PaymentId): Promise<Payment | null>;
  findByStripeIntentId(stripePaymentIntentId: string): Promise<Payment | null>;
  /** Reads the payment and locks its row until the transaction ends (`FOR UPDATE`). */
  lockById(id: PaymentId): Promise<Payment | null>;
  /** Records the PaymentIntent's id once; returns null when another id was recorded first. */
  setStripeIntentId(id: PaymentId, stripePaymentIntentId: string): Promise<Payment | null>;
  /**
   * Moves the payment `from → to` (checked against the state machine) and writes its event row.
   * Returns null when the payment was no longer `from`: another writer got there first.
   */
  transition(
    id: PaymentId,
    change: Transition<PaymentStatus, PaymentPatch>,
    cause: Cause,
  ): Promise<Payment | null>;
  list(accountId: AccountId, page: PageRequest): Promise<Page<Payment>>;
  listEvents(paymentId: PaymentId): Promise<PaymentEvent[]>;
  /**
   * The payment with this id in whichever account holds it, for a caller that knows only the id and
   * no API key (Stripe's 3-D Secure return). Never answer a client with it before checking it may see it.
   */
  findByIdAcrossAccounts(id: PaymentId): Promise<Payment | null>;
  /** Records the card the payment is made with, once; returns null when another one was recorded first. */
  setPaymentMethodId(id: PaymentId, paymentMethodId: PaymentMethodId): Promise<Payment | null>;
  /** One customer's payments, newest first. */
  listByCustomer(accountId: AccountId, customerId: CustomerId, page: PageRequest): Promise<Page<Payment>>;
  /**
   * Payments of every account still waiting on Stripe (`pending`, `requires_action`, `processing`)
   * created before `createdBefore`, by id ascending after `afterId`: the recovery job's sweep.
   */
  listInFlight(query: {
    createdBefore: Date;
    afterId?: PaymentId | undefined;
    limit: number;
  }): Promise<Payment[]>;
  /** The renewal of `subscriptionId` for the period starting `periodStart`, try `attempt`; null when none was made. */
  findRenewal(subscriptionId: SubscriptionId, periodStart: Date, attempt: number): Promise<Payment | null>;
  /** A subscription's payments (first payment, renewals, retries), newest first. */
  listBySubscription(accountId: AccountId, subscriptionId: SubscriptionId, limit: number): Promise<Payment[]>;
  /**
   * Payments of every account created in `[createdAfter, createdBefore)`, by id ascending after `afterId`:
   * reconciliation's sweep.
   */
  listCreatedBetween(query: {
    createdAfter: Date;
    createdBefore: Date;
    afterId?: PaymentId | undefined;
    limit: number;
  }): Promise<Payment[]>;
}

export interface NewSubscription {
  id?: SubscriptionId;
  accountId: AccountId;
  customerId: CustomerId;
  planId: PlanId;
  paymentMethodId?: PaymentMethodId | null;
  status: 'incomplete' | 'active';
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  nextBillingAt: Date | null;
}

export interface SubscriptionPatch {
  paymentMethodId?: PaymentMethodId | null;
  currentPeriodStart?: Date;
  currentPeriodEnd?: Date;
  nextBillingAt?: Date | null;
  cancelAtPeriodEnd?: boolean;
  canceledAt?: Date | null;
  endedAt?: Date | null;
  dunningAttempts?: number;
}

export interface SubscriptionRepository {
  /** Inserts the subscription and its creation event row. */
  create(input: NewSubscription, cause: Cause): Promise<Subscription>;
  findById(accountId: AccountId, id: SubscriptionId): Promise<Subscription | null>;
  lockById(id: SubscriptionId): Promise<Subscription | null>;
  /** Compare-and-set like {@link PaymentRepository.transition}; `from === to` updates fields only, with an event row. */
  transition(
    id: SubscriptionId,
    change: Transition<SubscriptionStatus, SubscriptionPatch>,
    cause: Cause,
  ): Promise<Subscription | null>;
  /** Active or past-due subscriptions whose next billing time has come, oldest first. */
  listDue(now: Date, limit: number): Promise<Subscription[]>;
  list(accountId: AccountId, page: PageRequest): Promise<Page<Subscription>>;
  listEvents(subscriptionId: SubscriptionId): Promise<SubscriptionEvent[]>;
  /** One customer's subscriptions, newest first. */
  listByCustomer(
    accountId: AccountId,
    customerId: CustomerId,
    page: PageRequest,
  ): Promise<Page<Subscription>>;
  /** How many subscriptions of every account are in each status (the metrics gauge). */
  countByStatus(): Promise<Record<SubscriptionStatus, number>>;
  /** `incomplete` subscriptions of every account created before `createdBefore`, oldest first. */
  listIncompleteCreatedBefore(createdBefore: Date, limit: number): Promise<Subscription[]>;
}

export interface NewRefund {
  id?: RefundId;
  accountId: AccountId;
  paymentId: PaymentId;
  amount: number;
  currency: Currency;
  status: 'requires_approval' | 'pending' | 'succeeded';
  origin: RefundOrigin;
  reason?: string | null;
  stripeRefundId?: string | null;
  stripeIdempotencyKey?: string | null;
  requestedBy?: string | null;
}

export interface RefundPatch {
  stripeRefundId?: string;
  approvedBy?: string;
  failureReason?: string | null;
}

export interface RefundRepository {
  /** Inserts the refund and its creation event row. */
  create(input: NewRefund, cause: Cause): Promise<Refund>;
  findById(accountId: AccountId, id: RefundId): Promise<Refund | null>;
  findByStripeId(stripeRefundId: string): Promise<Refund | null>;
  transition(
    id: RefundId,
    change: Transition<RefundStatus, RefundPatch>,
    cause: Cause,
  ): Promise<Refund | null>;
  listByPayment(accountId: AccountId, paymentId: PaymentId): Promise<Refund[]>;
  listEvents(refundId: RefundId): Promise<RefundEvent[]>;
  /**
   * Records the Stripe refund of a refund pay made, once, without a status change (a webhook may learn
   * it before the request that made it does); returns null when another Stripe id was recorded first.
   */
  setStripeRefundId(id: RefundId, stripeRefundId: string): Promise<Refund | null>;
  /** Reads the refund and locks its row until the transaction ends (`FOR UPDATE`). */
  lockById(id: RefundId): Promise<Refund | null>;
  /**
   * Refunds pay made (origin `pay`) of every account still `pending` without word from Stripe since
   * `updatedBefore`, by id ascending after `afterId`: the recovery job's sweep.
   */
  listInFlight(query: {
    updatedBefore: Date;
    afterId?: RefundId | undefined;
    limit: number;
  }): Promise<Refund[]>;
  /**
   * The refund with this id in whichever account holds it, for an operator command given only the id.
   * Never answer an API caller with it before checking it may see it.
   */
  findByIdAcrossAccounts(id: RefundId): Promise<Refund | null>;
}

/** A dispute as one Stripe report (an event's snapshot) shows it, with the payment it is about. */
export interface DisputeReport {
  accountId: AccountId;
  paymentId: PaymentId;
  stripeDisputeId: string;
  stripeChargeId: string;
  amount: number;
  currency: Currency;
  reason: string;
  status: DisputeStatus;
  stripeCreatedAt: Date;
  /** When Stripe reported this status (the event's `created`): what orders two reports. */
  reportedAt: Date;
}

export interface DisputeRepository {
  /**
   * Stores the dispute of a report, or updates the stored one when the report is newer: reported later,
   * or in the same second with a status further along Stripe's lifecycle (events of one second arrive
   * in any order). An older report changes nothing. `previous` is the row before (null when the report
   * created it); `changed` says whether the row moved.
   */
  upsertByStripeId(
    report: DisputeReport,
  ): Promise<{ dispute: Dispute; previous: Dispute | null; changed: boolean }>;
  findByStripeId(stripeDisputeId: string): Promise<Dispute | null>;
  findById(accountId: AccountId, id: DisputeId): Promise<Dispute | null>;
  listByPayment(accountId: AccountId, paymentId: PaymentId): Promise<Dispute[]>;
}

export interface NewAuditEntry {
  accountId: AccountId | null;
  actorType: ActorType;
  actorId: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  amount?: number | null;
  currency?: Currency | null;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

export interface AuditLogRepository {
  append(input: NewAuditEntry): Promise<AuditEntry>;
  list(accountId: AccountId, page: PageRequest): Promise<Page<AuditEntry>>;
}

/** Every repository, bound to one connection or one transaction. */
export interface Repositories {
  readonly accounts: AccountRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly customers: CustomerRepository;
  readonly paymentMethods: PaymentMethodRepository;
  readonly plans: PlanRepository;
  readonly payments: PaymentRepository;
  readonly subscriptions: SubscriptionRepository;
  readonly refunds: RefundRepository;
  readonly webhookEvents: WebhookEventRepository;
  readonly idempotencyKeys: IdempotencyKeyRepository;
  readonly audit: AuditLogRepository;
  readonly rateLimits: RateLimitRepository;
  readonly disputes: DisputeRepository;
}
