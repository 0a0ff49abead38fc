import type { Logger, WebhookBatchReport } from '@pay/core';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import type { Pay } from './create-pay.js';

/** How long the worker waits before looking again when no event was due: a quarter of a second. */
export const DEFAULT_WEBHOOK_IDLE_MS = 250;

/** How many events one `processDue` call may take before the loop checks whether it should stop. */
export const DEFAULT_WEBHOOK_BATCH = 100;

/** Options of {@link startWebhookWorker}. */
export interface WebhookWorkerOptions {
  /** The pause after a pass that found nothing due (or failed), in ms; 250 by default. */
  readonly idleMs?: number;
  /** Events per pass; 100 by default. */
  readonly batchSize?: number;
}

/** A running webhook worker. */
export type WebhookWorker = BackgroundLoop;

/** What the worker needs of pay: the webhook service, a logger, and a say in closing. */
export type WebhookWorkerHost = Pick<Pay, 'logger' | 'onClose'> & {
  readonly services: {
    readonly webhooks: {
      processDue(options?: {
        readonly limit?: number;
        readonly signal?: AbortSignal;
      }): Promise<WebhookBatchReport>;
    };
  };
};

/** Events a pass handled, whatever became of them. */
export function handledCount(report: WebhookBatchReport): number {
  return report.processed + report.ignored + report.failed + report.dead;
}

/**
 * Applies due webhook events in this process until stopped: a pass (`processDue`, at most `batchSize`
 * events) starts at once, the next one right after a pass that found work, and `idleMs` after one that
 * found none — so passes never overlap and a backlog drains at full speed. Each event is claimed with
 * `FOR UPDATE SKIP LOCKED`, so any number of these loops, in any number of processes, share one inbox.
 * A pass that throws (the database away) is logged and the loop goes on after `idleMs`; nothing here
 * ever rejects. Timers are unref'd, so the loop alone keeps no process alive; `pay.close()` stops it
 * (waiting for the pass in flight) before the database closes, as does the returned `stop()`.
 */
export function startWebhookWorker(
  pay: WebhookWorkerHost,
  options: WebhookWorkerOptions = {},
): WebhookWorker {
  const idleMs = options.idleMs ?? DEFAULT_WEBHOOK_IDLE_MS;
  const batchSize = options.batchSize ?? DEFAULT_WEBHOOK_BATCH;
  const logger = pay.logger.child({ component: 'webhook-worker' });
  return startBackgroundLoop(pay, async (signal) => {
    try {
      // Stopping (SIGTERM) ends the pass after the event in hand: the rest stay unclaimed for others.
      const report = await pay.services.webhooks.processDue({ limit: batchSize, signal });
      logPass(logger, report);
      // A busy inbox is drained without pause; setTimeout(0) still lets I/O and stop() in between.
      return handledCount(report) > 0 ? 0 : idleMs;
    } catch (error) {
      logger.error('webhook pass failed; retrying shortly', { error });
      return idleMs;
    }
  });
}

/** Quiet while idle or healthy; a warning for every pass that sent events to the dead letters. */
function logPass(logger: Logger, report: WebhookBatchReport): void {
  const { processed, ignored, failed, dead } = report;
  const counts = { processed, ignored, failed, dead };
  if (dead > 0) {
    logger.warn('webhook events are dead after their last attempt: see pay webhook-status --dead', counts);
  } else if (handledCount(report) > 0) {
    logger.debug('webhook pass', counts);
  }
}
