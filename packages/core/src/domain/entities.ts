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
  /** `acc_…`, made by pay. */
  readonly id: AccountId;
  /** A label for people (the tenant's name), 1 to 200 characters; not unique. */
  readonly name: string;
  /** When the account was created. */
  readonly createdAt: Date;
}

/** An API key. Only its SHA-256 hash is stored; `keyPrefix` is the first characters, for display. */
export interface ApiKey {
  /** `key_…`: safe to show and log, unlike the secret (`psk_…`). */
  readonly id: ApiKeyId;
  /** The account the key acts for: its caller sees only this account's objects. */
  readonly accountId: AccountId;
  /** A label for people, to tell keys apart (`checkout-prod`, …). */
  readonly name: string;
  /** What the key may do: `service` takes payments, `admin` also refunds and operates. */
  readonly role: ApiKeyRole;
  /** SHA-256 of the secret, in hex: what a presented secret is looked up by. Never log it. */
  readonly keyHash: string;
  /** `psk_` and the next four characters of the secret, to recognise a key in listings. */
  readonly keyPrefix: string;
  /** When the key was issued. */
  readonly createdAt: Date;
  /** When the key was revoked (it authenticates nothing since); null while active. */
  readonly revokedAt: Date | null;
}

/** The caller's end user (`userId`, opaque to pay) and the Stripe customer pay made for it. */
export interface Customer {
  /** `cust_…`, made by pay. */
  readonly id: CustomerId;
  /** The account whose end user this is. */
  readonly accountId: AccountId;
  /** The caller's own id of its end user, opaque to pay: unique per account. */
  readonly userId: string;
  /** The end user's email when the host recorded one; null otherwise (the payment flow records none). */
  readonly email: string | null;
  /** The Stripe customer (`cus_…`), set once by the first payment that needs it; null before. */
  readonly stripeCustomerId: string | null;
  /** When pay first saw this end user (its first payment). */
  readonly createdAt: Date;
}

/** A card saved at Stripe. pay keeps only what identifies it to people: never a number or CVC. */
export interface PaymentMethod {
  /** `pmeth_…`, made by pay. */
  readonly id: PaymentMethodId;
  /** The customer's account. */
  readonly accountId: AccountId;
  /** The customer the card is attached to at Stripe. */
  readonly customerId: CustomerId;
  /** The attached Stripe PaymentMethod (`pm_…`): unique, what intents charge. */
  readonly stripePaymentMethodId: string;
  /** The card network in Stripe's words (`visa`, `mastercard`, `amex`, …). */
  readonly brand: string;
  /** The last four digits, as a string (leading zeros kept). */
  readonly last4: string;
  /** The expiry month, 1 to 12. */
  readonly expMonth: number;
  /** The expiry year, four digits. */
  readonly expYear: number;
  /** When pay recorded the card. */
  readonly createdAt: Date;
}

/** What a subscription sells: an amount per interval. */
export interface Plan {
  /** `pln_…`, made by pay. */
  readonly id: PlanId;
  /** The account selling it; only its payments may use the plan. */
  readonly accountId: AccountId;
  /** A label for people, 1 to 200 characters. */
  readonly name: string;
  /** What each period costs, in minor units of `currency` (cents for usd): a positive integer. */
  readonly amount: number;
  /** The currency of `amount`, lowercase ISO-4217. */
  readonly currency: Currency;
  /** How often a subscription to it renews: every `month` or every `year`. */
  readonly interval: PlanInterval;
  /** False for a plan withdrawn from sale: new payments for it are refused. */
  readonly active: boolean;
  /** When the plan was created. */
  readonly createdAt: Date;
}

