import { AccountService, ApiKeyAuthenticator, PlanService, type Clock, type Store } from '@pay/core';

/** Core's services, built once over one store (STYLE.md R3): both apps call these and nothing else. */
export interface PayServices {
  /** Accounts and their API keys (issue, list, revoke). */
  readonly accounts: AccountService;
  /** API key authentication and role checks for the HTTP API. */
  readonly authenticator: ApiKeyAuthenticator;
  readonly plans: PlanService;
}

/** Wires core's services over `store`. */
export function createServices(deps: { readonly store: Store; readonly clock: Clock }): PayServices {
  return {
    accounts: new AccountService({ store: deps.store, clock: deps.clock }),
    authenticator: new ApiKeyAuthenticator({ store: deps.store }),
    plans: new PlanService({ store: deps.store }),
  };
}
