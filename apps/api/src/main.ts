import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isPayError, type Logger, type PlanId } from '@pay/core';
import {
  createLogger,
  createPay,
  DEMO_PLANS,
  describeConfig,
  loadConfig,
  startRecoveryLoop,
  startRenewalScheduler,
  startWebhookWorker,
  type DemoApiKeys,
  type Pay,
} from '@pay/runtime';
import { createApp } from './app.js';
import {
  createGatewayCallHistogram,
  createMetrics,
  createStripeLimiterMetrics,
  observeRenewalOutcome,
  observeStripeLimiterOutcome,
  observeWebhookOutcome,
} from './metrics.js';

// In-flight requests get this long to finish after SIGTERM before their connections are cut.
const DRAIN_TIMEOUT_MS = 10_000;
// While stopping, how often connections that have fallen idle are closed.
const IDLE_SWEEP_MS = 50;

/** The one human line of the start banner: where pay listens, on what data, with which Stripe. */
export function bannerLine(pay: Pay, sandboxUrl: string | undefined): string {
  const summary = describeConfig(pay.config);
  const stripe = sandboxUrl === undefined ? summary.stripe : `sandbox at ${sandboxUrl}`;
  return `pay listening on http://localhost:${pay.config.port} — mode: ${pay.modeLabel} — data: ${summary.dataLocation} — stripe: ${stripe}`;
}

/**
 * The lines the first embedded start prints after the banner: the demo API keys, which are never shown
 * again, and a `curl` that pays for the demo monthly plan with the service key.
 */
export function demoKeysBanner(port: number, keys: DemoApiKeys, monthlyPlanId: PlanId): string {
  const body = JSON.stringify({
    user_id: 'demo-user',
    plan_id: monthlyPlanId,
    payment_method_id: 'pm_card_visa',
  });
  return [
    'Demo account API keys — shown only now, pay keeps only their hashes (more: pay api-keys create):',
    `  admin:   ${keys.admin}`,
    `  service: ${keys.service}`,
    'Pay for the demo monthly plan:',
    `  curl -X POST http://localhost:${port}/api/v1/payments -H "Authorization: Bearer ${keys.service}" -H "Idempotency-Key: ${randomUUID()}" -H 'Content-Type: application/json' -d '${body}'`,
    '',
  ].join('\n');
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (error?: Error) =>
      error === undefined ? resolve(server) : reject(error),
    );
  });
}

/**
 * Makes stopping the server stop keep-alive connections too. server.close() only stops the listener: a
 * client on a kept-alive connection could go on sending requests on it until the drain timeout. Once
 * stopping, every answer not yet begun says `Connection: close`, and connections are closed as soon as
 * they fall idle, so each open connection carries at most the request it already had; the client's
 * next request meets the closed listener and is refused (it retries later, with its key).
 */
function closingKeepAlive(server: Server): { stop(): void } {
  let stopping = false;
  const open = new Set<ServerResponse>();
  // Prepended so it runs before Express can write the headers.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      res.setHeader('connection', 'close');
      return;
    }
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return {
    stop() {
      stopping = true;
      for (const res of open) {
        if (!res.headersSent) {
          res.setHeader('connection', 'close');
        }
      }
      // An answer that had begun keeps its connection alive: close it once the answer has gone.
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
      server.once('close', () => clearInterval(sweep));
    },
  };
}

function closeServer(server: Server, keepAlive: { stop(): void }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    keepAlive.stop();
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS).unref();
  });
}

async function shutdown(
  signal: string,
  server: Server,
  keepAlive: { stop(): void },
  pay: Pay,
  logger: Logger,
): Promise<void> {
  logger.info('pay stopping', { signal });
  try {
    await closeServer(server, keepAlive);
  } finally {
    await pay.close();
  }
  logger.info('pay stopped', { signal });
}

/**
 * Starts the API: configuration, wiring, HTTP, signals. Resolves once listening; the process then
 * lives until SIGTERM or SIGINT, which stop accepting, drain, close pay and exit 0.
 */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const gatewayCalls = createGatewayCallHistogram(metrics.registry);
  const stripeLimiter = createStripeLimiterMetrics(metrics.registry);
  const pay = await createPay(config, {
    logger,
    observeGatewayCall: (call, seconds, outcome) => gatewayCalls.observe({ call, outcome }, seconds),
    observeWebhook: (outcome) => observeWebhookOutcome(metrics.webhooks, outcome),
    observeRenewal: (outcome) => observeRenewalOutcome(metrics.subscriptions, outcome),
    observeStripeLimiter: (endpoint, seconds, outcome) =>
      observeStripeLimiterOutcome(stripeLimiter, endpoint, seconds, outcome),
  });
  let server: Server;
  try {
    server = await listen(createApp({ pay, logger, metrics }), config.port);
  } catch (error) {
    await pay.close();
    throw error;
  }
  // Before anything says pay started: a supervisor that reads the banner and signals at once must
  // find the handlers installed, or the default action would kill the process mid-start.
  const keepAlive = closingKeepAlive(server);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means "now": skip the drain.
      process.exit(1);
    }
    stopping = true;
    shutdown(signal, server, keepAlive, pay, logger).then(
      () => {
        process.exitCode = 0;
        // Every handle should be closed by now; exit anyway if a library left a timer running.
        setTimeout(() => process.exit(0), 1_000).unref();
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const stripe = await pay.stripe();
  process.stdout.write(`${bannerLine(pay, stripe.sandbox?.url)}\n`);
  const keys = pay.takeIssuedKeys();
  const monthlyPlanId = pay.embeddedSeed?.planIds[DEMO_PLANS.findIndex((plan) => plan.interval === 'month')];
  if (keys !== undefined && monthlyPlanId !== undefined) {
    process.stdout.write(demoKeysBanner(config.port, keys, monthlyPlanId));
  }
  logger.info('pay started', { pid: process.pid, ...describeConfig(config) });
  // A signal may have come while the banner was awaited: pay is closing, start nothing more.
  if (config.worker && !stopping) {
    // All stopped by pay.close() at shutdown, after their pass in flight ends.
    startRecoveryLoop(pay);
    startWebhookWorker(pay);
    startRenewalScheduler(pay);
  }
}

/**
 * A PayError at start (a bad variable, a data folder another process holds) is the operator's to fix:
 * its message alone, on stderr. Anything else is a bug and gets its stack.
 */
export function reportStartFailure(error: unknown): void {
  const text = isPayError(error)
    ? error.message
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`pay: ${text}\n`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 1_000).unref();
}

if (require.main === module) {
  main().catch(reportStartFailure);
}
