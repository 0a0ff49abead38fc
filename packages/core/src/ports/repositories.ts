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
export type {
  IgnoredWebhookEvent,
  NewWebhookEvent,
  WebhookEventRepository,
} from './webhook-event-repository.js';

/*
 * Lookups by id take the account too: an object of another account is simply not found, so no code
 * path can leak it. Lookups by a Stripe id do not (Stripe's ids are global and come from webhooks).
 */

/** Accounts (tenants). Rows are never deleted. */
export interface AccountRepository {
  /**
   * Inserts an account with a new `acc_` id; the name is stored as given (the service trims and checks it).
   */
  create(input: { name: string }): Promise<Account>;
  /** The account, or null when there is none. */
  findById(id: AccountId): Promise<Account | null>;
  /** Every account, newest first: how an admin command picks the only one when it is not told which. */
  list(page: PageRequest): Promise<Page<Account>>;
}

/** API keys: only each secret's SHA-256 hash is stored, never the secret. */
export interface ApiKeyRepository {
  /**
   * Inserts an active key; `keyHash` is the hex SHA-256 of the secret, `keyPrefix` its first characters for
   * display.
   */
  create(input: {
    accountId: AccountId;
    name: string;
    role: ApiKeyRole;
    keyHash: string;
    keyPrefix: string;
  }): Promise<ApiKey>;
  /** The key with this SHA-256 hash, unless it was revoked. */
  findActiveByHash(keyHash: string): Promise<ApiKey | null>;
  /** The account's keys, newest first, revoked ones included. */
  listByAccount(accountId: AccountId): Promise<ApiKey[]>;
  /** Revokes the key; revoking twice keeps the first time. Null when no such key. */
  revoke(accountId: AccountId, id: ApiKeyId, at: Date): Promise<ApiKey | null>;
}

/** pay's customers: one per (account, caller's end user), linked to at most one Stripe customer. */
export interface CustomerRepository {
  /** Inserts a customer; `userId` is unique per account, so a second create for the same user fails. */
  create(input: {
    accountId: AccountId;
    userId: string;
    email?: string | null;
    stripeCustomerId?: string | null;
  }): Promise<Customer>;
  /** The account's customer, or null (none, or another account's). */
  findById(accountId: AccountId, id: CustomerId): Promise<Customer | null>;
  /** The account's customer for the caller's end user id, or null before its first payment. */
  findByUserId(accountId: AccountId, userId: string): Promise<Customer | null>;
  /** The customer linked to this Stripe customer (`cus_…`), in whichever account; null when none is. */
  findByStripeId(stripeCustomerId: string): Promise<Customer | null>;
  /** Records the Stripe customer once; returns null when another one was recorded first. */
  setStripeCustomerId(id: CustomerId, stripeCustomerId: string): Promise<Customer | null>;
  /**
   * The customer of (account, user), created on first use. Race-safe: two first requests of one user
   * at once (with different idempotency keys) both get the one row.
   */
  findOrCreate(input: { accountId: AccountId; userId: string }): Promise<Customer>;
}

/** A card to record, as the gateway returned it after attaching it: never a number or CVC. */
export interface NewPaymentMethod {
  /** The customer's account. */
  accountId: AccountId;
  /** The customer the card is attached to at Stripe. */
  customerId: CustomerId;
  /** The attached PaymentMethod (`pm_…`): unique, so recording it twice returns the first row. */
  stripePaymentMethodId: string;
  /** The card network in Stripe's words (`visa`, `mastercard`, …). */
  brand: string;
  /** The last four digits, as a string. */
  last4: string;
  /** The expiry month, 1 to 12. */
  expMonth: number;
  /** The expiry year, four digits. */
  expYear: number;
}

/** Customers' saved cards, as much of them as people need to recognise one. */
export interface PaymentMethodRepository {
  /** Inserts the card, or returns the row already stored for its Stripe id. */
  upsertByStripeId(input: NewPaymentMethod): Promise<PaymentMethod>;
  /** The account's card, or null (none, or another account's). */
  findById(accountId: AccountId, id: PaymentMethodId): Promise<PaymentMethod | null>;
  /** The card recorded for this Stripe PaymentMethod (`pm_…`), in whichever account; null when none is. */
  findByStripeId(stripePaymentMethodId: string): Promise<PaymentMethod | null>;
  /** The customer's cards, newest first. */
  listByCustomer(accountId: AccountId, customerId: CustomerId): Promise<PaymentMethod[]>;
}

