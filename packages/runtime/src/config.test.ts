import path from 'node:path';
import { ConfigurationError, DEFAULT_DUNNING_SCHEDULE, isPayError } from '@pay/core';
import { loadConfig } from './config.js';
import { describeConfig } from './describe-config.js';
import { redactValue } from './redact.js';

function configError(env: NodeJS.ProcessEnv): ConfigurationError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      return error;
    }
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('applies every default when nothing is set: the embedded default', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      nodeEnv: 'development',
      port: 3000,
      dataDir: '.pay',
      databaseUrl: undefined,
      migrate: true,
      stripeSecretKey: undefined,
      stripeApiBase: undefined,
      stripeTimeoutMs: 10_000,
      stripeMaxNetworkRetries: 2,
      stripeRateLimit: 0,
      stripeRateLimitPerEndpoint: 25,
      stripeRateLimitMaxWaitMs: 2_000,
      idempotencyLockTimeoutMs: 60_000,
      webhookSecrets: [],
      apiBaseUrl: 'http://localhost:3000',
      returnUrlOrigins: [],
      refundSubscriptionPolicy: 'cancel_now',
      refundApprovalThreshold: null,
      dunningSchedule: DEFAULT_DUNNING_SCHEDULE,
      rateLimit: 600,
      declineLimit: 10,
      declineWindowMinutes: 60,
      worker: true,
      webhookCatchUp: true,
      webhookMaxAttempts: 8,
      payMode: undefined,
      logLevel: 'info',
      faults: [],
      database: { kind: 'embedded', dataDir: path.resolve('.pay') },
      mode: 'embedded',
    });
  });

  it('reads every variable into camelCase fields', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '8080',
      PAY_DATA_DIR: '/var/lib/pay',
      DATABASE_URL: 'postgres://pay:s3cret@db.internal:5432/pay',
      PAY_MIGRATE: 'false',
      STRIPE_SECRET_KEY: 'sk_test_abc123',
      STRIPE_API_BASE: 'http://127.0.0.1:12111/',
      PAY_STRIPE_TIMEOUT_MS: '800',
      PAY_STRIPE_MAX_NETWORK_RETRIES: '0',
      PAY_STRIPE_RATE_LIMIT: '50',
      PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: '10',
      PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS: '500',
      PAY_IDEMPOTENCY_LOCK_TIMEOUT_MS: '5000',
      STRIPE_WEBHOOK_SECRET: 'whsec_one',
      STRIPE_WEBHOOK_SECRETS: 'whsec_two, whsec_one ,whsec_three',
      API_BASE_URL: 'https://pay.example.com/',
      PAY_RETURN_URL_ORIGINS: 'https://shop.example.com, http://localhost:5173',
      PAY_REFUND_SUBSCRIPTION_POLICY: 'keep',
      PAY_REFUND_APPROVAL_THRESHOLD: '50000',
      PAY_DUNNING_SCHEDULE: '30m, 12h,2d',
      PAY_RATE_LIMIT: '120',
      PAY_DECLINE_LIMIT: '0',
      PAY_DECLINE_WINDOW_MINUTES: '15',
      PAY_WORKER: '0',
      PAY_WEBHOOK_CATCH_UP: 'false',
      PAY_WEBHOOK_MAX_ATTEMPTS: '3',
      PAY_MODE: 'embedded',
      PAY_LOG_LEVEL: 'debug',
      PAY_FAULTS: 'after_charge,payment.before_commit',
    });
    expect(config).toEqual({
      nodeEnv: 'test',
      port: 8080,
      dataDir: '/var/lib/pay',
      databaseUrl: 'postgres://pay:s3cret@db.internal:5432/pay',
      migrate: false,
      stripeSecretKey: 'sk_test_abc123',
      stripeApiBase: 'http://127.0.0.1:12111',
      stripeTimeoutMs: 800,
      stripeMaxNetworkRetries: 0,
      stripeRateLimit: 50,
      stripeRateLimitPerEndpoint: 10,
      stripeRateLimitMaxWaitMs: 500,
      idempotencyLockTimeoutMs: 5_000,
      webhookSecrets: ['whsec_one', 'whsec_two', 'whsec_three'],
      apiBaseUrl: 'https://pay.example.com',
      returnUrlOrigins: ['https://shop.example.com', 'http://localhost:5173'],
      refundSubscriptionPolicy: 'keep',
      refundApprovalThreshold: 50_000,
      dunningSchedule: [30 * 60_000, 12 * 3_600_000, 2 * 86_400_000],
      rateLimit: 120,
      declineLimit: 0,
      declineWindowMinutes: 15,
      worker: false,
      webhookCatchUp: false,
      webhookMaxAttempts: 3,
      payMode: 'embedded',
      logLevel: 'debug',
      faults: ['after_charge', 'payment.before_commit'],
      database: { kind: 'postgres', url: 'postgres://pay:s3cret@db.internal:5432/pay' },
      mode: 'postgres',
    });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('accepts %s as a boolean', (raw, expected) => {
    expect(loadConfig({ PAY_WORKER: raw, PAY_MIGRATE: raw })).toMatchObject({
      worker: expected,
      migrate: expected,
    });
  });

  it('treats a blank variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ', PAY_WORKER: '' })).toMatchObject({
      port: 3000,
      mode: 'embedded',
      worker: true,
    });
  });

  describe('the Stripe rate limit (PAY_STRIPE_RATE_LIMIT)', () => {
    it.each([
      ['a live secret key on Stripe itself', { STRIPE_SECRET_KEY: 'sk_live_abc' }, 90],
      ['a live restricted key on Stripe itself', { STRIPE_SECRET_KEY: 'rk_live_abc' }, 90],
      ['a test key on Stripe itself', { STRIPE_SECRET_KEY: 'sk_test_abc' }, 20],
      [
        'STRIPE_API_BASE naming Stripe itself',
        { STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_API_BASE: 'https://api.stripe.com' },
        90,
      ],
      [
        'a sandbox or stand-in at STRIPE_API_BASE',
        { STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_API_BASE: 'http://127.0.0.1:12111' },
        0,
      ],
      ['the in-process sandbox (no key)', {}, 0],
    ])('defaults under Stripe’s documented limit for %s, off elsewhere', (_case, env, expected) => {
      expect(loadConfig(env)).toMatchObject({
        stripeRateLimit: expected,
        stripeRateLimitPerEndpoint: 25,
        stripeRateLimitMaxWaitMs: 2_000,
      });
    });

    it('takes an explicit limit anywhere, 0 to switch it off on Stripe itself', () => {
      expect(
        loadConfig({
          STRIPE_SECRET_KEY: 'sk_test_abc',
          STRIPE_API_BASE: 'http://127.0.0.1:12111',
          PAY_STRIPE_RATE_LIMIT: '100',
        }).stripeRateLimit,
      ).toBe(100);
      expect(
        loadConfig({ STRIPE_SECRET_KEY: 'sk_live_abc', PAY_STRIPE_RATE_LIMIT: '0' }).stripeRateLimit,
      ).toBe(0);
      expect(
        loadConfig({ PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: '1', PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS: '0' }),
      ).toMatchObject({ stripeRateLimitPerEndpoint: 1, stripeRateLimitMaxWaitMs: 0 });
    });

    it('names every bad value and what it expected', () => {
      const error = configError({
        PAY_STRIPE_RATE_LIMIT: '-1',
        PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: '0',
        PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS: '1.5',
      });
      expect(error.context.variables).toEqual([
        'PAY_STRIPE_RATE_LIMIT',
        'PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT',
        'PAY_STRIPE_RATE_LIMIT_MAX_WAIT_MS',
      ]);
      expect(error.message).toContain(
        'PAY_STRIPE_RATE_LIMIT: expected Stripe requests per second for this process, an integer from 0 (off) to 10000, got "-1"',
      );
    });
  });

  it('accepts the bounds of the Stripe client settings', () => {
    expect(loadConfig({ PAY_STRIPE_TIMEOUT_MS: '1', PAY_STRIPE_MAX_NETWORK_RETRIES: '0' })).toMatchObject({
      stripeTimeoutMs: 1,
      stripeMaxNetworkRetries: 0,
    });
    expect(
      loadConfig({ PAY_STRIPE_TIMEOUT_MS: '120000', PAY_STRIPE_MAX_NETWORK_RETRIES: '5' }),
    ).toMatchObject({ stripeTimeoutMs: 120_000, stripeMaxNetworkRetries: 5 });
  });

  it('derives API_BASE_URL from PORT', () => {
    expect(loadConfig({ PORT: '4100' }).apiBaseUrl).toBe('http://localhost:4100');
  });

  it('accepts postgresql:// URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://localhost/pay' }).database).toEqual({
      kind: 'postgres',
      url: 'postgresql://localhost/pay',
    });
  });

  it('ignores PAY_FAULTS unless NODE_ENV=test', () => {
    expect(loadConfig({ PAY_FAULTS: 'after_charge' }).faults).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', PAY_MODE: 'embedded', PAY_FAULTS: 'x' }).faults).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'test', PAY_FAULTS: 'after_charge' }).faults).toEqual(['after_charge']);
  });

  it.each([
    ['PORT', 'abc', 'PORT: expected an integer from 1 to 65535, got "abc"'],
    ['PORT', '0', 'PORT: expected an integer from 1 to 65535, got "0"'],
    ['PORT', '65536', 'PORT: expected an integer from 1 to 65535, got "65536"'],
    ['PORT', '80.5', 'PORT: expected an integer from 1 to 65535, got "80.5"'],
    ['PAY_MIGRATE', 'yes', 'PAY_MIGRATE: expected true, false, 1 or 0, got "yes"'],
    ['PAY_WORKER', 'on', 'PAY_WORKER: expected true, false, 1 or 0, got "on"'],
    ['PAY_WEBHOOK_MAX_ATTEMPTS', '0', 'PAY_WEBHOOK_MAX_ATTEMPTS: expected an integer from 1 to 100, got "0"'],
    ['STRIPE_API_BASE', 'ftp://x', 'STRIPE_API_BASE: expected an http:// or https:// URL, got "ftp://x"'],
    [
      'API_BASE_URL',
      'localhost:3000',
      'API_BASE_URL: expected an http:// or https:// URL, got "localhost:3000"',
    ],
    [
      'PAY_RETURN_URL_ORIGINS',
      'http://shop.example.com',
      'PAY_RETURN_URL_ORIGINS: expected comma-separated origins',
    ],
    [
      'PAY_RETURN_URL_ORIGINS',
      'https://shop.example.com/cart',
      'PAY_RETURN_URL_ORIGINS: expected comma-separated origins',
    ],
    [
      'PAY_REFUND_SUBSCRIPTION_POLICY',
      'cancel',
      'PAY_REFUND_SUBSCRIPTION_POLICY: expected one of cancel_now, cancel_at_period_end, keep, got "cancel"',
    ],
    [
      'PAY_REFUND_APPROVAL_THRESHOLD',
      '0',
      'PAY_REFUND_APPROVAL_THRESHOLD: expected minor units, an integer from 1 to 99999999999 (unset: no threshold), got "0"',
    ],
    ['PAY_DUNNING_SCHEDULE', '3d,1d', 'PAY_DUNNING_SCHEDULE: expected comma-separated retry delays'],
    ['PAY_DUNNING_SCHEDULE', '1w', 'PAY_DUNNING_SCHEDULE: expected comma-separated retry delays'],
    ['PAY_DUNNING_SCHEDULE', '0d,1d', 'PAY_DUNNING_SCHEDULE: expected comma-separated retry delays'],
    [
      'PAY_RATE_LIMIT',
      '-5',
      'PAY_RATE_LIMIT: expected requests per minute, an integer from 1 to 1000000, got "-5"',
    ],
    [
      'PAY_STRIPE_TIMEOUT_MS',
      '0',
      'PAY_STRIPE_TIMEOUT_MS: expected milliseconds per Stripe request, an integer from 1 to 120000, got "0"',
    ],
    [
      'PAY_STRIPE_TIMEOUT_MS',
      '120001',
      'PAY_STRIPE_TIMEOUT_MS: expected milliseconds per Stripe request, an integer from 1 to 120000, got "120001"',
    ],
    [
      'PAY_STRIPE_TIMEOUT_MS',
      '2s',
      'PAY_STRIPE_TIMEOUT_MS: expected milliseconds per Stripe request, an integer from 1 to 120000, got "2s"',
    ],
    [
      'PAY_STRIPE_MAX_NETWORK_RETRIES',
      '6',
      'PAY_STRIPE_MAX_NETWORK_RETRIES: expected an integer from 0 to 5, got "6"',
    ],
    [
      'PAY_STRIPE_MAX_NETWORK_RETRIES',
      '-1',
      'PAY_STRIPE_MAX_NETWORK_RETRIES: expected an integer from 0 to 5, got "-1"',
    ],
    ['PAY_MODE', 'postgres', 'PAY_MODE: expected embedded, got "postgres"'],
    [
      'PAY_LOG_LEVEL',
      'loud',
      'PAY_LOG_LEVEL: expected one of error, warn, info, http, verbose, debug, silly, got "loud"',
    ],
    ['PAY_FAULTS', 'a b', 'PAY_FAULTS: expected comma-separated fault point names, got "a b"'],
    ['NODE_ENV', 'prod uction', 'NODE_ENV: expected a word such as development, test or production'],
  ])('rejects %s=%j naming the variable', (name, value, expected) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('configuration_invalid');
    expect(isPayError(error)).toBe(true);
    expect(error.message).toContain(expected);
    expect(error.context).toEqual({ variables: [name] });
  });

  it('names every bad variable in one error', () => {
    const error = configError({
      PORT: 'abc',
      PAY_WORKER: 'maybe',
      PAY_RATE_LIMIT: '0',
      PAY_LOG_LEVEL: 'info',
    });
    expect(error.message).toBe(
      'Invalid configuration (3 variables):\n' +
        '  PORT: expected an integer from 1 to 65535, got "abc"\n' +
        '  PAY_RATE_LIMIT: expected requests per minute, an integer from 1 to 1000000, got "0"\n' +
        '  PAY_WORKER: expected true, false, 1 or 0, got "maybe"',
    );
    expect(error.context).toEqual({ variables: ['PORT', 'PAY_RATE_LIMIT', 'PAY_WORKER'] });
  });

  it.each([
    ['DATABASE_URL', 'mysql://root:hunter2@db/pay', 'hunter2'],
    ['DATABASE_URL', 'hunter2', 'hunter2'],
    ['STRIPE_SECRET_KEY', 'pk_test_hunter2', 'hunter2'],
    ['STRIPE_WEBHOOK_SECRET', 'whsec_hunter2 whsec_other', 'hunter2'],
    ['STRIPE_WEBHOOK_SECRETS', 'whsec_hunter2, bad secret', 'hunter2'],
  ])('never echoes the value of the secret %s', (name, value, secret) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(`${name}: expected`);
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.context)).not.toContain(secret);
  });

  describe('under NODE_ENV=production', () => {
    const production = { NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_abc' };

    it('refuses the embedded default, saying how to fix it', () => {
      const error = configError(production);
      expect(error.code).toBe('configuration_invalid');
      expect(error.message).toContain('NODE_ENV=production refuses the embedded default');
      expect(error.message).toContain('DATABASE_URL: not set');
      expect(error.message).toContain('Set DATABASE_URL=postgres://');
      expect(error.message).toContain('PAY_MODE=embedded');
    });

    it('refuses the in-process Stripe sandbox too', () => {
      const error = configError({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/pay' });
      expect(error.message).toContain('STRIPE_SECRET_KEY: not set');
      expect(error.message).not.toContain('DATABASE_URL');
    });

    it('runs embedded when PAY_MODE=embedded says so', () => {
      expect(loadConfig({ NODE_ENV: 'production', PAY_MODE: 'embedded' }).mode).toBe('embedded');
    });

    it('accepts PostgreSQL and a real key', () => {
      expect(loadConfig({ ...production, DATABASE_URL: 'postgres://db/pay' }).mode).toBe('postgres');
    });
  });
});

describe('describeConfig', () => {
  it('summarises without secrets', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://pay:s3cret@db.internal:5432/pay',
      STRIPE_SECRET_KEY: 'sk_test_hunter2',
      STRIPE_WEBHOOK_SECRETS: 'whsec_a,whsec_b',
    });
    const summary = describeConfig(config);
    expect(summary).toMatchObject({
      mode: 'postgres',
      database: 'postgres://pay@db.internal:5432/pay',
      stripe: 'stripe (test key)',
      stripeTimeoutMs: 10_000,
      stripeMaxNetworkRetries: 2,
      stripeRateLimit: '20/s (25/s per endpoint), waits up to 2000 ms',
      webhookSigningKeys: 2,
    });
    const text = JSON.stringify(summary);
    for (const secret of ['s3cret', 'hunter2', 'whsec_']) {
      expect(text).not.toContain(secret);
    }
  });

  it('holds nothing the log redaction would hide, so the start line is logged whole', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://pay:s3cret@db.internal:5432/pay',
      STRIPE_SECRET_KEY: 'sk_live_hunter2',
      STRIPE_WEBHOOK_SECRET: 'whsec_a',
      PAY_RETURN_URL_ORIGINS: 'https://shop.example.com',
    });
    const summary = describeConfig(config);
    expect(redactValue(summary)).toEqual(summary);
  });

  it('shows the embedded data folder as given', () => {
    expect(describeConfig(loadConfig({})).database).toBe('embedded (data: .pay)');
    expect(describeConfig(loadConfig({})).stripe).toBe('sandbox (in-process)');
    expect(describeConfig(loadConfig({})).stripeRateLimit).toBe('off');
  });
});
