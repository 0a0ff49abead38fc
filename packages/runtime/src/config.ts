import path from 'node:path';
import {
  ConfigurationError,
  DEFAULT_DECLINE_LIMIT,
  DEFAULT_DECLINE_WINDOW_MS,
  DEFAULT_DUNNING_SCHEDULE,
  DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
} from '@pay/core';
import {
  SECRET_VARIABLES,
  ZPayEnv,
  type LogLevel,
  type RefundSubscriptionPolicy,
  type TPayEnv,
} from './config-schema.js';

export type { LogLevel, RefundSubscriptionPolicy } from './config-schema.js';

/** Where pay keeps its data: a PostgreSQL server, or PGlite in a local folder (the embedded default). */
export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'embedded'; readonly dataDir: string };

/** How pay runs: on PostgreSQL, or embedded (PGlite in `PAY_DATA_DIR`). */
export type PayMode = 'embedded' | 'postgres';

/**
 * pay's configuration, read once from the environment by {@link loadConfig}. One field per variable of
 * DESIGN.md §6 (camelCase, defaults applied), plus the derived `database` and `mode`.
 */
export interface PayConfig {
  /** `NODE_ENV`; `development` when unset. */
  readonly nodeEnv: string;
  /** `PORT`, the HTTP port. */
  readonly port: number;
  /** `PAY_DATA_DIR` as given (relative to the working directory when not absolute). */
  readonly dataDir: string;
  /** `DATABASE_URL`; undefined selects the embedded database. Secret: contains the password. */
  readonly databaseUrl: string | undefined;
  /** `PAY_MIGRATE`: apply migrations at start. Embedded data is always migrated: it is pay's own. */
  readonly migrate: boolean;
  /** `STRIPE_SECRET_KEY`; undefined selects the in-process Stripe sandbox. Secret. */
  readonly stripeSecretKey: string | undefined;
  /** `STRIPE_API_BASE`, a Stripe-compatible server; undefined means Stripe's own. */
  readonly stripeApiBase: string | undefined;
  /**
   * `PAY_STRIPE_TIMEOUT_MS`: how long one HTTP attempt to Stripe may take. Past it the call has no
   * answer and the payment waits, `pending`, for recovery.
   */
  readonly stripeTimeoutMs: number;
  /** `PAY_STRIPE_MAX_NETWORK_RETRIES`: re-sends of a call that got no answer, under the same key. */
  readonly stripeMaxNetworkRetries: number;
  /**
   * `PAY_STRIPE_RATE_LIMIT`: requests per second this process may send to Stripe, all endpoints
   * together; 0 when off. Unset: on Stripe itself 90 with a live key and 20 with a test key (Stripe
   * allows 100 and 25), off on any other `STRIPE_API_BASE` and on the in-process sandbox.
   */
  readonly stripeRateLimit: number;
  /** `PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT`: requests per second to any one Stripe endpoint (25). */
  readonly stripeRateLimitPerEndpoint: number;
  /**
   * `PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS`: the longest a Stripe request waits for the rate limit (2000);
   * one that would wait longer is not sent, and the client gets a 503 with `Retry-After`.
   */
  readonly stripeRateLimitMaxWaitMs: number;
  /**
   * `PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS`: how long a request may hold its idempotency key before a retry or
   * the recovery job takes it over (the holder is presumed dead). Longer than any Stripe call can take.
   */
  readonly idempotencyLockTimeoutMs: number;
  /** `STRIPE_WEBHOOK_SECRET` then `STRIPE_WEBHOOK_SECRETS`, deduplicated: every one is accepted. Secret. */
  readonly webhookSecrets: readonly string[];
  /** `API_BASE_URL`, pay's public address, without a trailing slash. */
  readonly apiBaseUrl: string;
  /** `PAY_RETURN_URL_ORIGINS`, normalised origins. */
  readonly returnUrlOrigins: readonly string[];
  /** `PAY_REFUND_SUBSCRIPTION_POLICY`. */
  readonly refundSubscriptionPolicy: RefundSubscriptionPolicy;
  /** `PAY_REFUND_APPROVAL_THRESHOLD`: refunds above this many minor units wait for a second admin; null = none. */
  readonly refundApprovalThreshold: number | null;
  /** `PAY_DUNNING_SCHEDULE`: retry delays (ms) after a period's first failed renewal; core's default when unset. */
  readonly dunningSchedule: readonly number[];
  /** `PAY_RATE_LIMIT`, requests per minute per API key. */
  readonly rateLimit: number;
  /** `PAY_DECLINE_LIMIT`: declined payments per end user in the window before the next is refused (429); 0 = off. */
  readonly declineLimit: number;
  /** `PAY_DECLINE_WINDOW_MINUTES`: the window declines are counted in, in minutes. */
  readonly declineWindowMinutes: number;
  /** `PAY_WORKER`: run the worker in the API process. */
  readonly worker: boolean;
  /** `PAY_WEBHOOK_CATCH_UP`: recovery lists Stripe's events it never received and stores them. */
  readonly webhookCatchUp: boolean;
  /** `PAY_WEBHOOK_MAX_ATTEMPTS`: attempts at applying a webhook event before it is `dead` (core's default, 8). */
  readonly webhookMaxAttempts: number;
  /** `PAY_MODE`: `embedded` allows the embedded default in production. */
  readonly payMode: 'embedded' | undefined;
  /** `PAY_LOG_LEVEL`. */
  readonly logLevel: LogLevel;
  /** `PAY_FAULTS`, armed crash points; always empty unless `NODE_ENV=test`. */
  readonly faults: readonly string[];
  /** Derived: the database to open. */
  readonly database: DatabaseConfig;
  /** Derived: `embedded` without `DATABASE_URL`. */
  readonly mode: PayMode;
}

