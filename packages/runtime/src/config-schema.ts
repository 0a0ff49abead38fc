import { z } from 'zod';
import { REFUND_SUBSCRIPTION_POLICIES } from '@pay/core';

/** Winston's npm levels, most to least severe. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { REFUND_SUBSCRIPTION_POLICIES, type RefundSubscriptionPolicy } from '@pay/core';

/** Variables whose values never appear in an error message or a log line. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_WEBHOOK_SECRETS',
]);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * One environment variable: unset or blank means "use the default" (an `.env` line `PORT=` is a
 * common way to unset), anything else must satisfy `parse`, which returns undefined to reject it.
 * The issue message is only the expectation; loadConfig adds the variable name and, for non-secrets,
 * the value it got.
 */
function envVar<T>(expected: string, parse: (raw: string) => T | undefined) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T | undefined => {
      const value = raw?.trim();
      if (value === undefined || value === '') {
        return undefined;
      }
      const parsed = parse(value);
      if (parsed === undefined) {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      return parsed;
    });
}

function parseInteger(min: number, max: number) {
  return (raw: string): number | undefined => {
    if (!/^\d+$/.test(raw)) {
      return undefined;
    }
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `1d,3d,7d,14d`: strictly ascending positive durations, at most 20 of them, none past a year. */
function parseDurationList(raw: string): number[] | undefined {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length > 20) {
    return undefined;
  }
  const values: number[] = [];
  for (const part of parts) {
    const match = /^(\d{1,6})([smhd])$/.exec(part);
    const unit = match === null ? undefined : DURATION_UNITS_MS[match[2] ?? ''];
    if (match === null || unit === undefined) {
      return undefined;
    }
    const ms = Number(match[1]) * unit;
    if (ms <= 0 || ms > 366 * 86_400_000 || ms <= (values.at(-1) ?? 0)) {
      return undefined;
    }
    values.push(ms);
  }
  return values;
}

function parseBoolean(raw: string): boolean | undefined {
  switch (raw.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return undefined;
  }
}

function parseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const schema = z.enum(values);
  return (raw: string): T[number] | undefined => {
    const result = schema.safeParse(raw);
    return result.success ? result.data : undefined;
  };
}

function parseHttpUrl(raw: string): string | undefined {
  const result = z.url({ protocol: /^https?$/ }).safeParse(raw);
  return result.success ? raw.replace(/\/+$/, '') : undefined;
}

