/**
 * pay's domain as a library: money, ids, statuses and their transition tables, the error classes and their
 * codes, the ports (repositories, store, gateway, clock, logger) a host implements or takes from `@pay/db` and
 * `@pay/stripe-adapter`, and the services built on them. Everything exported here is public and listed in
 * `etc/core.api.md`; helpers the services share stay inside their modules.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './money.js';
export * from './ids.js';
export * from './domain/statuses.js';
export * from './domain/transitions.js';
export * from './domain/entities.js';
export * from './ports/page.js';
export * from './ports/clock.js';
export * from './ports/logger.js';
export * from './ports/repositories.js';
export * from './ports/store.js';
export * from './services/api-key-secrets.js';
export * from './services/account-service.js';
export * from './ports/gateway.js';
export * from './services/api-key-authenticator.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './services/page-limits.js';
export * from './services/plan-service.js';
export * from './services/card-data.js';
export * from './ports/faults.js';
export * from './services/rate-limiter.js';
export * from './services/card-testing-guard.js';
export * from './domain/billing-period.js';
export * from './services/payment-results.js';
export {
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENCY_RETRY_AFTER_SECONDS,
} from './services/idempotency.js';
export * from './services/payment-service.js';
export * from './ports/gateway-events.js';
export * from './domain/dispute-lifecycle.js';
export {
  DEFAULT_CATCH_UP_LOOKBACK_MS,
  DEFAULT_WEBHOOK_BACKOFF,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  HANDLED_WEBHOOK_EVENT_TYPES,
  STRIPE_EVENT_RETENTION_MS,
  WEBHOOK_CRASH_POINTS,
  WebhookEventTooEarlyError,
  WebhookService,
  type CatchUpOptions,
  type CatchUpReport,
  type WebhookBatchReport,
  type WebhookOutcome,
  type WebhookServiceDeps,
  type WebhookStatus,
} from './services/webhook-service.js';
export * from './services/operator-lookup.js';
export * from './services/subscription-results.js';
export {
  CARD_CHANGE_RECOVERY_POINTS,
  RECENT_PAYMENTS_LIMIT,
  SubscriptionService,
  type SubscriptionServiceDeps,
} from './services/subscription-service.js';
export * from './services/renewal-service.js';
export * from './ports/refund-gateway.js';
export * from './services/refund-results.js';
export {
  ABANDONED_FAILURE_REASON,
  MAX_REFUND_REASON_LENGTH,
  REFUND_CRASH_POINTS,
  REFUND_RECOVERY_POINTS,
  RefundService,
  type DeniedRefundAction,
  type RefundCrashPoint,
  type RefundGatewayCallName,
  type RefundServiceDeps,
} from './services/refund-service.js';
export * from './ports/reconcile-gateway.js';
export * from './services/reconcile-results.js';
export {
  ReconcileService,
  type ReconcileServiceDeps,
  type ReconcileServiceGateway,
} from './services/reconcile-service.js';
