import {
  AccountService,
  ApiKeyAuthenticator,
  PaymentService,
  PlanService,
  RateLimiter,
  WebhookService,
  type Clock,
  type PaymentServiceDeps,
  type RateLimiterDeps,
  type Store,
  type WebhookServiceDeps,
} from '@pay/core';
import { createWebhookInbox, type WebhookInbox } from './webhook-delivery.js';

/** Core's services, built once over one store (STYLE.md R3): both apps call these and nothing else. */
export interface PayServices {
  /** Accounts and their API keys (issue, list, revoke). */
  readonly accounts: AccountService;
  /** API key authentication and role checks for the HTTP API. */
  readonly authenticator: ApiKeyAuthenticator;
  readonly plans: PlanService;
  /** Taking payments (idempotent, 3-D Secure returns) and recovering those a crash or Stripe left open. */
  readonly payments: PaymentService;
  /** Requests per minute per API key, counted in the store so every API process shares the limit. */
  readonly rateLimiter: RateLimiter;
  /** The webhook inbox (DESIGN.md §5): storing deliveries, applying them, status and replay. */
  readonly webhooks: WebhookService;
  /** The webhook route's entry: signature check, then `webhooks.receive`. */
  readonly webhookInbox: WebhookInbox;
}

/** Wires core's services over `store`. */
export function createServices(deps: {
  readonly store: Store;
  readonly clock: Clock;
  /** The payment flow's own dependencies: its gateway, logger, URLs, crash points and metrics. */
  readonly payments: Omit<PaymentServiceDeps, 'store' | 'clock'>;
  /** The rate limiter's limit (`PAY_RATE_LIMIT`) and where it logs failed sweeps. */
  readonly rateLimit: Omit<RateLimiterDeps, 'store' | 'clock'>;
  /** The webhook inbox's gateway (decode and retrieve), logger, attempts, crash points and metrics. */
  readonly webhooks: Omit<WebhookServiceDeps, 'store' | 'clock'>;
  /** Every secret a webhook delivery may be signed with; none refuses every delivery. */
  readonly webhookSecrets: readonly string[];
}): PayServices {
  const webhooks = new WebhookService({ ...deps.webhooks, store: deps.store, clock: deps.clock });
  return {
    accounts: new AccountService({ store: deps.store, clock: deps.clock }),
    authenticator: new ApiKeyAuthenticator({ store: deps.store }),
    plans: new PlanService({ store: deps.store }),
    payments: new PaymentService({ ...deps.payments, store: deps.store, clock: deps.clock }),
    rateLimiter: new RateLimiter({ ...deps.rateLimit, store: deps.store, clock: deps.clock }),
    webhooks,
    webhookInbox: createWebhookInbox({ webhooks, secrets: deps.webhookSecrets }),
  };
}