function parsePostgresUrl(raw: string): string | undefined {
  const result = z.url({ protocol: /^postgres(ql)?$/ }).safeParse(raw);
  return result.success ? raw : undefined;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A secret must be one token: a space or comma inside means two values were pasted together. */
function parseSecret(raw: string): string | undefined {
  return /^[^\s,]+$/.test(raw) ? raw : undefined;
}

function parseSecretList(raw: string): string[] | undefined {
  const items = splitList(raw);
  return items.length > 0 && items.every((item) => parseSecret(item) !== undefined) ? items : undefined;
}

/**
 * An origin a client's `return_url` may point at (3-D Secure returns). Plain `http://` is only for
 * loopback, so a typo cannot send a customer's browser to an unencrypted production host.
 */
function parseOrigin(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const isOriginOnly = url.origin === raw.replace(/\/$/, '') && url.username === '' && url.password === '';
  if (!isOriginOnly) {
    return undefined;
  }
  if (url.protocol === 'https:') {
    return url.origin;
  }
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? url.origin : undefined;
}

function parseOriginList(raw: string): string[] | undefined {
  const origins = splitList(raw).map(parseOrigin);
  return origins.length > 0 && origins.every((o) => o !== undefined) ? origins : undefined;
}

/** A fault point name (`after_charge`, `payment.before_commit`): PAY_FAULTS is a comma-separated list. */
function parseFaults(raw: string): string[] | undefined {
  const items = splitList(raw);
  return items.every((item) => /^[a-z0-9_.:-]+$/i.test(item)) ? items : undefined;
}

/**
 * The environment as pay reads it (DESIGN.md §6): one entry per variable, each validated on its own so
 * that one run reports every bad variable. Defaults are applied by loadConfig, not here, so that
 * derived defaults (API_BASE_URL from PORT) and cross-variable rules live in one place.
 */
export const ZPayEnv = z.object({
  NODE_ENV: envVar('expected a word such as development, test or production', (raw) =>
    /^[a-z][a-z0-9_-]*$/i.test(raw) ? raw : undefined,
  ),
  PORT: envVar('expected an integer from 1 to 65535', parseInteger(1, 65535)),
  PAY_DATA_DIR: envVar('expected a directory path', (raw) => (raw.includes('\0') ? undefined : raw)),
  DATABASE_URL: envVar('expected a postgres:// or postgresql:// URL', parsePostgresUrl),
  PAY_MIGRATE: envVar('expected true, false, 1 or 0', parseBoolean),
  STRIPE_SECRET_KEY: envVar('expected one Stripe secret key (sk_… or rk_…)', (raw) =>
    /^(sk|rk)_[A-Za-z0-9_]+$/.test(raw) ? raw : undefined,
  ),
  STRIPE_API_BASE: envVar('expected an http:// or https:// URL', parseHttpUrl),
  PAY_STRIPE_TIMEOUT_MS: envVar(
    'expected milliseconds per Stripe request, an integer from 1 to 120000',
    parseInteger(1, 120_000),
  ),
  PAY_STRIPE_MAX_NETWORK_RETRIES: envVar('expected an integer from 0 to 5', parseInteger(0, 5)),
  PAY_STRIPE_RATE_LIMIT: envVar(
    'expected Stripe requests per second for this process, an integer from 0 (off) to 10000',
    parseInteger(0, 10_000),
  ),
  PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: envVar(
    'expected Stripe requests per second to one endpoint, an integer from 1 to 10000',
    parseInteger(1, 10_000),
  ),
  PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS: envVar(
    'expected milliseconds a Stripe request may wait for the rate limit, an integer from 0 to 60000',
    parseInteger(0, 60_000),
  ),
  PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS: envVar(
    'expected milliseconds, an integer from 1000 to 3600000',
    parseInteger(1_000, 3_600_000),
  ),
  STRIPE_WEBHOOK_SECRET: envVar('expected one webhook signing secret (no spaces or commas)', parseSecret),
  STRIPE_WEBHOOK_SECRETS: envVar('expected comma-separated webhook signing secrets', parseSecretList),
  API_BASE_URL: envVar('expected an http:// or https:// URL', parseHttpUrl),
  PAY_RETURN_URL_ORIGINS: envVar(
    'expected comma-separated origins like https://shop.example (http:// only for localhost, 127.0.0.1 or [::1])',
    parseOriginList,
  ),
  PAY_REFUND_SUBSCRIPTION_POLICY: envVar(
    `expected one of ${REFUND_SUBSCRIPTION_POLICIES.join(', ')}`,
    parseEnum(REFUND_SUBSCRIPTION_POLICIES),
  ),
  PAY_REFUND_APPROVAL_THRESHOLD: envVar(
    'expected minor units, an integer from 1 to 99999999999 (unset: no threshold)',
    parseInteger(1, 99_999_999_999),
  ),
  PAY_DUNNING_SCHEDULE: envVar(
    'expected comma-separated retry delays after the first failed renewal, ascending, such as 1d,3d,7d,14d (units s, m, h, d)',
    parseDurationList,
  ),
  PAY_RATE_LIMIT: envVar(
    'expected requests per minute, an integer from 1 to 1000000',
    parseInteger(1, 1_000_000),
  ),
  PAY_DECLINE_LIMIT: envVar(
    'expected declined payments per end user in the window, an integer from 0 (off) to 1000000',
    parseInteger(0, 1_000_000),
  ),
  PAY_DECLINE_WINDOW_MINUTES: envVar('expected minutes, an integer from 1 to 10080', parseInteger(1, 10_080)),
  PAY_WORKER: envVar('expected true, false, 1 or 0', parseBoolean),
  PAY_WEBHOOK_CATCH_UP: envVar('expected true, false, 1 or 0', parseBoolean),
  PAY_WEBHOOK_MAX_ATTEMPTS: envVar('expected an integer from 1 to 100', parseInteger(1, 100)),
  PAY_MODE: envVar('expected embedded', parseEnum(['embedded'] as const)),
  PAY_LOG_LEVEL: envVar(`expected one of ${LOG_LEVELS.join(', ')}`, parseEnum(LOG_LEVELS)),
  PAY_FAULTS: envVar('expected comma-separated fault point names', parseFaults),
});

export type TPayEnv = z.infer<typeof ZPayEnv>;
