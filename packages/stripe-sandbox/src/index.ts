/**
 * `@pay/stripe-sandbox`: a stateful, Stripe-compatible HTTP server for the real `stripe` SDK
 * (SANDBOX.md). Start it with {@link startSandbox}, or run `pay-stripe-sandbox`.
 */
export { startSandbox, type Sandbox } from './start.js';
export { DEFAULT_API_VERSION, SandboxOptionsError, type SandboxOptions } from './options.js';
export { ClockError, createClock, type SandboxClock } from './clock.js';
export {
  ControlError,
  SandboxControl,
  type ClockView,
  type FaultAdded,
  type SandboxFault,
} from './control/control.js';
export type { ActiveFaultView, ApiFault, FaultMatch, SettleOutcome } from './faults/api-faults.js';
export { parseLatency, type LatencyDistribution } from './faults/latency.js';
export type { RateLimitSettings } from './rate-limit.js';
export type { AccountConfig } from './store/account.js';
export type { LedgerKind, LedgerObject, ObjectFilter, RequestFilter, RequestLogEntry } from './ledger.js';
export { accountIdForKey } from './auth.js';
export {
  AUTHENTICATION_REQUIRED,
  TEST_CARDS,
  type AsyncRefund,
  type Decline,
  type TestCard,
  type ThreeDSecureBehaviour,
} from './cards.js';
export type { PaymentIntentObject, PaymentIntentStatus } from './objects/payment-intent.js';
export type { DisputeObject } from './objects/ledger-objects.js';
export type { RefundObject, RefundStatus } from './objects/refund.js';
export type {
  DeliveryAttempt,
  FlushResult,
  SandboxEvent,
  StaticWebhookEndpoint,
  WebhookEndpointObject,
  WebhookFault,
  WebhookHub,
} from './webhooks/hub.js';
