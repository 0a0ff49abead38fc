import type { SandboxClock } from './clock.js';
import type { CoreSettings } from './core.js';
import { latencySampler, LatencySpecError, type LatencyDistribution } from './faults/latency.js';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from './rate-limit.js';
import type { AccountConfig } from './store/account.js';
import type { StaticWebhookEndpoint } from './webhooks/hub.js';

/** The API version of the pinned SDK (`stripe@23.1.0`), used when a request and its account name none. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';

/** Options of {@link startSandbox} (SANDBOX.md §6.1). Everything is optional. */
export interface SandboxOptions {
  /** Interface to bind; `127.0.0.1` unless told otherwise. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Base URL the sandbox advertises in `redirect_to_url.url`; `http://<host>:<port>` by default. */
  publicUrl?: string;
  /** Restrict to these keys, each its own account. Without keys or accounts, any `sk_test_…` key works. */
  apiKeys?: readonly string[];
  /** Restrict to these accounts, each reachable with one or more keys. */
  accounts?: readonly AccountConfig[];
  /** Default `Stripe-Version` of accounts; the pinned SDK's by default. */
  apiVersion?: string;
  /** Webhook endpoints configured at start-up (the embedded default points one at pay). */
  webhookEndpoints?: readonly StaticWebhookEndpoint[];
  /** `virtual` (default: starts at real now, moves when told) or `real`, or a clock of your own. */
  clock?: 'virtual' | 'real' | SandboxClock;
  /** Start of a virtual clock, ms since the epoch or a Date; now by default. */
  startTime?: number | Date;
  /** Webhook retry schedule: `fast` (default), `test` or `live` (SANDBOX.md §5.4). */
  retrySchedule?: 'fast' | 'test' | 'live';
  /** Per-attempt webhook timeout, ms (30 s). */
  webhookTimeoutMs?: number;
  /** Concurrent deliveries per endpoint (1). */
  webhookConcurrency?: number;
  /** Deliver webhooks automatically (true); false: only on flush. */
  autoDeliverWebhooks?: boolean;
  /** `reject` answers raw card numbers with Stripe's "unsafe" 400; `accept` (default) takes them. */
  rawCardData?: 'accept' | 'reject';
  /** Decline cards fail on attach, as localstripe does (false). */
  declineOnAttach?: boolean;
  /** Stripe's rate limits (25/s per endpoint, 100/s in all, per account), off by default. */
  rateLimits?: boolean | Partial<RateLimitSettings>;
  /** Latency on every API request: fixed ms, or a seeded distribution. */
  latency?: number | LatencyDistribution;
  /** Seconds until an `automatic_async` capture gets its balance transaction (1; 0 = at once). */
  asyncCaptureDelaySeconds?: number;
  /** Seconds until the dispute of 4000000000000259 opens (1). */
  disputeDelaySeconds?: number;
  /**
   * Seconds until a refund of 4000000000007726 succeeds, or one of 4000000000005126 fails (5; 0 = on the
   * next clock move). Stripe says only "some time later".
   */
  asyncRefundDelaySeconds?: number;
  /** Lifetime of idempotency keys on the sandbox clock (86 400: Stripe's 24 h). */
  idempotencyTtlSeconds?: number;
  /** How many API calls the request log keeps (10 000). */
  requestLogLimit?: number;
  /** Where unexpected errors are reported (console.error). */
  logError?: (message: string, error: unknown) => void;
}

/** An option that makes no sense; `startSandbox` rejects with it, the CLI exits 2. */
export class SandboxOptionsError extends Error {
  override readonly name = 'SandboxOptionsError';
}