/**
 * Reads and validates pay's configuration from `env`. Throws one {@link ConfigurationError} naming every
 * bad variable and what was expected (values of secrets are never repeated), and refuses the embedded
 * default under `NODE_ENV=production` unless `PAY_MODE=embedded`, so a deploy that forgot a variable
 * never takes fake payments.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PayConfig {
  const parsed = ZPayEnv.safeParse(env);
  if (!parsed.success) {
    throw configurationError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const got = SECRET_VARIABLES.has(name) ? '' : `, got ${JSON.stringify(env[name])}`;
        return `${name}: ${issue.message}${got}`;
      }),
    );
  }
  const config = buildConfig(parsed.data);
  const refusals = refuseEmbeddedInProduction(config);
  if (refusals.length > 0) {
    throw configurationError(refusals, 'NODE_ENV=production refuses the embedded default');
  }
  return config;
}

/** One error for every problem, each line starting with its variable's name. */
function configurationError(problems: string[], headline?: string): ConfigurationError {
  const variables = problems.map((p) => p.slice(0, p.indexOf(':')));
  const noun = problems.length === 1 ? 'variable' : 'variables';
  const title = headline ?? `Invalid configuration (${problems.length} ${noun})`;
  return new ConfigurationError(`${title}:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
    context: { variables },
  });
}

function buildConfig(env: TPayEnv): PayConfig {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const port = env.PORT ?? 3000;
  const dataDir = env.PAY_DATA_DIR ?? '.pay';
  const databaseUrl = env.DATABASE_URL;
  const webhookSecrets = [
    ...new Set([
      ...(env.STRIPE_WEBHOOK_SECRET === undefined ? [] : [env.STRIPE_WEBHOOK_SECRET]),
      ...(env.STRIPE_WEBHOOK_SECRETS ?? []),
    ]),
  ];
  return {
    nodeEnv,
    port,
    dataDir,
    databaseUrl,
    migrate: env.PAY_MIGRATE ?? true,
    stripeSecretKey: env.STRIPE_SECRET_KEY,
    stripeApiBase: env.STRIPE_API_BASE,
    stripeTimeoutMs: env.PAY_STRIPE_TIMEOUT_MS ?? 10_000,
    stripeMaxNetworkRetries: env.PAY_STRIPE_MAX_NETWORK_RETRIES ?? 2,
    stripeRateLimit: env.PAY_STRIPE_RATE_LIMIT ?? defaultStripeRateLimit(env),
    stripeRateLimitPerEndpoint: env.PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT ?? 25,
    stripeRateLimitMaxWaitMs: env.PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS ?? 2_000,
    idempotencyLockTimeoutMs: env.PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS ?? DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
    webhookSecrets,
    apiBaseUrl: env.API_BASE_URL ?? `http://localhost:${port}`,
    returnUrlOrigins: env.PAY_RETURN_URL_ORIGINS ?? [],
    refundSubscriptionPolicy: env.PAY_REFUND_SUBSCRIPTION_POLICY ?? 'cancel_now',
    refundApprovalThreshold: env.PAY_REFUND_APPROVAL_THRESHOLD ?? null,
    dunningSchedule: env.PAY_DUNNING_SCHEDULE ?? DEFAULT_DUNNING_SCHEDULE,
    rateLimit: env.PAY_RATE_LIMIT ?? 600,
    declineLimit: env.PAY_DECLINE_LIMIT ?? DEFAULT_DECLINE_LIMIT,
    declineWindowMinutes: env.PAY_DECLINE_WINDOW_MINUTES ?? DEFAULT_DECLINE_WINDOW_MS / 60_000,
    worker: env.PAY_WORKER ?? true,
    webhookCatchUp: env.PAY_WEBHOOK_CATCH_UP ?? true,
    webhookMaxAttempts: env.PAY_WEBHOOK_MAX_ATTEMPTS ?? DEFAULT_WEBHOOK_MAX_ATTEMPTS,
    payMode: env.PAY_MODE,
    logLevel: env.PAY_LOG_LEVEL ?? 'info',
    // Crash points exist for the reliability battery only; a production process must never arm one.
    faults: nodeEnv === 'test' ? (env.PAY_FAULTS ?? []) : [],
    database:
      databaseUrl === undefined
        ? { kind: 'embedded', dataDir: path.resolve(dataDir) }
        : { kind: 'postgres', url: databaseUrl },
    mode: databaseUrl === undefined ? 'embedded' : 'postgres',
  };
}

