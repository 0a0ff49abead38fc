/**
 * `@pay/stripe-adapter`: pay's gateway port (`PaymentGateway` in `@pay/core`) implemented with the
 * `stripe` SDK, and Stripe webhook signature verification.
 */
export { createStripeGateway, type StripeGatewayOptions } from './stripe-gateway.js';
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
