import type { InferSelectModel } from 'drizzle-orm';
import type {
  accounts,
  apiKeys,
  auditLog,
  customers,
  disputes,
  idempotencyKeys,
  paymentEvents,
  paymentMethods,
  payments,
  plans,
  refundEvents,
  refunds,
  subscriptionEvents,
  subscriptions,
  webhookEvents,
} from './tables.js';

/* Row types, inferred from the schema. They never leave @pay/db: repositories map them to core's types. */

export type AccountRow = InferSelectModel<typeof accounts>;
export type ApiKeyRow = InferSelectModel<typeof apiKeys>;
export type CustomerRow = InferSelectModel<typeof customers>;
export type PaymentMethodRow = InferSelectModel<typeof paymentMethods>;
export type PlanRow = InferSelectModel<typeof plans>;
export type PaymentRow = InferSelectModel<typeof payments>;
export type SubscriptionRow = InferSelectModel<typeof subscriptions>;
export type RefundRow = InferSelectModel<typeof refunds>;
export type PaymentEventRow = InferSelectModel<typeof paymentEvents>;
export type SubscriptionEventRow = InferSelectModel<typeof subscriptionEvents>;
export type RefundEventRow = InferSelectModel<typeof refundEvents>;
export type WebhookEventRow = InferSelectModel<typeof webhookEvents>;
export type IdempotencyKeyRow = InferSelectModel<typeof idempotencyKeys>;
export type AuditEntryRow = InferSelectModel<typeof auditLog>;
export type DisputeRow = InferSelectModel<typeof disputes>;

/** The cause columns every ledger table shares. */
export type CauseColumns = Pick<
  PaymentEventRow,
  'causeRequestId' | 'causeStripeEventId' | 'causeRefundId' | 'causePaymentId' | 'causeJob'
>;