/** One attempt to take money, and what became of it. */
export interface Payment {
  /** `pay_…`, made by pay; also in the PaymentIntent's metadata. */
  readonly id: PaymentId;
  /** The account that took the payment. */
  readonly accountId: AccountId;
  /** pay's customer of the end user who paid. */
  readonly customerId: CustomerId;
  /** The card charged; null until the flow has attached one. */
  readonly paymentMethodId: PaymentMethodId | null;
  /** The plan paid for; null for a payment of no plan. */
  readonly planId: PlanId | null;
  /** The subscription it belongs to (first payment or renewal); null for a one-off payment. */
  readonly subscriptionId: SubscriptionId | null;
  /**
   * Why it was taken: `manual`, `subscription_create` (a first payment) or `subscription_cycle` (a renewal).
   */
  readonly billingReason: BillingReason;
  /** What was asked, in minor units of `currency`: a positive integer, never a float. */
  readonly amount: number;
  /** The currency of `amount` and `amountRefunded`. */
  readonly currency: Currency;
  /**
   * Minor units given back so far, 0 to `amount`: set from the succeeded refunds or Stripe's total for the
   * charge.
   */
  readonly amountRefunded: number;
  /** Where the payment is in {@link PAYMENT_TRANSITIONS}; changed only by compare-and-set transitions. */
  readonly status: PaymentStatus;
  /** The PaymentIntent (`pi_…`), recorded once it is created; null before. */
  readonly stripePaymentIntentId: string | null;
  /** pay's own deterministic key for Stripe, derived from the payment: never random. */
  readonly stripeIdempotencyKey: string;
  /** Stripe's error code when the payment failed (`card_declined`, `expired_card`, …); null otherwise. */
  readonly failureCode: string | null;
  /** The issuer's reason for a decline (`insufficient_funds`, …); null when none was given. */
  readonly declineCode: string | null;
  /** Stripe's message for a failure, written for the card holder; null otherwise. */
  readonly failureMessage: string | null;
  /** Free text about the payment, kept as given; pay's own flows leave it null. */
  readonly description: string | null;
  /** The caller's page to send the card holder back to after 3-D Secure. */
  readonly returnUrl: string | null;
  /** Where the card holder completes 3-D Secure, while the payment is `requires_action`. */
  readonly nextActionUrl: string | null;
  /** The period a renewal (`subscription_cycle`) pays for; null for every other payment. */
  readonly billingPeriodStart: Date | null;
  /** The end of the period a renewal pays for; null for every other payment. */
  readonly billingPeriodEnd: Date | null;
  /** Which try of the period a renewal is: 0 first, 1… dunning retries; null for every other payment. */
  readonly renewalAttempt: number | null;
  /** When pay recorded the payment, before anything was sent to Stripe. */
  readonly createdAt: Date;
  /** When the row last changed (a transition or a recorded id). */
  readonly updatedAt: Date;
}

/**
 * Why a state changed. At least one field is set: the API request, the Stripe event, the refund or
 * the payment behind it, or the job (`recovery`, `renewal`, `reconcile`, `cli:<operator>` …).
 */
export interface Cause {
  /** The API request that made the change. */
  readonly requestId?: string;
  /** The Stripe event (`evt_…`) whose webhook made the change. */
  readonly stripeEventId?: string;
  /** The refund behind the change, when a payment's change follows from it. */
  readonly refundId?: RefundId;
  /** The payment behind the change, when another object's change follows from it. */
  readonly paymentId?: PaymentId;
  /** The job that made the change: `recovery`, `renewal`, `reconcile`, `cli:<operator>`, … */
  readonly job?: string;
}

/** An append-only record of one state change of a payment. `from` is null for the creation. */
export interface PaymentEvent {
  /** `payevt_…`, made by pay. */
  readonly id: PaymentEventId;
  /** The payment that changed. */
  readonly paymentId: PaymentId;
  /** The payment's account. */
  readonly accountId: AccountId;
  /** The status before; null for the row that records the creation. */
  readonly fromStatus: PaymentStatus | null;
  /** The status after. */
  readonly toStatus: PaymentStatus;
  /** Minor units this change moved (captured or refunded), 0 when none. */
  readonly amount: number;
  /** Why it changed: the request, Stripe event or job behind it. */
  readonly cause: Cause;
  /** When the change was written. */
  readonly createdAt: Date;
}

/** A customer's subscription to a plan, with pay's billing calendar. */
export interface Subscription {
  /** `subs_…`, made by pay. */
  readonly id: SubscriptionId;
  /** The account selling the plan. */
  readonly accountId: AccountId;
  /** The customer subscribed. */
  readonly customerId: CustomerId;
  /** The plan sold: every renewal charges its amount. */
  readonly planId: PlanId;
  /** The card renewals are charged to; null until the first payment attaches one. */
  readonly paymentMethodId: PaymentMethodId | null;
  /** Where it is in {@link SUBSCRIPTION_TRANSITIONS}. */
  readonly status: SubscriptionStatus;
  /** When the period paid for (or being paid for) began. */
  readonly currentPeriodStart: Date;
  /** When that period ends: the next renewal is due then. */
  readonly currentPeriodEnd: Date;
  /**
   * When the renewal scheduler next acts on it (renewal, dunning retry, cancellation at period end); null
   * while `incomplete` and once ended.
   */
  readonly nextBillingAt: Date | null;
  /**
   * True when the owner asked to stop at the period's end: it then becomes `canceled` instead of renewing.
   */
  readonly cancelAtPeriodEnd: boolean;
  /** When cancellation was asked (now or at period end); null when none is, or after a resume. */
  readonly canceledAt: Date | null;
  /** When it stopped for good (`canceled` or `expired`); null while it lives. */
  readonly endedAt: Date | null;
  /** Failed renewal attempts in the current dunning run; 0 when none. */
  readonly dunningAttempts: number;
  /** When pay recorded it, with its first payment. */
  readonly createdAt: Date;
  /** When the row last changed. */
  readonly updatedAt: Date;
}

