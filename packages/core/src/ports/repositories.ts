import type { Currency } from '../money.js';
import type {
  AccountId,
  ApiKeyId,
  CustomerId,
  DisputeId,
  IdempotencyKeyId,
  PaymentId,
  PaymentMethodId,
  PlanId,
  RefundId,
  SubscriptionId,
  WebhookEventId,
} from '../ids.js';
import type {
  Account,
  ApiKey,
  AuditEntry,
  Cause,
  Customer,
  Dispute,
  IdempotencyKey,
  Payment,
  PaymentEvent,
  PaymentMethod,
  Plan,
  Refund,
  RefundEvent,
  Subscription,
  SubscriptionEvent,
  WebhookEvent,
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
  WebhookEventStatus,
} from '../domain/statuses.js';
import type { Page, PageRequest } from './page.js';

/*
 * Lookups by id take the account too: an object of another account is simply not found, so no code
 * path can leak it. Lookups by a Stripe id do not (Stripe's ids are global and come from webhooks).
 */

export interface AccountRepository {
  create(input: { name: string }): Promise<Account>;
  findById(id: AccountId): Promise<Account | null>;
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
}

export interface NewWebhookEvent {
  stripeEventId: string;
  type: string;
  apiVersion: string | null;
  livemode: boolean;
  objectId: string | null;
  payload: string;
  signatureVerified: boolean;
  stripeCreatedAt: Date;
  receivedAt: Date;
}

export interface WebhookEventRepository {
  /** Stores the event unless its Stripe id is already there; `inserted` says which. */
  insert(input: NewWebhookEvent): Promise<{ event: WebhookEvent; inserted: boolean }>;
  findByStripeId(stripeEventId: string): Promise<WebhookEvent | null>;
  /**
   * Locks up to `limit` due events (`pending` or `failed`, next attempt ≤ now), oldest first, skipping
   * rows other workers hold. Only meaningful inside a transaction: the locks end with it.
   */
  claimDue(now: Date, limit: number): Promise<WebhookEvent[]>;
  markProcessed(id: WebhookEventId, at: Date, status: 'processed' | 'ignored'): Promise<void>;
  /** Records a failed attempt: `failed` with the next attempt time, or `dead` when none remain. */
  markFailed(
    id: WebhookEventId,
    failure: { error: string; nextAttemptAt: Date; dead: boolean },
  ): Promise<void>;
  countByStatus(): Promise<Record<WebhookEventStatus, number>>;
  /**
   * Locks one event by id for a worker that let it go to fetch from Stripe, if it still waits
   * (`pending` or `failed`, whenever due) and no other worker holds it (`FOR UPDATE SKIP LOCKED`).
   */
  claimById(id: WebhookEventId): Promise<WebhookEvent | null>;
  /** Moves the event's next attempt to `until` without counting an attempt (a lease while a worker fetches). */
  defer(id: WebhookEventId, until: Date): Promise<void>;
  /** Events in `status`, newest first (by id), in pages. */
  listByStatus(status: WebhookEventStatus, page: PageRequest): Promise<Page<WebhookEvent>>;
  /** The `pending` event Stripe created first, or null when none is pending. */
  oldestPending(): Promise<WebhookEvent | null>;
  /**
   * Queues the event again whatever its status: `pending`, due at `now`, its attempts back to 0 (its
   * last error is kept). Null when there is no such event.
   */
  requeue(id: WebhookEventId, now: Date): Promise<WebhookEvent | null>;
  /** {@link requeue} for every `dead` event; returns how many. */
  requeueDead(now: Date): Promise<number>;
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

export interface NewIdempotencyKey {
  accountId: AccountId;
  key: string;
  requestMethod: string;
  requestPath: string;
  paramsHash: string;
  requestParams?: unknown;
  now: Date;
}

export interface IdempotencyKeyPatch {
  recoveryPoint?: string;
  lockedAt?: Date | null;
  responseStatus?: number | null;
  responseBody?: unknown;
  resourceId?: string | null;
  lastRunAt?: Date;
}

export interface IdempotencyKeyRepository {
  /** Inserts the key locked (`recoveryPoint: 'started'`), or returns the row already there. */
  insert(input: NewIdempotencyKey): Promise<{ key: IdempotencyKey; inserted: boolean }>;
  find(accountId: AccountId, key: string): Promise<IdempotencyKey | null>;
  /**
   * Takes the lock when it is free or older than `staleBefore` and no response is stored yet.
   * Returns null when another request holds it.
   */
  lock(id: IdempotencyKeyId, now: Date, staleBefore: Date): Promise<IdempotencyKey | null>;
  update(id: IdempotencyKeyId, patch: IdempotencyKeyPatch): Promise<IdempotencyKey>;
  /** Deletes keys created before `cutoff` (Stripe keeps them 24 h); returns how many. */
  deleteCreatedBefore(cutoff: Date): Promise<number>;
  /**
   * Keys of every account a recovery job may resume: no response stored, created at or after
   * `createdAfter`, and free or locked before `staleBefore`; only those whose `resourceId` starts with
   * `resourceIdPrefix` when given. By id ascending after `afterId`.
   */
  listResumable(query: {
    createdAfter: Date;
    staleBefore: Date;
    resourceIdPrefix?: string | undefined;
    afterId?: IdempotencyKeyId | undefined;
    limit: number;
  }): Promise<IdempotencyKey[]>;
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

/** The two counts the rate limiter weighs for one request, read by {@link RateLimitRepository.hit}. */
export interface RateLimitCounts {
  /** Hits in the current window so far, this one included (so at least 1). */
  readonly current: number;
  /** Hits in the previous window; 0 when it has none (or was swept). */
  readonly previous: number;
}

/**
 * Request counters of the rate limiter, one per (bucket, fixed window), shared by every process that
 * uses the store (DESIGN.md §8). Windows are identified by their start; the limiter picks them.
 */
export interface RateLimitRepository {
  /**
   * Counts one hit in `bucket`'s window starting at `windowStart` and returns that window's hits so far
   * (this one included) together with the hits of the window starting at `previousWindowStart`. One
   * atomic statement (an upsert that also reads the previous window), so concurrent processes never
   * lose a count and a request costs one round trip.
   */
  hit(bucket: string, windowStart: Date, previousWindowStart: Date): Promise<RateLimitCounts>;
  /** Deletes windows that started before `cutoff`; returns how many. */
  deleteWindowsBefore(cutoff: Date): Promise<number>;
}