export interface ResolvedOptions {
  host: string;
  port: number;
  publicUrl: string | undefined;
  accounts: AccountConfig[];
  apiVersion: string;
  webhookEndpoints: StaticWebhookEndpoint[];
  clock: 'virtual' | 'real' | SandboxClock;
  startTime: number;
  retrySchedule: 'fast' | 'test' | 'live';
  webhookTimeoutMs: number | undefined;
  webhookConcurrency: number | undefined;
  autoDeliverWebhooks: boolean;
  rateLimits: RateLimitSettings | null;
  latency: LatencyDistribution | null;
  idempotencyTtlMs: number;
  requestLogLimit: number;
  settings: CoreSettings;
  logError: (message: string, error: unknown) => void;
}

function check(condition: boolean, message: string): void {
  if (!condition) {
    throw new SandboxOptionsError(message);
  }
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  check(Number.isFinite(value) && value >= 0, `${name} must be a non-negative number, got ${String(value)}`);
  return value;
}

/** Validates options and fills in defaults. */
export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  const port = options.port ?? 0;
  check(
    Number.isInteger(port) && port >= 0 && port <= 65_535,
    `port must be an integer from 0 to 65535, got ${String(port)}`,
  );
  const accounts: AccountConfig[] = [
    ...(options.accounts ?? []),
    ...(options.apiKeys ?? []).map((key) => ({ apiKeys: [key] })),
  ];
  for (const endpoint of options.webhookEndpoints ?? []) {
    check(
      typeof endpoint.url === 'string' && /^https?:\/\//.test(endpoint.url),
      `webhook endpoint url must be http(s), got ${String(endpoint.url)}`,
    );
    check(
      typeof endpoint.secret === 'string' && endpoint.secret !== '',
      'webhook endpoint secret must be a non-empty string',
    );
  }
  let rateLimits: RateLimitSettings | null = null;
  if (options.rateLimits !== undefined && options.rateLimits !== false) {
    rateLimits = { ...DEFAULT_RATE_LIMITS, ...(options.rateLimits === true ? {} : options.rateLimits) };
    check(rateLimits.perEndpoint > 0 && rateLimits.global > 0, 'rate limits must be positive');
  }
  let latency: LatencyDistribution | null = null;
  if (options.latency !== undefined) {
    latency = typeof options.latency === 'number' ? { type: 'fixed', ms: options.latency } : options.latency;
    try {
      latencySampler(latency);
    } catch (error) {
      throw new SandboxOptionsError(
        error instanceof LatencySpecError ? `latency: ${error.message}` : String(error),
      );
    }
  }
  const start =
    options.startTime instanceof Date ? options.startTime.getTime() : (options.startTime ?? Date.now());
  check(Number.isFinite(start), 'startTime must be a time');
  return {
    host: options.host ?? '127.0.0.1',
    port,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    accounts,
    apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
    webhookEndpoints: [...(options.webhookEndpoints ?? [])],
    clock: options.clock ?? 'virtual',
    startTime: start,
    retrySchedule: options.retrySchedule ?? 'fast',
    webhookTimeoutMs: options.webhookTimeoutMs,
    webhookConcurrency: options.webhookConcurrency,
    autoDeliverWebhooks: options.autoDeliverWebhooks ?? true,
    rateLimits,
    latency,
    idempotencyTtlMs: nonNegative(options.idempotencyTtlSeconds, 'idempotencyTtlSeconds', 86_400) * 1000,
    requestLogLimit: nonNegative(options.requestLogLimit, 'requestLogLimit', 10_000),
    settings: {
      rawCardData: options.rawCardData ?? 'accept',
      declineOnAttach: options.declineOnAttach ?? false,
      asyncCaptureDelaySeconds: nonNegative(options.asyncCaptureDelaySeconds, 'asyncCaptureDelaySeconds', 1),
      disputeDelaySeconds: nonNegative(options.disputeDelaySeconds, 'disputeDelaySeconds', 1),
      asyncRefundDelaySeconds: nonNegative(options.asyncRefundDelaySeconds, 'asyncRefundDelaySeconds', 5),
    },
    logError: options.logError ?? ((message, error) => console.error(message, error)),
  };
}