/** An append-only record of one state change of a subscription. */
export interface SubscriptionEvent {
  /** `subsevt_…`, made by pay. */
  readonly id: SubscriptionEventId;
  /** The subscription that changed. */
  readonly subscriptionId: SubscriptionId;
  /** The subscription's account. */
  readonly accountId: AccountId;
  /** The status before; null for the creation. Equal to `toStatus` for a change of fields only. */
  readonly fromStatus: SubscriptionStatus | null;
  /** The status after. */
  readonly toStatus: SubscriptionStatus;
  /** Minor units the change moved, 0 when none. */
  readonly amount: number;
  /** Why it changed. */
  readonly cause: Cause;
  /** When the change was written. */
  readonly createdAt: Date;
}

/** Money given back from a payment, through pay or straight in Stripe. */
export interface Refund {
  /** `rfnd_…`, made by pay (also for a refund made in Stripe). */
  readonly id: RefundId;
  /** The payment's account. */
  readonly accountId: AccountId;
  /** The payment the money goes back from. */
  readonly paymentId: PaymentId;
  /** Minor units given back, \> 0; all of a payment's refunds never add up past what it captured. */
  readonly amount: number;
  /** The payment's currency. */
  readonly currency: Currency;
  /** Where it is in {@link REFUND_TRANSITIONS}. */
  readonly status: RefundStatus;
  /** The admin's free text (at most 500 characters); null for none and for refunds made in Stripe. */
  readonly reason: string | null;
  /** `pay` when made through pay, `stripe` when made in Stripe's dashboard and learnt by webhook. */
  readonly origin: RefundOrigin;
  /** The Stripe refund (`re_…`); null until Stripe has answered (or while waiting for approval). */
  readonly stripeRefundId: string | null;
  /** pay's Stripe key for the refund (`pay:<refundId>`); null for one made in Stripe. */
  readonly stripeIdempotencyKey: string | null;
  /** The actor id of the admin who asked (a key id or an operator name); null for one made in Stripe. */
  readonly requestedBy: string | null;
  /** The second admin who approved it above the threshold; never the one who asked. Null otherwise. */
  readonly approvedBy: string | null;
  /**
   * Why it did not go through: Stripe's reason (`expired_or_canceled_card`, …) or pay's own; null unless
   * `failed` or `canceled`.
   */
  readonly failureReason: string | null;
  /** When pay recorded the refund. */
  readonly createdAt: Date;
  /** When the row last changed. */
  readonly updatedAt: Date;
}

/** An append-only record of one state change of a refund. */
export interface RefundEvent {
  /** `rfndevt_…`, made by pay. */
  readonly id: RefundEventId;
  /** The refund that changed. */
  readonly refundId: RefundId;
  /** The refund's account. */
  readonly accountId: AccountId;
  /** The status before; null for the creation. */
  readonly fromStatus: RefundStatus | null;
  /** The status after. */
  readonly toStatus: RefundStatus;
  /** Minor units the change moved, 0 when none. */
  readonly amount: number;
  /** Why it changed. */
  readonly cause: Cause;
  /** When the change was written. */
  readonly createdAt: Date;
}

/** A Stripe event in pay's durable inbox, stored before Stripe is told 200. */
export interface WebhookEvent {
  /** `whevt_…`, pay's id of the stored event (not Stripe's `evt_…`). */
  readonly id: WebhookEventId;
  /** Stripe's id of the event (`evt_…`): unique, so a redelivery is the same row. */
  readonly stripeEventId: string;
  /** Stripe's event type (`payment_intent.succeeded`, …). */
  readonly type: string;
  /** The Stripe API version the payload was rendered in; null when Stripe sent none. */
  readonly apiVersion: string | null;
  /** True for an event of Stripe's live mode. */
  readonly livemode: boolean;
  /** The Stripe object the event is about (`data.object.id`), when it has one. */
  readonly objectId: string | null;
  /** The request body exactly as Stripe sent it. */
  readonly payload: string;
  /**
   * True for a delivery whose signature pay checked; false for an event fetched by the catch-up over Stripe's
   * API.
   */
  readonly signatureVerified: boolean;
  /** Where the event is in the inbox: due, applied, ignored, waiting for a retry, or dead. */
  readonly status: WebhookEventStatus;
  /** Attempts made so far; the event is `dead` when they reach the limit (8 by default). */
  readonly attempts: number;
  /** When a worker may next take the event up (now for a new event, later after a failure). */
  readonly nextAttemptAt: Date;
  /** The last failed attempt's error, for whoever reads `pay webhook-status`; kept on re-queue. */
  readonly lastError: string | null;
  /** When Stripe created the event: how the oldest pending event and the inbox's lag are found. */
  readonly stripeCreatedAt: Date;
  /** When pay stored it. */
  readonly receivedAt: Date;
  /** When it was applied or ignored; null while it waits. */
  readonly processedAt: Date | null;
}

