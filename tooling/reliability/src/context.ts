/**
 * Where the checkers look: pay's database and the Stripe sandbox it talks to. Both are read only, from
 * outside the process under test, so a check can run after that process was killed.
 */
export interface InvariantContext {
  /** A PostgreSQL URL of pay's database (its tables in schema `pay`). */
  readonly databaseUrl: string;
  readonly sandbox: SandboxTarget;
}

/** A running `@pay/stripe-sandbox`, reached over HTTP like any Stripe-compatible server. */
export interface SandboxTarget {
  /** `http://host:port`: the sandbox's base URL (pay's `STRIPE_API_BASE`). */
  readonly url: string;
  /** The `sk_test_…` key pay uses (`STRIPE_SECRET_KEY`): it selects the sandbox account checked. */
  readonly secretKey: string;
  /**
   * The sandbox account (`acct_…`) of `secretKey`. Default: the account the sandbox derives from the key,
   * which is right unless the sandbox was started with an explicit `accounts` map.
   */
  readonly accountId?: string;
}
