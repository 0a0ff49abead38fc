import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '@pay/core';
import { startSandbox, type Sandbox } from '@pay/stripe-sandbox';
import type { PayConfig } from './config.js';
import { readLiveService } from './service-file.js';

/** The key pay uses with its in-process sandbox; any `sk_test_…` works there, this one names itself. */
export const SANDBOX_SECRET_KEY = 'sk_test_pay_embedded_sandbox';

/** The path of pay's webhook route, where the in-process sandbox delivers events. */
export const STRIPE_WEBHOOK_PATH = '/api/v1/webhooks/stripe';

/**
 * Where pay's Stripe is and how to talk to it: what `new Stripe(secretKey, { host, port, protocol })`
 * needs, and the secrets webhook deliveries are signed with. Either real Stripe (or a Stripe-compatible
 * server named by `STRIPE_API_BASE`), or the in-process sandbox of the embedded default.
 */
export interface StripeConnection {
  readonly kind: 'stripe' | 'sandbox';
  readonly secretKey: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Every secret a delivery may be signed with (rotation): the webhook route accepts any of them. */
  readonly webhookSecrets: readonly string[];
  /** The sandbox this process started, with its control plane; null when it uses another's or Stripe. */
  readonly sandbox: Sandbox | null;
  /** Stops the sandbox this process started; otherwise nothing. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the configured Stripe. With `STRIPE_SECRET_KEY` set, only parses the address. Without it, the
 * API starts the sandbox in-process on a free loopback port, its webhook endpoint pointing at the API's
 * own route (signed with the first configured webhook secret, or a fresh one); the CLI uses the running
 * service's sandbox when `service.json` names one, and otherwise starts a private one for the command.
 */
export async function openStripe(
  config: PayConfig,
  role: 'api' | 'cli',
  logger: Logger,
): Promise<StripeConnection> {
  if (config.stripeSecretKey !== undefined) {
    return {
      kind: 'stripe',
      secretKey: config.stripeSecretKey,
      ...stripeAddress(config.stripeApiBase),
      webhookSecrets: config.webhookSecrets,
      sandbox: null,
      close: () => Promise.resolve(),
    };
  }
  if (role === 'cli' && config.database.kind === 'embedded') {
    const url = readLiveService(config.database.dataDir)?.stripeSandboxUrl;
    if (url !== undefined) {
      return {
        kind: 'sandbox',
        secretKey: SANDBOX_SECRET_KEY,
        ...stripeAddress(url),
        webhookSecrets: config.webhookSecrets,
        sandbox: null,
        close: () => Promise.resolve(),
      };
    }
  }
  const webhookSecrets =
    role === 'api' && config.webhookSecrets.length === 0 ? [newWebhookSecret()] : config.webhookSecrets;
  const [signingSecret] = webhookSecrets;
  const sandbox = await startSandbox({
    host: '127.0.0.1',
    port: 0,
    // The embedded default stands in for Stripe's test mode: wall-clock time and its retry schedule.
    clock: 'real',
    retrySchedule: 'test',
    apiKeys: [SANDBOX_SECRET_KEY],
    webhookEndpoints:
      role === 'api' && signingSecret !== undefined
        ? [
            {
              url: `http://127.0.0.1:${config.port}${STRIPE_WEBHOOK_PATH}`,
              secret: signingSecret,
              enabledEvents: ['*'],
            },
          ]
        : [],
    logError: (message, error) => logger.error(message, { component: 'stripe-sandbox', error }),
  });
  if (role === 'cli') {
    logger.warn(
      "no running service: this command uses a Stripe sandbox of its own, without the service's objects",
      {
        dataDir:
          config.database.kind === 'embedded'
            ? path.relative(process.cwd(), config.database.dataDir)
            : undefined,
      },
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    kind: 'sandbox',
    secretKey: SANDBOX_SECRET_KEY,
    ...stripeAddress(sandbox.url),
    webhookSecrets,
    sandbox,
    close: () => (stopping ??= sandbox.stop()),
  };
}

/** Host, port and protocol of Stripe's API, or of the Stripe-compatible server at `base`. */
function stripeAddress(base: string | undefined): Pick<StripeConnection, 'host' | 'port' | 'protocol'> {
  if (base === undefined) {
    return { host: 'api.stripe.com', port: 443, protocol: 'https' };
  }
  const url = new URL(base);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    host: url.hostname,
    port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port),
    protocol,
  };
}

/** A signing secret for the sandbox's deliveries to this process, in Stripe's format. */
function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}
