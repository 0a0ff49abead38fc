export { loadConfig } from './config.js';
export type { DatabaseConfig, LogLevel, PayConfig, PayMode, RefundSubscriptionPolicy } from './config.js';
export { LOG_LEVELS, REFUND_SUBSCRIPTION_POLICIES, SECRET_VARIABLES } from './config-schema.js';
export { describeConfig } from './describe-config.js';
export type { ConfigSummary } from './describe-config.js';
export { createLogger, redactFormat } from './logger.js';
export type { LoggerOptions } from './logger.js';
export { isSecretKey, REDACTED, redactString, redactValue } from './redact.js';
export { createPay } from './create-pay.js';
export type { CreatePayOptions, Pay, PayRole } from './create-pay.js';
export { openEmbeddedClient, openEmbeddedService, PGDATA_DIR } from './embedded.js';
export type { EmbeddedClient, EmbeddedOptions, EmbeddedService } from './embedded.js';
export type { EmbeddedAddress } from './embedded-server.js';
export { SOCKET_FILE } from './embedded-server.js';
export { LOCK_FILE } from './data-dir-lock.js';
export { SERVICE_FILE } from './service-file.js';
export type { ServiceInfo } from './service-file.js';
export { openStripe, SANDBOX_SECRET_KEY, STRIPE_WEBHOOK_PATH } from './stripe-connection.js';
export type { StripeConnection } from './stripe-connection.js';
export { createServices } from './services.js';
export type { PayServices } from './services.js';
export {
  DEMO_ACCOUNT_NAME,
  DEMO_API_KEY_NAMES,
  DEMO_PLANS,
  SEED_FILE,
  seedEmbeddedDemo,
} from './embedded-seed.js';
export type { DemoApiKeys, EmbeddedSeed } from './embedded-seed.js';
export { faultPointsFrom, killProcess } from './faults.js';
export type { CrashProcess } from './faults.js';
export { gatewayFor, lazyGateway } from './gateway.js';
export type { StripeGateway } from './gateway.js';
export { DEFAULT_RECOVERY_INTERVAL_MS, startRecoveryLoop } from './recovery-loop.js';
export type { RecoveryLoop, RecoveryLoopHost, RecoveryLoopOptions } from './recovery-loop.js';
export {
  checkWebhookSignature,
  createWebhookInbox,
  receiveWebhookDelivery,
  WEBHOOK_REFUSAL_REASONS,
} from './webhook-delivery.js';
export type {
  WebhookDelivery,
  WebhookInbox,
  WebhookRefusal,
  WebhookRefusalReason,
  WebhookSignatureCheck,
  WebhookSignatureOptions,
} from './webhook-delivery.js';
export {
  DEFAULT_WEBHOOK_BATCH,
  DEFAULT_WEBHOOK_IDLE_MS,
  handledCount,
  startWebhookWorker,
} from './webhook-worker.js';
export type { WebhookWorker, WebhookWorkerHost, WebhookWorkerOptions } from './webhook-worker.js';
export { DEFAULT_RENEWAL_INTERVAL_MS, startRenewalScheduler } from './renewal-scheduler.js';
export type { RenewalSchedulerHost, RenewalSchedulerOptions } from './renewal-scheduler.js';
export { refundJson, subscriptionJson, subscriptionPaymentJson } from './wire-views.js';
export type { RefundJson, SubscriptionJson, SubscriptionPaymentJson } from './wire-views.js';
