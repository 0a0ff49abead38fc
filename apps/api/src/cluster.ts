import cluster, { type Worker } from 'node:cluster';
import { ConfigurationError } from '@pay/core';
import { createLogger, loadConfig, type PayConfig } from '@pay/runtime';
import { main, reportStartFailure } from './main.js';

/*
 * `PAY_PROCESSES=N node dist/cluster.js`: N API processes on one port (node:cluster), to use more than
 * one core. Each worker runs the normal API, `main()`, unchanged; the primary serves nothing. What the
 * processes share lives in PostgreSQL: the rate limiter's counters, the idempotency keys, the webhook
 * inbox; so limits and exactly-once hold across them as across API processes on several machines.
 *
 * Supervision, decided here:
 * - a worker that dies after it was listening is logged (error) and replaced, unless workers have died
 *   MAX_DEATHS times within DEATH_WINDOW_MS: a crash loop stops the cluster (exit 1) for the process
 *   supervisor to see, instead of spinning;
 * - a worker that dies before it ever listened (a bad variable, PostgreSQL down, the port taken) stops
 *   the cluster (exit 1): a replacement would fail the same way;
 * - SIGTERM or SIGINT is forwarded to every worker, which drains as main() does (stop accepting, finish
 *   in-flight requests, close pay); the primary exits when all have, 0 if every worker exited 0. A
 *   second signal is forwarded at once and means "now", as it does to main().
 */

/** The most processes PAY_PROCESSES may ask for: far past any core count pay is deployed on. */
const MAX_PROCESSES = 64;
/** A crash loop: this many deaths of running workers within DEATH_WINDOW_MS. */
const MAX_DEATHS = 5;
const DEATH_WINDOW_MS = 60_000;
/**
 * How long the primary waits before forwarding a signal to a worker that has not reported one of its
 * own. A terminal's Ctrl-C (and systemd's KillMode=control-group) signals every process of the group at
 * once; a forwarded copy arriving on top would be a second signal, which skips the drain.
 */
const FORWARD_GRACE_MS = 200;

/** Messages between the primary and its workers. */
type ClusterMessage =
  { readonly pay: 'signalled' } | { readonly pay: 'stop'; readonly signal: NodeJS.Signals };

function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === 'object' && message !== null && 'pay' in message;
}

/**
 * `PAY_PROCESSES`: how many API processes to run, 1 when unset or blank. Read here rather than in
 * @pay/runtime's configuration: only this entry point has a use for it.
 */
export function parseProcesses(raw: string | undefined): number {
  const value = raw?.trim() ?? '';
  if (value === '') {
    return 1;
  }
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PROCESSES)) {
    throw new ConfigurationError(
      `Invalid configuration (1 variable):\n  PAY_PROCESSES: expected an integer from 1 to ${MAX_PROCESSES}, got ${JSON.stringify(raw)}`,
      { context: { variables: ['PAY_PROCESSES'] } },
    );
  }
  return n;
}

/**
 * The environment each of `processes` workers gets on top of the primary's: its share of the Stripe
 * rate limit (`PAY_STRIPE_RATE_LIMIT` and `…_PER_ENDPOINT` divided by the number of processes, rounded
 * down, at least 1), so that the whole cluster stays under the limit Stripe counts per account. Each
 * process has its own token buckets; nothing is shared. Processes on several machines must divide the
 * limit the same way (set `PAY_STRIPE_RATE_LIMIT` on each to its share). Nothing is added when the limit
 * is off or there is one process.
 */
export function workerRateLimitEnv(
  config: Pick<PayConfig, 'stripeRateLimit' | 'stripeRateLimitPerEndpoint'>,
  processes: number,
): Record<string, string> {
  if (config.stripeRateLimit === 0 || processes <= 1) {
    return {};
  }
  const share = (limit: number): string => String(Math.max(1, Math.floor(limit / processes)));
  return {
    PAY_STRIPE_RATE_LIMIT: share(config.stripeRateLimit),
    PAY_STRIPE_RATE_LIMIT_PER_ENDPOINT: share(config.stripeRateLimitPerEndpoint),
  };
}