/** Plans: what subscriptions sell. Rows are never deleted. */
export interface PlanRepository {
  /** Inserts an active plan; `amount` is in minor units, already checked by the service with `money()`. */
  create(input: {
    accountId: AccountId;
    name: string;
    amount: number;
    currency: Currency;
    interval: PlanInterval;
  }): Promise<Plan>;
  /** The account's plan, or null (none, or another account's). */
  findById(accountId: AccountId, id: PlanId): Promise<Plan | null>;
  /** The account's plans, newest first. */
  list(accountId: AccountId, page: PageRequest): Promise<Page<Plan>>;
}

/** A payment to record, `pending`, before anything is sent to Stripe. */
export interface NewPayment {
  /**
   * The id to give it, when the caller made one first (so keys derived from it exist before the row); new
   * otherwise.
   */
  id?: PaymentId;
  /** The account taking the payment. */
  accountId: AccountId;
  /** pay's customer of the end user paying. */
  customerId: CustomerId;
  /** The card, when already known (a renewal); null until the flow attaches one. */
  paymentMethodId?: PaymentMethodId | null;
  /** The plan paid for; null for a payment of no plan. */
  planId?: PlanId | null;
  /** The subscription the payment belongs to (its first payment or a renewal); null for a one-off payment. */
  subscriptionId?: SubscriptionId | null;
  /** Why the payment is taken: `manual`, a subscription's first payment, or a renewal. */
  billingReason: BillingReason;
  /** Minor units, checked by `money()`: a positive integer within Stripe's limit. */
  amount: number;
  /** The currency of `amount`. */
  currency: Currency;
  /** pay's Stripe key for the payment, `pay:<paymentId>`: every gateway call's key is derived from it. */
  stripeIdempotencyKey: string;
  /** Free text about the payment, kept as given; pay's own flows leave it null. */
  description?: string | null;
  /** The caller's page to send the card holder back to after 3-D Secure; null for none. */
  returnUrl?: string | null;
  /** For a renewal (`subscription_cycle`): the period it pays for and which try it is. */
  renewal?: { periodStart: Date; periodEnd: Date; attempt: number } | null;
}

/** Fields a transition may set together with the status. */
export interface PaymentPatch {
  /** Minor units refunded in all: the new total, set (never added to), with the status that matches it. */
  amountRefunded?: number;
  /** The intent (`pi_…`), when the transition is the one that learns it. */
  stripePaymentIntentId?: string;
  /** The card the payment was made with. */
  paymentMethodId?: PaymentMethodId;
  /** Stripe's error code of a failure (`card_declined`, …). */
  failureCode?: string | null;
  /** The issuer's reason of a decline (`insufficient_funds`, …); null when Stripe gave none. */
  declineCode?: string | null;
  /** Stripe's message of a failure, written for the card holder. */
  failureMessage?: string | null;
  /** Where the card holder completes 3-D Secure; null clears it when the payment leaves `requires_action`. */
  nextActionUrl?: string | null;
}

/** A compare-and-set status change: applied only while the row is still `from`. */
export interface Transition<S extends string, P> {
  /** The status the row must still have; otherwise nothing is written and the call returns null. */
  from: S;
  /** The status to move to; the machine's table must allow `from → to`. */
  to: S;
  /** Minor units the change moved, for the event row; 0 when omitted. */
  amount?: number;
  /** Fields written in the same statement as the status. */
  patch?: P;
}

/**
 * Payments and their append-only event rows. Every status change goes through
 * {@link PaymentRepository.transition}.
 */
