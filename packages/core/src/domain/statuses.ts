/**
 * Every status each object can be in, as data. The database's CHECK constraints, the state machines
 * and the API schemas are all built from these lists, so a new status is added in one place.
 */

/** A payment's life: see {@link PAYMENT_TRANSITIONS}. */
export const PAYMENT_STATUSES = [
  'pending',
  'requires_action',
  'processing',
  'succeeded',
  'failed',
  'canceled',
  'partially_refunded',
  'refunded',
] as const;
/** One of {@link PAYMENT_STATUSES}: where a payment is in {@link PAYMENT_TRANSITIONS}. */
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A subscription's life: see {@link SUBSCRIPTION_TRANSITIONS}. */
export const SUBSCRIPTION_STATUSES = ['incomplete', 'active', 'past_due', 'canceled', 'expired'] as const;
/** One of {@link SUBSCRIPTION_STATUSES}. */
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A refund's life: see {@link REFUND_TRANSITIONS}. `requires_approval` waits for a second admin. */
export const REFUND_STATUSES = ['requires_approval', 'pending', 'succeeded', 'failed', 'canceled'] as const;
/** One of {@link REFUND_STATUSES}. */
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * A webhook event in the inbox: `pending` until a worker applies it, `failed` while it waits for a
 * retry, `dead` after the last attempt, `ignored` for types pay does not handle.
 */
export const WEBHOOK_EVENT_STATUSES = ['pending', 'processed', 'failed', 'dead', 'ignored'] as const;
/** One of {@link WEBHOOK_EVENT_STATUSES}. */
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/** What an API key may do: `service` takes payments, `admin` also refunds and operates. */
export const API_KEY_ROLES = ['service', 'admin'] as const;
/** One of {@link API_KEY_ROLES}. */
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** How often a plan bills. */
export const PLAN_INTERVALS = ['month', 'year'] as const;
/** One of {@link PLAN_INTERVALS}. */
export type PlanInterval = (typeof PLAN_INTERVALS)[number];

/** Why a payment was taken. */
export const BILLING_REASONS = ['manual', 'subscription_create', 'subscription_cycle'] as const;
/** One of {@link BILLING_REASONS}. */
export type BillingReason = (typeof BILLING_REASONS)[number];

/** Where a refund came from: through pay, or made in Stripe's dashboard and learnt by webhook. */
export const REFUND_ORIGINS = ['pay', 'stripe'] as const;
/** One of {@link REFUND_ORIGINS}. */
export type RefundOrigin = (typeof REFUND_ORIGINS)[number];

/** Who did something recorded in the audit log. */
export const ACTOR_TYPES = ['api_key', 'cli_operator', 'system'] as const;
/** One of {@link ACTOR_TYPES}. */
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * A dispute's status, as Stripe spells it: `warning_*` for an inquiry (no money held yet), the others
 * for a chargeback. `won`, `lost`, `warning_closed` and `prevented` close it; a lost dispute may be
 * appealed (`appeal_*`) and close again.
 */
export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
  'appeal_needs_response',
  'appeal_under_review',
  'prevented',
] as const;
/** One of {@link DISPUTE_STATUSES}. */
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];