/** The primary: validates the configuration once, forks the workers and supervises them. */
function runPrimary(): void {
  const processes = parseProcesses(process.env.PAY_PROCESSES);
  // Validated here once, so a bad variable is reported once rather than by every worker.
  const config = loadConfig();
  if (processes > 1 && config.mode === 'embedded') {
    throw new ConfigurationError(
      `PAY_PROCESSES=${processes}: the embedded database (PGlite in ${config.dataDir}) belongs to one ` +
        'process. Run one process (PAY_PROCESSES=1 or unset), or set DATABASE_URL=postgres://… to run several on PostgreSQL.',
      { context: { variables: ['PAY_PROCESSES', 'DATABASE_URL'] } },
    );
  }
  if (processes > 1 && config.stripeSecretKey === undefined) {
    // Each worker would start its own sandbox, with its own objects, and node:cluster would share its
    // random port between them: a payment's Stripe calls would land in different sandboxes.
    throw new ConfigurationError(
      `PAY_PROCESSES=${processes}: without STRIPE_SECRET_KEY each process would run its own in-process ` +
        'Stripe sandbox. Set STRIPE_SECRET_KEY (with STRIPE_API_BASE pointing at one `pay-stripe-sandbox` ' +
        'for a sandbox all processes share), or run one process.',
      { context: { variables: ['PAY_PROCESSES', 'STRIPE_SECRET_KEY'] } },
    );
  }
  const logger = createLogger({ level: config.logLevel }).child({ component: 'cluster' });
  const workerEnv = workerRateLimitEnv(config, processes);
  logger.info('pay cluster starting', {
    pid: process.pid,
    processes,
    port: config.port,
    ...(workerEnv.PAY_STRIPE_RATE_LIMIT === undefined
      ? {}
      : { stripeRateLimitPerProcess: Number(workerEnv.PAY_STRIPE_RATE_LIMIT) }),
  });

  // Kept here rather than read from cluster.workers, which holds an exited worker until its IPC
  // channel's 'disconnect' has also come.
  const alive = new Map<number, Worker>();
  const listening = new Set<number>();
  const signalled = new Set<number>();
  const deaths: number[] = [];
  let stopping: NodeJS.Signals | null = null;
  let failed = false;

  const stopAll = (signal: NodeJS.Signals): void => {
    const first = stopping === null;
    stopping = signal;
    for (const worker of alive.values()) {
      if (!first) {
        // The second signal: "now", straight to the process.
        worker.process.kill(signal);
      } else if (!signalled.has(worker.id)) {
        setTimeout(() => {
          if (!signalled.has(worker.id) && worker.isConnected()) {
            worker.send({ pay: 'stop', signal } satisfies ClusterMessage);
          }
        }, FORWARD_GRACE_MS).unref();
      }
    }
  };

  const giveUp = (reason: string, fields: Record<string, unknown>): void => {
    logger.error(`pay cluster stopping: ${reason}`, fields);
    failed = true;
    if (stopping === null) {
      stopAll('SIGTERM');
    }
  };

  const fork = (): void => {
    const worker = cluster.fork(workerEnv);
    alive.set(worker.id, worker);
    worker.on('message', (message: unknown) => {
      if (isClusterMessage(message) && message.pay === 'signalled') {
        signalled.add(worker.id);
      }
    });
  };

  cluster.on('listening', (worker, address) => {
    listening.add(worker.id);
    logger.info('pay cluster worker listening', {
      worker: worker.id,
      pid: worker.process.pid,
      port: address.port,
    });
  });

  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker.id);
    const fields = { worker: worker.id, pid: worker.process.pid, code, signal };
    if (stopping !== null) {
      logger.info('pay cluster worker stopped', fields);
      if (code !== 0) {
        failed = true;
      }
    } else if (!listening.has(worker.id)) {
      giveUp('a worker exited before it listened (its own error is above)', fields);
    } else {
      const now = Date.now();
      deaths.push(now);
      while ((deaths[0] ?? now) < now - DEATH_WINDOW_MS) {
        deaths.shift();
      }
      if (deaths.length >= MAX_DEATHS) {
        giveUp(`${deaths.length} workers died within ${DEATH_WINDOW_MS / 1000} s`, fields);
      } else {
        logger.error('pay cluster worker died; starting a replacement', fields);
        fork();
      }
    }
    if (alive.size === 0 && stopping !== null) {
      logger.info('pay cluster stopped', { signal: stopping, failed });
      process.exit(failed ? 1 : 0);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      logger.info('pay cluster stopping', { signal, workers: alive.size });
      stopAll(signal);
    });
  }
  for (let i = 0; i < processes; i++) {
    fork();
  }
}

/** A worker: the normal API, plus the two halves of signal forwarding. */
async function runWorker(): Promise<void> {
  let signalled = false;
  // The primary's forwarded signal, unless this process already had one of its own (see
  // FORWARD_GRACE_MS): sent to itself, it meets main()'s handler, or before main() installed it, the
  // default action, exactly as a signal to a lone API process would.
  process.on('message', (message: unknown) => {
    if (isClusterMessage(message) && message.pay === 'stop' && !signalled) {
      signalled = true;
      process.kill(process.pid, message.signal);
    }
  });
  await main();
  // Only now: before main() resolves, a listener here would replace the default action of a signal
  // that main()'s own handler is not yet there to take.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (!signalled) {
        signalled = true;
        process.send?.({ pay: 'signalled' } satisfies ClusterMessage);
      }
    });
  }
}

if (require.main === module) {
  if (cluster.isPrimary) {
    try {
      runPrimary();
    } catch (error) {
      reportStartFailure(error);
    }
  } else {
    runWorker().catch((error: unknown) => reportStartFailure(error));
  }
}
