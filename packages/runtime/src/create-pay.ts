import {
  API_KEY_BUCKET_PREFIX,
  systemClock,
  type GatewayCallName,
  type Logger,
  type PaymentId,
  type Store,
  type WebhookOutcome,
} from '@pay/core';
import { connectPostgres, migratePostgres, type Database } from '@pay/db';
import { decodeStripeEvent, type ObserveStripeLimiter } from '@pay/stripe-adapter';
import type { PayConfig, PayMode } from './config.js';
import { seedEmbeddedDemo, type DemoApiKeys, type EmbeddedSeed } from './embedded-seed.js';
import { openEmbeddedClient, openEmbeddedService } from './embedded.js';
import { faultPointsFrom } from './faults.js';
import { gatewayFor, lazyGateway, type StripeGateway } from './gateway.js';
import { createLogger } from './logger.js';
import { createServices, type PayServices } from './services.js';
import { openStripe, type StripeConnection } from './stripe-connection.js';

/**
 * Who is starting pay. `api` owns an embedded data folder and serves it to local clients; `cli` reaches
 * it through that service when one runs, or opens it directly when none does.
 */
export type PayRole = 'api' | 'cli';

/** Options of {@link createPay}. */
export interface CreatePayOptions {
  /** Defaults to a JSON logger at `config.logLevel`: on stdout for the API, on stderr for the CLI. */
  readonly logger?: Logger;
  /** `api` unless given. */
  readonly role?: PayRole;
  /**
   * Told the duration of every call the payment flow makes to Stripe, and whether it got an answer
   * (`error` includes declines thrown as errors and timeouts): the API feeds a histogram with it.
   */
  readonly observeGatewayCall?: (call: GatewayCallName, seconds: number, outcome: 'ok' | 'error') => void;
  /**
   * Told what became of every webhook event a worker of this process handled (status, type, and the
   * seconds from Stripe's `created` to now): the API feeds its webhook counters and lag histogram.
   */
  readonly observeWebhook?: (outcome: WebhookOutcome) => void;
  /** Told of every renewal charge a scheduler of this process attempted, and how it ended. */
  readonly observeRenewal?: (outcome: 'attempted' | 'succeeded' | 'failed') => void;
  /**
   * Told of every request to Stripe that `PAY_STRIPE_RATE_LIMIT` let through (`sent`, with the seconds
   * it waited for its token) or refused (`shed`): the API feeds its limiter histogram and counter.
   */
  readonly observeStripeLimiter?: ObserveStripeLimiter;
}

