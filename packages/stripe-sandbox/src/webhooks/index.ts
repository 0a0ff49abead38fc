export { createWebhookHub, WebhookResendError } from './create-webhook-hub.js';
export { WebhookFaultError } from './faults.js';
export { RETRY_SCHEDULES, type RetryScheduleName } from './retry-schedules.js';
export { generateWebhookSecret, stripeSignature } from './signing.js';
