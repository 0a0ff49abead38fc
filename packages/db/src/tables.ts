/** Every table of pay's schema, for the repositories and tests. drizzle-kit reads `schema/*.ts` directly. */
export { accounts, apiKeys } from './schema/accounts.js';
export { customers, paymentMethods } from './schema/customers.js';
export { plans } from './schema/plans.js';
export { subscriptions } from './schema/subscriptions.js';
export { payments } from './schema/payments.js';
export { refunds } from './schema/refunds.js';
export { paymentEvents, subscriptionEvents, refundEvents } from './schema/ledger.js';
export { webhookEvents } from './schema/webhook-events.js';
export { idempotencyKeys } from './schema/idempotency-keys.js';
export { auditLog } from './schema/audit-log.js';
export { rateLimitBuckets } from './schema/rate-limits.js';
export { disputes } from './schema/disputes.js';
