import {
  AccountService,
  ApiKeyAuthenticator,
  PaymentService,
  PlanService,
  RateLimiter,
  type Clock,
  type PaymentServiceDeps,
  type RateLimiterDeps,
  type Store,
} from '@pay/core';

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
}

/** Wires core's services over `store`. */
export function createServices(deps: {
  readonly store: Store;
  readonly clock: Clock;
  /** The payment flow's own dependencies: its gateway, logger, URLs, crash points and metrics. */
  readonly payments: Omit<PaymentServiceDeps, 'store' | 'clock'>;
  /** The rate limiter's limit (`PAY_RATE_LIMIT`) and where it logs failed sweeps. */
  readonly rateLimit: Omit<RateLimiterDeps, 'store' | 'clock'>;
}): PayServices {
  return {
    accounts: new AccountService({ store: deps.store, clock: deps.clock }),
    authenticator: new ApiKeyAuthenticator({ store: deps.store }),
    plans: new PlanService({ store: deps.store }),
    payments: new PaymentService({ ...deps.payments, store: deps.store, clock: deps.clock }),
    rateLimiter: new RateLimiter({ ...deps.rateLimit, store: deps.store, clock: deps.clock }),
  };
}