/** pay, wired: configuration, logger, database and its store. Both apps get theirs from {@link createPay}. */
export interface Pay {
  readonly config: PayConfig;
  readonly logger: Logger;
  readonly role: PayRole;
  readonly mode: PayMode;
  /** `mode`, marked ` (SANDBOX)` when payments go to the in-process Stripe sandbox: the banner and /readyz show it. */
  readonly modeLabel: string;
  readonly db: Database;
  /** The unit of work the core services take. */
  readonly store: Store;
  /** Core's services over `store`: what routes and commands call. */
  readonly services: PayServices;
  /**
   * The gateway the services use: payments, and events for the webhook inbox. The API's talks to the
   * Stripe opened at start; the CLI's opens Stripe on its first call.
   */
  readonly gateway: StripeGateway;
  /** What the embedded demo seed found or made (API role, embedded only), without key secrets. */
  readonly embeddedSeed: Omit<EmbeddedSeed, 'issuedKeys'> | null;
  /**
   * The demo API keys' secrets when this start issued them (the first embedded start), once: a second
   * call returns undefined, so the secrets do not outlive the banner that prints them.
   */
  takeIssuedKeys(): DemoApiKeys | undefined;
  /**
   * Runs `hook` when pay closes, before the database does (the latest registered first): how a
   * background loop finishes its pass before its connections go away.
   */
  onClose(hook: () => Promise<void>): void;
  /** How the embedded data was reached: `served` (this process owns it), `service` or `direct` (CLI). */
  readonly access: 'postgres' | 'served' | 'service' | 'direct';
  /** Migrations applied while starting (0 when the schema was current or PAY_MIGRATE=false). */
  readonly migrationsApplied: number;
  /**
   * pay's Stripe. The API opens it at start (the embedded default's sandbox runs from then on); the CLI
   * opens it on first use, so commands that never touch Stripe start nothing.
   */
  stripe(): Promise<StripeConnection>;
  /**
   * Runs the close hooks, then closes the database (and, embedded, the socket, service.json and the
   * lock) and the sandbox. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The one composition root (STYLE.md R3): config → Stripe and database → gateway and store → services.
 * The API opens Stripe at start; the CLI gets a gateway that opens it on first use. On PostgreSQL it
 * migrates first when `PAY_MIGRATE` is true (advisory-locked, so many processes may start at once) and
 * connects as the `pay_service` role. Embedded, it opens PGlite under `PAY_DATA_DIR` as described for
 * the role, and the API seeds the demo data once (see seedEmbeddedDemo); PostgreSQL is never seeded.
 */
export async function createPay(config: PayConfig, options: CreatePayOptions = {}): Promise<Pay> {
  const role = options.role ?? 'api';
  // The CLI's stdout is its output (tables, --json), so its logs go to stderr.
  const logger =
    options.logger ??
    createLogger({ level: config.logLevel, ...(role === 'cli' ? { stream: process.stderr } : {}) });
  // The API's sandbox starts first: service.json, written when the database opens, carries its URL.
  const apiStripe = role === 'api' ? await openStripe(config, 'api', logger) : undefined;
  let opened: OpenedDatabase;
  try {
    opened = await openDatabase(config, role, logger, apiStripe?.sandbox?.url);
  } catch (error) {
    await apiStripe?.close();
    throw error;
  }
  logger.debug('database opened', {
    mode: config.mode,
    role,
    access: opened.access,
    migrationsApplied: opened.migrationsApplied,
  });
  const { db } = opened;
  let cliStripe: Promise<StripeConnection> | undefined;
  const stripe = (): Promise<StripeConnection> =>
    apiStripe === undefined ? (cliStripe ??= openStripe(config, 'cli', logger)) : Promise.resolve(apiStripe);
  const gateway =
    apiStripe === undefined
      ? lazyGateway(
          async () => gatewayFor(await stripe(), config, options.observeStripeLimiter),
          decodeStripeEvent,
        )
      : gatewayFor(apiStripe, config, options.observeStripeLimiter);
  // The API's are those of the Stripe it opened (the embedded sandbox's generated secret included).
  const webhookSecrets = apiStripe?.webhookSecrets ?? config.webhookSecrets;
  if (role === 'api' && webhookSecrets.length === 0) {
    logger.error(
      'no webhook signing secret: every Stripe delivery will be refused with a 400 until STRIPE_WEBHOOK_SECRETS is set',
    );
  }
  const faults = faultPointsFrom(config, logger);
  const services = createServices({
    store: db.store,
    clock: systemClock,
    payments: {
      gateway,
      logger,
      threeDSecureReturnUrl: (id: PaymentId) => `${config.apiBaseUrl}/api/v1/payments/${id}/return`,
      returnUrlOrigins: config.returnUrlOrigins,
      lockTimeoutMs: config.idempotencyLockTimeoutMs,
      faults,
      ...(options.observeGatewayCall === undefined ? {} : { observeGatewayCall: options.observeGatewayCall }),
    },
    rateLimit: { limit: config.rateLimit, logger, bucketPrefix: API_KEY_BUCKET_PREFIX },
    cardTesting: {
      limit: config.declineLimit,
      windowMs: config.declineWindowMinutes * 60_000,
      logger,
    },
    webhooks: {
      gateway,
      logger: logger.child({ component: 'webhooks' }),
      maxAttempts: config.webhookMaxAttempts,
      catchUpEnabled: config.webhookCatchUp,
      refundSubscriptionPolicy: config.refundSubscriptionPolicy,
      faults,
      ...(options.observeWebhook === undefined ? {} : { observe: options.observeWebhook }),
    },
    webhookSecrets,
    refunds: {
      gateway,
      logger: logger.child({ component: 'refunds' }),
      approvalThreshold: config.refundApprovalThreshold,
      subscriptionPolicy: config.refundSubscriptionPolicy,
      lockTimeoutMs: config.idempotencyLockTimeoutMs,
      faults,
    },
    reconcile: {
      gateway,
      logger: logger.child({ component: 'reconcile' }),
      refundSubscriptionPolicy: config.refundSubscriptionPolicy,
    },
    renewals: {
      logger: logger.child({ component: 'subscriptions' }),
      dunningSchedule: config.dunningSchedule,
      ...(options.observeRenewal === undefined ? {} : { observeRenewal: options.observeRenewal }),
    },
  });
  let embeddedSeed: EmbeddedSeed | null = null;
  if (role === 'api' && config.database.kind === 'embedded') {
    try {
      embeddedSeed = await seedEmbeddedDemo(config.database.dataDir, { store: db.store, services, logger });
    } catch (error) {
      // The seeding error is the one to report; closing after it is best effort, and logged.
      const logClose = (closeError: unknown): void =>
        logger.warn('closing after a failed start failed too', { error: closeError });
      await db.close().catch(logClose);
      await apiStripe?.close().catch(logClose);
      throw error;
    }
  }
  let issuedKeys = embeddedSeed?.issuedKeys;
  const closeHooks: (() => Promise<void>)[] = [];
  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    role,
    mode: config.mode,
    modeLabel: config.stripeSecretKey === undefined ? `${config.mode} (SANDBOX)` : config.mode,
    db,
    store: db.store,
    services,
    gateway,
    embeddedSeed: embeddedSeed === null ? null : withoutKeys(embeddedSeed),
    takeIssuedKeys: () => {
      const keys = issuedKeys;
      issuedKeys = undefined;
      return keys;
    },
    onClose: (hook) => {
      closeHooks.push(hook);
    },
    access: opened.access,
    migrationsApplied: opened.migrationsApplied,
    stripe,
    close: () =>
      (closing ??= (async () => {
        try {
          for (const hook of closeHooks.reverse()) {
            // A hook that fails must not keep the database open: log it and go on closing.
            await hook().catch((error: unknown) => logger.error('a close hook failed', { error }));
          }
          await db.close();
        } finally {
          // A CLI sandbox that failed to open already threw to whoever called stripe().
          const cli = cliStripe === undefined ? undefined : await cliStripe.catch(() => undefined);
          await (apiStripe ?? cli)?.close();
        }
      })()),
  };
}