/** pay's own idempotency record for one (account, Idempotency-Key), after Stripe's design. */
export interface IdempotencyKey {
  /** `idem_…`, pay's id of the row (not the client's key). */
  readonly id: IdempotencyKeyId;
  /** The account the key belongs to: keys are scoped per account. */
  readonly accountId: AccountId;
  /** The client's `Idempotency-Key` header, as sent. */
  readonly key: string;
  /** The HTTP method of the first request with the key. */
  readonly requestMethod: string;
  /** The route of the first request; the key on another path is a reuse (422). */
  readonly requestPath: string;
  /**
   * SHA-256 (hex) of method, path and canonical parameters; another hash with the same key is a reuse (422).
   */
  readonly paramsHash: string;
  /** The request's parameters as sent, for the recovery job to resume the flow without its client. */
  readonly requestParams: unknown;
  /** Set while a request holds the key; a lock older than the timeout may be taken over. */
  readonly lockedAt: Date | null;
  /** The last atomic phase the flow finished (`started`, …, `finished`). */
  readonly recoveryPoint: string;
  /** The HTTP status to replay; null until the flow has finished. */
  readonly responseStatus: number | null;
  /** The result to replay (JSON), byte for byte; null until the flow has finished. */
  readonly responseBody: unknown;
  /** The id of the object the request created (a payment, a refund), once known. */
  readonly resourceId: string | null;
  /**
   * When the first request stored the key; recovery deletes it 24 h later, and the key may then be used
   * afresh.
   */
  readonly createdAt: Date;
  /** When a request (or recovery) last took the key to run its flow. */
  readonly lastRunAt: Date;
}

/** One append-only audit record: who did what to which object, and how much money moved. */
export interface AuditEntry {
  /** `audit_…`, made by pay. */
  readonly id: AuditEntryId;
  /** The account acted on; null for an action of no account. */
  readonly accountId: AccountId | null;
  /** What kind of actor did it: an API key, a CLI operator, or pay itself. */
  readonly actorType: ActorType;
  /** Who did it: a key id (`key_…`), an operator's name, or a job's name. */
  readonly actorId: string;
  /** What was done, as `<object>.<verb>` (`account.created`, `api_key.revoked`, `refund.denied`, …). */
  readonly action: string;
  /** The kind of object acted on (`account`, `api_key`, `payment`, `refund`, …). */
  readonly targetType: string | null;
  /** The object acted on (its pay id); null when there is none. */
  readonly targetId: string | null;
  /** Minor units the action moved or asked to move; null when no money is involved. */
  readonly amount: number | null;
  /** The currency of `amount`; null with it. */
  readonly currency: Currency | null;
  /**
   * Anything else worth keeping (a role, a reason), as JSON; empty when nothing. Never a secret or card data.
   */
  readonly details: Readonly<Record<string, unknown>>;
  /** The API request it came in, to find its log lines; null outside a request. */
  readonly requestId: string | null;
  /** When it was recorded. */
  readonly createdAt: Date;
}

/**
 * A dispute (chargeback or inquiry) the card holder's bank opened on one of pay's payments, learnt from
 * Stripe's webhooks. `stripeUpdatedAt` is when Stripe reported the status held here (the event's
 * `created`): an older report never overwrites a newer one.
 */
export interface Dispute {
  /** `dspt_…`, made by pay when the first report of the dispute arrived. */
  readonly id: DisputeId;
  /** The disputed payment's account. */
  readonly accountId: AccountId;
  /** The payment disputed. */
  readonly paymentId: PaymentId;
  /** Stripe's id of the dispute (`dp_…`): unique. */
  readonly stripeDisputeId: string;
  /** The charge disputed (`ch_…`). */
  readonly stripeChargeId: string;
  /** Minor units disputed. */
  readonly amount: number;
  /** The currency of `amount`. */
  readonly currency: Currency;
  /** Stripe's reason (`fraudulent`, `product_not_received`, …). */
  readonly reason: string;
  /** Where the dispute is in Stripe's lifecycle, in Stripe's words; from the newest report. */
  readonly status: DisputeStatus;
  /** When the bank opened the dispute at Stripe. */
  readonly stripeCreatedAt: Date;
  /** When Stripe reported `status` (the event's `created`): an older report never overwrites it. */
  readonly stripeUpdatedAt: Date;
  /** When pay first recorded the dispute. */
  readonly createdAt: Date;
  /** When the row last changed. */
  readonly updatedAt: Date;
}
