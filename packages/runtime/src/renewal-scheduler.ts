import type { Logger, RenewalReport } from '@pay/core';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import type { Pay } from './create-pay.js';

/** How often the renewal scheduler looks for due subscriptions when no interval is given: once a minute. */
export const DEFAULT_RENEWAL_INTERVAL_MS = 60_000;

/** Options of {@link startRenewalScheduler}. */
export interface RenewalSchedulerOptions {
  /** The pause between the end of one pass and the start of the next, in ms; 60 s by default. */
  readonly intervalMs?: number;
}

/** What the scheduler needs of pay: the renewal service, a logger, and a say in closing. */
export type RenewalSchedulerHost = Pick<Pay, 'logger' | 'onClose'> & {
  readonly services: { readonly renewals: { renewDue(): Promise<RenewalReport> } };
};

/**
 * Runs the renewal scheduler in this process: charges due subscriptions, retries `past_due` ones on the
 * dunning schedule, ends cancellations at period end and expires abandoned first payments. Any number of
 * schedulers may run at once (in the API and in `pay worker` processes): a period's charge carries a
 * Stripe idempotency key derived from (subscription, period, try) and a unique row, so none is billed
 * twice. A pass that throws is logged and the loop goes on; `pay.close()` stops it.
 */
export function startRenewalScheduler(
  pay: RenewalSchedulerHost,
  options: RenewalSchedulerOptions = {},
): BackgroundLoop {
  const intervalMs = options.intervalMs ?? DEFAULT_RENEWAL_INTERVAL_MS;
  const logger = pay.logger.child({ component: 'renewals' });
  return startBackgroundLoop(pay, async () => {
    try {
      logPass(logger, await pay.services.renewals.renewDue());
    } catch (error) {
      logger.error('renewal pass failed; retrying at the next interval', { error });
    }
    return intervalMs;
  });
}

/** Quiet when nothing was due; a line per pass that did something; a warning per failure. */
export function logPass(logger: Logger, report: RenewalReport): void {
  const { failures, ...counts } = report;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (total === 0 && failures.length === 0) {
    logger.debug('renewal pass: nothing due', counts);
    return;
  }
  logger.info('renewal pass', { ...counts, failures: failures.length });
  for (const failure of failures) {
    logger.warn('a renewal could not finish; retrying at the next pass', { ...failure });
  }
}
