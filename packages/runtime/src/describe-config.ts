import path from 'node:path';
import type { PayConfig, PayMode } from './config.js';

/** A secret-free summary of the configuration, for the start banner and the first log line. */
export interface ConfigSummary {
  readonly mode: PayMode;
  readonly nodeEnv: string;
  readonly port: number;
  readonly apiBaseUrl: string;
  /** `embedded (data: .pay)` or `postgres://user@host:5432/db` (never the password). */
  readonly database: string;
  /** Where the data is: the embedded folder (`.pay`) or the PostgreSQL URL without its password. */
  readonly dataLocation: string;
  readonly migrate: boolean;
  /** `sandbox (in-process)`, `stripe (test key)` or `<base> (live key)`. */
  readonly stripe: string;
  readonly stripeTimeoutMs: number;
  readonly stripeMaxNetworkRetries: number;
  /** `off`, or `90/s (25/s per endpoint), waits up to 2000 ms`. */
  readonly stripeRateLimit: string;
  /**
   * How many webhook signing secrets are accepted (the secrets themselves never). Not named
   * `…Secrets`: the log redaction hides any field so named, counts included.
   */
  readonly webhookSigningKeys: number;
  readonly returnUrlOrigins: readonly string[];
  readonly refundSubscriptionPolicy: string;
  readonly rateLimit: number;
  readonly worker: boolean;
  readonly webhookMaxAttempts: number;
  readonly logLevel: string;
  readonly faults: readonly string[];
}

/** Summarises `config` without a single secret: safe to print and to log. */
export function describeConfig(config: PayConfig): ConfigSummary {
  return {
    mode: config.mode,
    nodeEnv: config.nodeEnv,
    port: config.port,
    apiBaseUrl: config.apiBaseUrl,
    database:
      config.database.kind === 'embedded'
        ? `embedded (data: ${displayPath(config.dataDir)})`
        : describePostgresUrl(config.database.url),
    dataLocation:
      config.database.kind === 'embedded'
        ? displayPath(config.dataDir)
        : describePostgresUrl(config.database.url),
    migrate: config.migrate,
    stripe: describeStripe(config),
    stripeTimeoutMs: config.stripeTimeoutMs,
    stripeMaxNetworkRetries: config.stripeMaxNetworkRetries,
    stripeRateLimit:
      config.stripeRateLimit === 0
        ? 'off'
        : `${config.stripeRateLimit}/s (${config.stripeRateLimitPerEndpoint}/s per endpoint), waits up to ${config.stripeRateLimitMaxWaitMs} ms`,
    webhookSigningKeys: config.webhookSecrets.length,
    returnUrlOrigins: config.returnUrlOrigins,
    refundSubscriptionPolicy: config.refundSubscriptionPolicy,
    rateLimit: config.rateLimit,
    worker: config.worker,
    webhookMaxAttempts: config.webhookMaxAttempts,
    logLevel: config.logLevel,
    faults: config.faults,
  };
}

/** The data folder as the operator would type it: relative to the working directory when inside it. */
function displayPath(dir: string): string {
  if (!path.isAbsolute(dir)) {
    return dir;
  }
  const relative = path.relative(process.cwd(), dir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

function describePostgresUrl(raw: string): string {
  const url = new URL(raw);
  const user = url.username === '' ? '' : `${decodeURIComponent(url.username)}@`;
  const port = url.port === '' ? '' : `:${url.port}`;
  return `${url.protocol}//${user}${url.hostname}${port}${url.pathname}`;
}

function describeStripe(config: PayConfig): string {
  const key = config.stripeSecretKey;
  if (key === undefined) {
    return 'sandbox (in-process)';
  }
  const kind = key.includes('_live_') ? 'live key' : key.includes('_test_') ? 'test key' : 'key';
  return `${config.stripeApiBase ?? 'stripe'} (${kind})`;
}
