import type { CatchUpReport, Logger, RecoveryReport, RefundRecoveryReport } from '@pay/core';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import type { Pay } from './create-pay.js';

/** How often the in-process recovery runs when no interval is given: once a minute. */
export const DEFAULT_RECOVERY_INTERVAL_MS = 60_000;

/** Options of {@link startRecoveryLoop}. */
export interface RecoveryLoopOptions {
  /** The pause between the end of one pass and the start of the next, in ms; 60 s by default. */
  readonly intervalMs?: number;
}

/** A running recovery loop. */
export type RecoveryLoop = BackgroundLoop;

/** What the loop needs of pay: the payment service's recovery, a logger, and a say in closing. */
export type RecoveryLoopHost = Pick<Pay, 'logger' | 'onClose'> & {
  readonly services: {
    readonly payments: { recover(): Promise<RecoveryReport> };
    readonly refunds: { recover(): Promise<RefundRecoveryReport> };
    readonly webhooks: { catchUp(): Promise<CatchUpReport> };
  };
};

/**
 * Runs payment and refund recovery and the webhook catch-up (events Stripe did not deliver, stored for
 * the webhook worker) in this process: once now, then `intervalMs` after each pass ends, so two
 * passes never overlap. This is what resolves payments a crash or a silent Stripe left `pending` and
 * reaps idempotency keys past 24 h, until a separate worker takes the job over. A pass that throws is
 * logged and the loop goes on; nothing here ever rejects. The timer is unref'd, so the loop alone
 * keeps no process alive; `pay.close()` stops it (waiting for a pass in flight) before the database
 * closes, as does the returned `stop()`.
 */
export function startRecoveryLoop(pay: RecoveryLoopHost, options: RecoveryLoopOptions = {}): RecoveryLoop {
  const intervalMs = options.intervalMs ?? DEFAULT_RECOVERY_INTERVAL_MS;
  const logger = pay.logger.child({ component: 'recovery' });
  return startBackgroundLoop(pay, async () => {
    try {
      logPass(logger, await pay.services.payments.recover());
    } catch (error) {
      logger.error('recovery pass failed; retrying at the next interval', { error });
    }
    try {
      logRefundPass(logger, await pay.services.refunds.recover());
    } catch (error) {
      logger.error('refund recovery pass failed; retrying at the next interval', { error });
    }
    try {
      // The service logs what it stored; an empty catch-up is the normal case and says nothing.
      await pay.services.webhooks.catchUp();
    } catch (error) {
      logger.error('webhook catch-up failed; retrying at the next interval', { error });
    }
    return intervalMs;
  });
}

/** Quiet when there was nothing to do; a line per pass that changed something; a warning per failure. */
function logPass(logger: Logger, report: RecoveryReport): void {
  const { keysResumed, paymentsResolved, keysReaped, failures } = report;
  const counts = { keysResumed, paymentsResolved, keysReaped, failures: failures.length };
  if (keysResumed + paymentsResolved + keysReaped === 0 && failures.length === 0) {
    logger.debug('recovery pass: nothing to do', counts);
    return;
  }
  logger.info('recovery pass', counts);
  for (const failure of failures) {
    logger.warn('recovery could not finish an object; retrying at the next pass', { ...failure });
  }
}

function logRefundPass(logger: Logger, report: RefundRecoveryReport): void {
  const { keysResumed, refundsResolved, failures } = report;
  if (keysResumed + refundsResolved === 0 && failures.length === 0) {
    return;
  }
  logger.info('refund recovery pass', { keysResumed, refundsResolved, failures: failures.length });
  for (const failure of failures) {
    logger.warn('recovery could not finish a refund; retrying at the next pass', { ...failure });
  }
}
