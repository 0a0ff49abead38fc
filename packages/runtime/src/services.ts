import {
  AccountService,
  ApiKeyAuthenticator,
  PaymentService,
  OperatorLookup,
  PlanService,
  RateLimiter,
  CardTestingGuard,
  type CardTestingGuardDeps,
  ReconcileService,
  RefundService,
  RenewalService,
  SubscriptionService,
  WebhookService,
  type Clock,
  type PaymentServiceDeps,
  type RateLimiterDeps,
  type ReconcileServiceDeps,
  type RefundServiceDeps,
  type RenewalServiceDeps,
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
  /** Declined payments per end user, counted in the store: the card-testing guard of `POST /payments`. */
  readonly cardTesting: CardTestingGuard;
  /** The webhook inbox (DESIGN.md §5): storing deliveries, applying them, status and replay. */
  readonly webhooks: WebhookService;
  /** The webhook route's entry: signature check, then `webhooks.receive`. */
  readonly webhookInbox: WebhookInbox;
  /** Admin refunds: bounded by what was captured, four eyes above the threshold, audited, recoverable. */
  readonly refunds: RefundService;
  /** Subscriptions: reads, cancellation, resumption, changing the card. */
  readonly subscriptions: SubscriptionService;
  /** The renewal scheduler's passes: renewals, dunning retries, cancellations at period end, expiries. */
  readonly renewals: RenewalService;
  /** Finds the account of an object from its id alone, for admin commands. */
  readonly operatorLookup: OperatorLookup;
  /** `pay reconcile`: compares a window of the ledger with Stripe and repairs it through the state machines. */
  readonly reconcile: ReconcileService;
}

/** Wires core's services over `store`. */
export function createServices(deps: {
  readonly store: Store;
  readonly clock: Clock;
  /** The payment flow's own dependencies: its gateway, logger, URLs, crash points and metrics. */
  readonly payments: Omit<PaymentServiceDeps, 'store' | 'clock'>;
  /** The rate limiter's limit (`PAY_RATE_LIMIT`) and where it logs failed sweeps. */
  readonly rateLimit: Omit<RateLimiterDeps, 'store' | 'clock'>;
  /** The card-testing guard's limit and window (`PAY_DECLINE_LIMIT`, `PAY_DECLINE_WINDOW_MINUTES`). */
  readonly cardTesting: Omit<CardTestingGuardDeps, 'store' | 'clock'>;
  /** The webhook inbox's gateway (decode and retrieve), logger, attempts, crash points and metrics. */
  readonly webhooks: Omit<WebhookServiceDeps, 'store' | 'clock'>;
  /** Every secret a webhook delivery may be signed with; none refuses every delivery. */
  readonly webhookSecrets: readonly string[];
  /** The refund flow's gateway, logger, threshold, subscription policy and crash points. */
  readonly refunds: Omit<RefundServiceDeps, 'store' | 'clock'>;
  /** The renewal scheduler's dunning schedule and metrics hook (the gateway and flow are the payments'). */
  readonly renewals: Pick<RenewalServiceDeps, 'dunningSchedule' | 'observeRenewal' | 'logger'>;
  /** Reconciliation's gateway (payments' calls plus its lists), logger and refund subscription policy. */
  readonly reconcile: Omit<ReconcileServiceDeps, 'store' | 'clock'>;
}): PayServices {
  const { store, clock } = deps;
  const webhooks = new WebhookService({ ...deps.webhooks, store, clock });
  const renewals = new RenewalService({ ...deps.payments, ...deps.renewals, store, clock });
  return {
    accounts: new AccountService({ store: deps.store, clock: deps.clock }),
    authenticator: new ApiKeyAuthenticator({ store: deps.store }),
    plans: new PlanService({ store: deps.store }),
    payments: new PaymentService({ ...deps.payments, store: deps.store, clock: deps.clock }),
    rateLimiter: new RateLimiter({ ...deps.rateLimit, store: deps.store, clock: deps.clock }),
    cardTesting: new CardTestingGuard({ ...deps.cardTesting, store, clock }),
    webhooks,
    webhookInbox: createWebhookInbox({ webhooks, secrets: deps.webhookSecrets }),
    refunds: new RefundService({ ...deps.refunds, store, clock }),
    subscriptions: new SubscriptionService({
      store,
      clock,
      gateway: deps.payments.gateway,
      logger: deps.renewals.logger,
      renewals,
      ...(deps.payments.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: deps.payments.lockTimeoutMs }),
    }),
    renewals,
    operatorLookup: new OperatorLookup({ store }),
    reconcile: new ReconcileService({ ...deps.reconcile, store, clock }),
  };
}