/**
 * Stripe's documented limits are 100 requests per second in live mode and 25 in test mode; pay keeps
 * a tenth (a fifth in test mode) in hand for what it cannot count: network jitter that bunches requests
 * on the way, the SDK's own re-sends, and anything else sending on the same account. Another
 * `STRIPE_API_BASE` (the sandbox, a stand-in, a proxy) has limits of its own or none, so nothing is
 * throttled there unless asked: tests and benchmarks against the sandbox run at full speed.
 */
function defaultStripeRateLimit(env: TPayEnv): number {
  const key = env.STRIPE_SECRET_KEY;
  if (key === undefined) {
    return 0;
  }
  if (env.STRIPE_API_BASE !== undefined && new URL(env.STRIPE_API_BASE).hostname !== STRIPE_API_HOST) {
    return 0;
  }
  return /^(sk|rk)_live_/.test(key) ? 90 : 20;
}

/** Stripe's own API host: a `STRIPE_API_BASE` naming it is Stripe itself. */
const STRIPE_API_HOST = 'api.stripe.com';

/**
 * The embedded default is PGlite plus the in-process Stripe sandbox: fine on a laptop, fake payments in
 * production. Either missing variable alone already means fake or throw-away data, so each is named.
 */
function refuseEmbeddedInProduction(config: PayConfig): string[] {
  if (config.nodeEnv !== 'production' || config.payMode === 'embedded') {
    return [];
  }
  const problems: string[] = [];
  if (config.mode === 'embedded') {
    problems.push(
      `DATABASE_URL: not set, so pay would keep its ledger in PGlite under ${config.dataDir}. ` +
        'Set DATABASE_URL=postgres://… to use PostgreSQL',
    );
  }
  if (config.stripeSecretKey === undefined) {
    problems.push(
      'STRIPE_SECRET_KEY: not set, so pay would take payments on its in-process Stripe sandbox. ' +
        'Set STRIPE_SECRET_KEY=sk_live_… (or sk_test_…)',
    );
  }
  return problems.map(
    (p) => `${p}, or PAY_MODE=embedded to run the embedded default in production on purpose.`,
  );
}
