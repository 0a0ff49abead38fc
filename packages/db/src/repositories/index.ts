import type { Repositories } from '@pay/core';
import type { Executor } from '../store.js';
import { createAccountRepository, createApiKeyRepository } from './accounts.js';
import { createAuditLogRepository } from './audit-log.js';
import { createCustomerRepository, createPaymentMethodRepository } from './customers.js';
import { createDisputeRepository } from './disputes.js';
import { createIdempotencyKeyRepository } from './idempotency-keys.js';
import { createPaymentRepository } from './payments.js';
import { createPlanRepository } from './plans.js';
import { createRateLimitRepository } from './rate-limits.js';
import { createRefundRepository } from './refunds.js';
import { createSubscriptionRepository } from './subscriptions.js';
import { createWebhookEventRepository } from './webhook-events.js';

/** Every repository of core's `Repositories`, bound to one executor (the root database or a transaction). */
export function createRepositories(x: Executor): Repositories {
  return {
    accounts: createAccountRepository(x),
    apiKeys: createApiKeyRepository(x),
    customers: createCustomerRepository(x),
    paymentMethods: createPaymentMethodRepository(x),
    plans: createPlanRepository(x),
    payments: createPaymentRepository(x),
    subscriptions: createSubscriptionRepository(x),
    refunds: createRefundRepository(x),
    webhookEvents: createWebhookEventRepository(x),
    idempotencyKeys: createIdempotencyKeyRepository(x),
    audit: createAuditLogRepository(x),
    rateLimits: createRateLimitRepository(x),
    disputes: createDisputeRepository(x),
  };
}
