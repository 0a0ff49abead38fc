import type { Currency } from '../money.js';
import type {
  AccountId,
  ApiKeyId,
  AuditEntryId,
  CustomerId,
  DisputeId,
  IdempotencyKeyId,
  PaymentEventId,
  PaymentId,
  PaymentMethodId,
  PlanId,
  RefundEventId,
  RefundId,
  SubscriptionEventId,
  SubscriptionId,
  WebhookEventId,
} from '../ids.js';
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
} from './statuses.js';

/** A tenant of pay. Every object and every API key belongs to exactly one account. */
export interface Account {
  readonly id: AccountId;
  readonly name: string;
  readonly createdAt: Date;
}

/** An API key. Only its SHA-256 hash is stored; `keyPrefix` is the first characters, for display. */
export interface ApiKey {
  readonly id: ApiKeyId;
  readonly accountId: AccountId;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly keyHash: string;
  readonly keyPrefix: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** The caller's end user (`userId`, opaque to pay) and the Stripe customer pay made for it. */
export interface Customer {
  readonly id: CustomerId;
  readonly accountId: AccountId;
  readonly userId: string;
  readonly email: string | null;
  readonly stripeCustomerId: string | null;
  readonly createdAt: Date;
}

/** A card saved at Stripe. pay keeps only what identifies it to people: never a number or CVC. */
export interface PaymentMethod {
  readonly id: PaymentMethodId;
  readonly accountId: AccountId;
  readonly customerId: CustomerId;
  readonly stripePaymentMethodId: string;
  readonly brand: string;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly createdAt: Date;
}

/** What a subscription sells: an amount per interval. */
export interface Plan {
  readonly id: PlanId;
  readonly accountId: AccountId;
  readonly name: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly interval: PlanInterval;
  readonly active: boolean;
  readonly createdAt: Date;
}

/** One attempt to take money, and what became of it. */
export interface Payment {
  readonly id: PaymentId;
  readonly accountId: AccountId;
  readonly customerId: CustomerId;
  readonly paymentMethodId: PaymentMethodId | null;
  readonly planId: PlanId | null;
  readonly subscriptionId: SubscriptionId | null;
  readonly billingReason: BillingReason;
  readonly amount: number;
  readonly currency: Currency;
  readonly amountRefunded: number;
  readonly status: PaymentStatus;
  readonly stripePaymentIntentId: string | null;
  /** pay's own deterministic key for Stripe, derived from the payment: never random. */
  readonly stripeIdempotencyKey: string;
  readonly failureCode: string | null;
  readonly declineCode: string | null;
  readonly failureMessage: string | null;
  readonly description: string | null;
  /** The caller's page to send the card holder back to after 3-D Secure. */
  readonly returnUrl: string | null;
  /** Where the card holder completes 3-D Secure, while the payment is `requires_action`. */
  readonly nextActionUrl: string | null;
  /** The period a renewal (`subscription_cycle`) pays for; null for every other payment. */
  readonly billingPeriodStart: Date | null;
  readonly billingPeriodEnd: Date | null;
  /** Which try of the period a renewal is: 0 first, 1… dunning retries; null for every other payment. */
  readonly renewalAttempt: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Why a state changed. At least one field is set: the API request, the Stripe event, the refund or
 * the payment behind it, or the job (`recovery`, `renewal`, `reconcile`, `cli:<operator>` …).
 */
export interface Cause {
  readonly requestId?: string;
  readonly stripeEventId?: string;
  readonly refundId?: RefundId;
  readonly paymentId?: PaymentId;
  readonly job?: string;
}

/** An append-only record of one state change of a payment. `from` is null for the creation. */
export interface PaymentEvent {
  readonly id: PaymentEventId;
  readonly paymentId: PaymentId;
  readonly accountId: AccountId;
  readonly fromStatus: PaymentStatus | null;
  readonly toStatus: PaymentStatus;
  /** Minor units this change moved (captured or refunded), 0 when none. */
  readonly amount: number;
  readonly cause: Cause;
  readonly createdAt: Date;
}

/** A customer's subscription to a plan, with pay's billing calendar. */
export interface Subscription {
  readonly id: SubscriptionId;
  readonly accountId: AccountId;
  readonly customerId: CustomerId;
  readonly planId: PlanId;
  readonly paymentMethodId: PaymentMethodId | null;
  readonly status: SubscriptionStatus;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly nextBillingAt: Date | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: Date | null;
  readonly endedAt: Date | null;
  /** Failed renewal attempts in the current dunning run; 0 when none. */
  readonly dunningAttempts: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An append-only record of one state change of a subscription. */
export interface SubscriptionEvent {
  readonly id: SubscriptionEventId;
  readonly subscriptionId: SubscriptionId;
  readonly accountId: AccountId;
  readonly fromStatus: SubscriptionStatus | null;
  readonly toStatus: SubscriptionStatus;
  readonly amount: number;
  readonly cause: Cause;
  readonly createdAt: Date;
}

/** Money given back from a payment, through pay or straight in Stripe. */
export interface Refund {
  readonly id: RefundId;
  readonly accountId: AccountId;
  readonly paymentId: PaymentId;
  readonly amount: number;
  readonly currency: Currency;
  readonly status: RefundStatus;
  readonly reason: string | null;
  readonly origin: RefundOrigin;
  readonly stripeRefundId: string | null;
  readonly stripeIdempotencyKey: string | null;
  readonly requestedBy: string | null;
  readonly approvedBy: string | null;
  readonly failureReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An append-only record of one state change of a refund. */
export interface RefundEvent {
  readonly id: RefundEventId;
  readonly refundId: RefundId;
  readonly accountId: AccountId;
  readonly fromStatus: RefundStatus | null;
  readonly toStatus: RefundStatus;
  readonly amount: number;
  readonly cause: Cause;
  readonly createdAt: Date;
}

/** A Stripe event in pay's durable inbox, stored before Stripe is told 200. */
export interface WebhookEvent {
  readonly id: WebhookEventId;
  readonly stripeEventId: string;
  readonly type: string;
  readonly apiVersion: string | null;
  readonly livemode: boolean;
  /** The Stripe object the event is about (`data.object.id`), when it has one. */
  readonly objectId: string | null;
  /** The request body exactly as Stripe sent it. */
  readonly payload: string;
  readonly signatureVerified: boolean;
  readonly status: WebhookEventStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly stripeCreatedAt: Date;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
}

/** pay's own idempotency record for one (account, Idempotency-Key), after Stripe's design. */
export interface IdempotencyKey {
  readonly id: IdempotencyKeyId;
  readonly accountId: AccountId;
  readonly key: string;
  readonly requestMethod: string;
  readonly requestPath: string;
  readonly paramsHash: string;
  /** The request's parameters as sent, for the recovery job to resume the flow without its client. */
  readonly requestParams: unknown;
  /** Set while a request holds the key; a lock older than the timeout may be taken over. */
  readonly lockedAt: Date | null;
  /** The last atomic phase the flow finished (`started`, …, `finished`). */
  readonly recoveryPoint: string;
  readonly responseStatus: number | null;
  readonly responseBody: unknown;
  /** The id of the object the request created (a payment, a refund), once known. */
  readonly resourceId: string | null;
  readonly createdAt: Date;
  readonly lastRunAt: Date;
}

/** One append-only audit record: who did what to which object, and how much money moved. */
export interface AuditEntry {
  readonly id: AuditEntryId;
  readonly accountId: AccountId | null;
  readonly actorType: ActorType;
  readonly actorId: string;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly amount: number | null;
  readonly currency: Currency | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | null;
  readonly createdAt: Date;
}

/**
 * A dispute (chargeback or inquiry) the card holder's bank opened on one of pay's payments, learnt from
 * Stripe's webhooks. `stripeUpdatedAt` is when Stripe reported the status held here (the event's
 * `created`): an older report never overwrites a newer one.
 */
export interface Dispute {
  readonly id: DisputeId;
  readonly accountId: AccountId;
  readonly paymentId: PaymentId;
  readonly stripeDisputeId: string;
  readonly stripeChargeId: string;
  readonly amount: number;
  readonly currency: Currency;
  /** Stripe's reason (`fraudulent`, `product_not_received`, …). */
  readonly reason: string;
  readonly status: DisputeStatus;
  readonly stripeCreatedAt: Date;
  readonly stripeUpdatedAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
