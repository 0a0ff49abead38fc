/**
 * `@pay/stripe-adapter`: pay's gateway ports (`PaymentGateway` and `GatewayEvents` in `@pay/core`)
 * implemented with the `stripe` SDK, and Stripe webhook signature verification.
 */
export { createStripeGateway, type StripeGatewayOptions } from './stripe-gateway.js';
export {
  createOutboundRateLimiter,
  StripeRequestShedError,
  systemLimiterClock,
  type LimiterClock,
  type LimiterOutcome,
  type ObserveStripeLimiter,
  type OutboundRateLimiter,
  type OutboundRateLimitOptions,
} from './outbound-rate-limit.js';
export {
  verifyStripeWebhook,
  type VerifyWebhookOptions,
  type WebhookRejectionReason,
  type WebhookVerification,
} from './verify-webhook.js';
export { STRIPE_V1_ERROR_TYPES, toPayError, type StripeV1ErrorType } from './error-mapping.js';
export {
  mapIntentStatus,
  METADATA_ACCOUNT_ID,
  METADATA_CUSTOMER_ID,
  METADATA_PAYMENT_ID,
  toGatewayIntent,
  type IntentFields,
} from './intent-mapping.js';
export { decodeStripeEvent, eventObjectKind, type EventObjectKind } from './event-mapping.js';
export {
  mapChargeStatus,
  toGatewayCharge,
  type ChargeFields,
  type KnownChargeStatus,
} from './charge-mapping.js';
export {
  mapRefundStatus,
  METADATA_REFUND_ID,
  STRIPE_REFUND_STATUSES,
  toGatewayRefund,
  type RefundFields,
  type StripeRefundStatus,
} from './refund-mapping.js';
export {
  mapDisputeStatus,
  toGatewayDispute,
  type DisputeFields,
  type KnownDisputeStatus,
} from './dispute-mapping.js';