function withoutKeys({ accountId, planIds, created }: EmbeddedSeed): Omit<EmbeddedSeed, 'issuedKeys'> {
  return { accountId, planIds, created };
}

interface OpenedDatabase {
  readonly db: Database;
  readonly access: Pay['access'];
  readonly migrationsApplied: number;
}

async function openDatabase(
  config: PayConfig,
  role: PayRole,
  logger: Logger,
  stripeSandboxUrl: string | undefined,
): Promise<OpenedDatabase> {
  const { database } = config;
  if (database.kind === 'postgres') {
    const migrationsApplied = config.migrate ? (await migratePostgres(database.url)).applied : 0;
    if (migrationsApplied > 0) {
      logger.info('migrations applied', { applied: migrationsApplied });
    }
    // A CLI command runs one flow at a time: two connections cover a transaction plus a lookup.
    const db = connectPostgres(database.url, { serviceRole: true, ...(role === 'cli' ? { max: 2 } : {}) });
    return { db, access: 'postgres', migrationsApplied };
  }
  if (role === 'api') {
    const service = await openEmbeddedService(database.dataDir, { logger, stripeSandboxUrl });
    return { db: service.db, access: 'served', migrationsApplied: service.migrationsApplied };
  }
  const client = await openEmbeddedClient(database.dataDir, { logger });
  return { db: client, access: client.via, migrationsApplied: client.migrationsApplied };
}