export interface PaymentRepository {
  /** Inserts a `pending` payment and its creation event row. */
  create(input: NewPayment, cause: Cause): Promise<Payment>;
  /** The account's payment, or null (none, or another account's). */
  findById(accountId: AccountId, id: PaymentId): Promise<Payment | null>;
  /**
   * The payment of this intent (`pi_…`), in whichever account: how webhooks find it. Null for an intent that
   * is not pay's.
   */
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
  /** The account's payments, newest first. */
  list(accountId: AccountId, page: PageRequest): Promise<Page<Payment>>;
  /** The payment's event rows, oldest first: its whole history. */
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

/** A subscription to record with its first period, in the transaction that records its first payment. */
export interface NewSubscription {
  /** The id to give it, when the caller made one first; new otherwise. */
  id?: SubscriptionId;
  /** The account selling the plan. */
  accountId: AccountId;
  /** The customer subscribing. */
  customerId: CustomerId;
  /** The plan sold: what every renewal charges. */
  planId: PlanId;
  /** The card renewals are charged to; null until the first payment attaches one. */
  paymentMethodId?: PaymentMethodId | null;
  /** `incomplete` while its first payment is unsettled; `active` only for one created already paid. */
  status: 'incomplete' | 'active';
  /** When the first period starts: when its first payment was asked for. */
  currentPeriodStart: Date;
  /** When the first period ends: one plan interval after its start. */
  currentPeriodEnd: Date;
  /** When the scheduler first renews it (the period's end); null while `incomplete`. */
  nextBillingAt: Date | null;
}

/** Fields a subscription transition may set together with the status; absent fields are left as they are. */
export interface SubscriptionPatch {
  /** The card renewals are charged to (a card change). */
  paymentMethodId?: PaymentMethodId | null;
  /** The new period's start, on a renewal. */
  currentPeriodStart?: Date;
  /** The new period's end, on a renewal. */
  currentPeriodEnd?: Date;
  /**
   * When the scheduler next acts on it (a renewal, a dunning retry, a cancellation taking effect); null for
   * never.
   */
  nextBillingAt?: Date | null;
  /** True when the owner asked to stop at the period's end; false again on resume. */
  cancelAtPeriodEnd?: boolean;
  /** When cancellation was asked; null again on resume. */
  canceledAt?: Date | null;
  /** When it stopped for good (`canceled` or `expired`). */
  endedAt?: Date | null;
  /** Failed renewal tries in the current period; back to 0 once a period is paid. */
  dunningAttempts?: number;
}

/**
 * Subscriptions and their append-only event rows, changed only through
 * {@link SubscriptionRepository.transition}.
 */
export interface SubscriptionRepository {
  /** Inserts the subscription and its creation event row. */
  create(input: NewSubscription, cause: Cause): Promise<Subscription>;
  /** The account's subscription, or null (none, or another account's). */
  findById(accountId: AccountId, id: SubscriptionId): Promise<Subscription | null>;
  /** The account's subscription and its plan, read together; null as {@link SubscriptionRepository.findById}. */
  findWithPlan(
    accountId: AccountId,
    id: SubscriptionId,
  ): Promise<{ readonly subscription: Subscription; readonly plan: Plan } | null>;
  /** Reads the subscription and locks its row until the transaction ends (`FOR UPDATE`). */
  lockById(id: SubscriptionId): Promise<Subscription | null>;
  /** Compare-and-set like {@link PaymentRepository.transition}; `from === to` updates fields only, with an event row. */
  transition(
    id: SubscriptionId,
    change: Transition<SubscriptionStatus, SubscriptionPatch>,
    cause: Cause,
  ): Promise<Subscription | null>;
  /** Active or past-due subscriptions whose next billing time has come, oldest first. */
  listDue(now: Date, limit: number): Promise<Subscription[]>;
  /** The account's subscriptions, newest first. */
  list(accountId: AccountId, page: PageRequest): Promise<Page<Subscription>>;
  /** The subscription's event rows, oldest first. */
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

/** A refund to record: one pay is about to ask Stripe for, or one Stripe reported that pay did not make. */
export interface NewRefund {
  /** The id to give it, when the caller made one first (its Stripe key is derived from it); new otherwise. */
  id?: RefundId;
  /** The payment's account. */
  accountId: AccountId;
  /** The payment the money goes back from. */
  paymentId: PaymentId;
  /** Minor units, \> 0, at most what remains refundable on the payment. */
  amount: number;
  /** The payment's currency. */
  currency: Currency;
  /**
   * `requires_approval` above the four-eyes threshold, `pending` when pay will ask Stripe now, `succeeded`
   * for one Stripe reports done.
   */
  status: 'requires_approval' | 'pending' | 'succeeded';
  /**
   * `pay` for a refund made through pay, `stripe` for one made in Stripe's dashboard and learnt by webhook.
   */
  origin: RefundOrigin;
  /** The operator's free text; null for none (and for refunds made in Stripe). */
  reason?: string | null;
  /** Stripe's refund (`re_…`), known at once only for a refund Stripe reported. */
  stripeRefundId?: string | null;
  /** pay's Stripe key for a refund pay makes (`pay:<refundId>`); null for one made in Stripe. */
  stripeIdempotencyKey?: string | null;
  /** The actor id of the admin who asked (a key id or an operator name); null for one made in Stripe. */
  requestedBy?: string | null;
}

/** Fields a refund transition may set together with the status. */
export interface RefundPatch {
  /** Stripe's refund (`re_…`), once learnt. */
  stripeRefundId?: string;
  /** The actor id of the second admin, on `requires_approval → pending`. */
  approvedBy?: string;
  /** Why Stripe failed or canceled the refund (`expired_or_canceled_card`, …). */
  failureReason?: string | null;
}

/** Refunds and their append-only event rows, changed only through {@link RefundRepository.transition}. */
export interface RefundRepository {
  /** Inserts the refund and its creation event row. */
  create(input: NewRefund, cause: Cause): Promise<Refund>;
  /** The account's refund, or null (none, or another account's). */
  findById(accountId: AccountId, id: RefundId): Promise<Refund | null>;
  /** The refund recorded for this Stripe refund (`re_…`), in whichever account; null when none is. */
  findByStripeId(stripeRefundId: string): Promise<Refund | null>;
  /** Compare-and-set like {@link PaymentRepository.transition}: null when the refund was no longer `from`. */
  transition(
    id: RefundId,
    change: Transition<RefundStatus, RefundPatch>,
    cause: Cause,
  ): Promise<Refund | null>;
  /** The payment's refunds, newest first: what a new refund is planned against, under the payment's lock. */
  listByPayment(accountId: AccountId, paymentId: PaymentId): Promise<Refund[]>;
  /** The refund's event rows, oldest first. */
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
  /** The disputed payment's account. */
  accountId: AccountId;
  /** The payment disputed, found from the dispute's charge or intent. */
  paymentId: PaymentId;
  /** Stripe's id of the dispute (`dp_…`): one row per dispute. */
  stripeDisputeId: string;
  /** The charge disputed (`ch_…`). */
  stripeChargeId: string;
  /** Minor units disputed. */
  amount: number;
  /** The currency of `amount`. */
  currency: Currency;
  /** Stripe's reason (`fraudulent`, `product_not_received`, …). */
  reason: string;
  /** The status this report shows, in Stripe's words. */
  status: DisputeStatus;
  /** When the bank opened the dispute at Stripe. */
  stripeCreatedAt: Date;
  /** When Stripe reported this status (the event's `created`): what orders two reports. */
  reportedAt: Date;
}

/** Disputes learnt from Stripe's webhooks, one row per Stripe dispute, kept at its newest report. */
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
  /** The dispute for this Stripe id (`dp_…`), in whichever account; null when none was reported. */
  findByStripeId(stripeDisputeId: string): Promise<Dispute | null>;
  /** The account's dispute, or null (none, or another account's). */
  findById(accountId: AccountId, id: DisputeId): Promise<Dispute | null>;
  /** The payment's disputes, newest first. */
  listByPayment(accountId: AccountId, paymentId: PaymentId): Promise<Dispute[]>;
}

/** One audit row to append, in the transaction of the change it records. */
export interface NewAuditEntry {
  /** The account acted on; null for an action of no account. */
  accountId: AccountId | null;
  /** What kind of actor did it (an API key, a CLI operator, pay itself). */
  actorType: ActorType;
  /** Who did it: a key id (`key_…`), an operator's name, or a job's name. */
  actorId: string;
  /** What was done, as `<object>.<verb>`: `account.created`, `api_key.revoked`, `refund.denied`, … */
  action: string;
  /** The kind of object acted on (`account`, `api_key`, `payment`, `refund`, …). */
  targetType?: string | null;
  /** The object acted on (its pay id); null when there is none. */
  targetId?: string | null;
  /** Minor units the action moved or asked to move; null when no money is involved. */
  amount?: number | null;
  /** The currency of `amount`; null with it. */
  currency?: Currency | null;
  /** Anything else worth keeping (JSON): a role, a reason. Never a secret or card data. */
  details?: Record<string, unknown>;
  /** The API request it came in, to find its log lines; null outside a request. */
  requestId?: string | null;
}

/** The append-only audit log: rows are never updated or deleted. */
export interface AuditLogRepository {
  /** Appends a row with a new `audit_` id. */
  append(input: NewAuditEntry): Promise<AuditEntry>;
  /** The account's audit rows, newest first. */
  list(accountId: AccountId, page: PageRequest): Promise<Page<AuditEntry>>;
}

/** Every repository, bound to one connection or one transaction. */
export interface Repositories {
  /** Accounts (tenants). */
  readonly accounts: AccountRepository;
  /** API keys, by hash. */
  readonly apiKeys: ApiKeyRepository;
  /** pay's customers of the callers' end users. */
  readonly customers: CustomerRepository;
  /** Saved cards. */
  readonly paymentMethods: PaymentMethodRepository;
  /** Plans subscriptions sell. */
  readonly plans: PlanRepository;
  /** Payments and their event rows. */
  readonly payments: PaymentRepository;
  /** Subscriptions and their event rows. */
  readonly subscriptions: SubscriptionRepository;
  /** Refunds and their event rows. */
  readonly refunds: RefundRepository;
  /** The inbox of Stripe's events. */
  readonly webhookEvents: WebhookEventRepository;
  /** Clients' idempotency keys. */
  readonly idempotencyKeys: IdempotencyKeyRepository;
  /** The append-only audit log. */
  readonly audit: AuditLogRepository;
  /** The rate limiter's and card-testing guard's counters. */
  readonly rateLimits: RateLimitRepository;
  /** Disputes learnt from Stripe. */
  readonly disputes: DisputeRepository;
}
