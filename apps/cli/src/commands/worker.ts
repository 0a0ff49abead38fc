import { Flags } from '@oclif/core';
import type { RecoveryReport, RefundRecoveryReport, RenewalReport, WebhookBatchReport } from '@pay/core';
import {
  DEFAULT_RECOVERY_INTERVAL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  DEFAULT_WEBHOOK_IDLE_MS,
  handledCount,
  startRecoveryLoop,
  startRenewalScheduler,
  startWebhookWorker,
  type Pay,
} from '@pay/runtime';
import { BaseCommand } from '../base-command.js';

/** The `--json` shape of `pay worker --once`: what the pass did. */
export interface WorkerOnceView {
  webhooks: { processed: number; ignored: number; failed: number; dead: number };
  /**
   * The events Stripe had not delivered, listed first and stored for this pass to apply: `failures` is 1
   * when the listing failed (logged; the pass goes on).
   */
  webhook_catch_up: { listed: number; stored: number; already_known: number; failures: number };
  recovery: { keys_resumed: number; payments_resolved: number; keys_reaped: number; failures: number };
  refunds: { keys_resumed: number; refunds_resolved: number; failures: number };
  renewals: {
    attempted: number;
    renewed: number;
    failed: number;
    expired: number;
    canceled: number;
    waiting: number;
    failures: number;
  };
}

/** The `--json` shape of `pay worker` after a signal stopped it. */
export interface WorkerStoppedView {
  stopped: NodeJS.Signals;
}

/** Events one `processDue` call may take in `--once`, so a huge backlog is still worked in bounded steps. */
const ONCE_BATCH = 500;

export default class Worker extends BaseCommand<WorkerOnceView | WorkerStoppedView> {
  static override description =
    "Run pay's background work in the foreground: the webhook worker (applies stored Stripe events, " +
    'retrying failures with backoff), the payment and refund recovery loop and the renewal scheduler ' +
    '(renewals, dunning retries, cancellations at period end), until SIGTERM or SIGINT, which let the ' +
    'pass in flight finish. Any number of workers may run side by side, here and in the API (PAY_WORKER): ' +
    'each event is claimed by one of them, and no period is billed twice. With --once, store the events ' +
    'Stripe did not deliver, apply every event due now, run one recovery pass and one renewal pass, and exit 0.';

  static override examples = ['<%= config.bin %> worker', '<%= config.bin %> worker --once --json'];

  static override flags = {
    once: Flags.boolean({ description: 'Apply what is due now, run one recovery pass, and exit' }),
    'idle-ms': Flags.integer({
      min: 10,
      max: 60_000,
      default: DEFAULT_WEBHOOK_IDLE_MS,
      description: 'How long the webhook worker waits when no event was due, in ms',
    }),
    'recovery-interval-ms': Flags.integer({
      min: 1_000,
      default: DEFAULT_RECOVERY_INTERVAL_MS,
      description: 'The pause between payment recovery passes, in ms',
    }),
    'renewal-interval-ms': Flags.integer({
      min: 1_000,
      default: DEFAULT_RENEWAL_INTERVAL_MS,
      description: 'The pause between renewal scheduler passes, in ms',
    }),
  };

  async run(): Promise<WorkerOnceView | WorkerStoppedView> {
    const { flags } = await this.parse(Worker);
    const pay = await this.pay();
    if (flags.once) {
      const view = await runOnce(pay);
      const { processed, ignored, failed, dead } = view.webhooks;
      this.log(
        `Webhook catch-up: ${view.webhook_catch_up.stored} undelivered events stored` +
          `${view.webhook_catch_up.failures > 0 ? ' (the listing failed; see the log)' : ''}. ` +
          `Webhook events: ${processed} processed, ${ignored} ignored, ${failed} failed (retried later), ${dead} dead. ` +
          `Recovery: ${view.recovery.payments_resolved} payments resolved, ${view.recovery.keys_resumed} keys resumed, ` +
          `${view.recovery.failures} left for a later pass. ` +
          `Refunds: ${view.refunds.refunds_resolved} resolved, ${view.refunds.keys_resumed} keys resumed. ` +
          `Renewals: ${view.renewals.attempted} charged, ${view.renewals.renewed} renewed, ` +
          `${view.renewals.failed} failed, ${view.renewals.expired} expired, ${view.renewals.canceled} canceled.`,
      );
      return view;
    }
    // Wait for the signal before starting, so one arriving during start-up is not missed.
    const signal = nextStopSignal();
    startWebhookWorker(pay, { idleMs: flags['idle-ms'] });
    startRecoveryLoop(pay, { intervalMs: flags['recovery-interval-ms'] });
    startRenewalScheduler(pay, { intervalMs: flags['renewal-interval-ms'] });
    pay.logger.info('pay worker started', { pid: process.pid, mode: pay.modeLabel });
    const stopped = await signal;
    pay.logger.info('pay worker stopping', { signal: stopped });
    // BaseCommand's finally closes pay, which stops both loops after their pass in flight.
    return { stopped };
  }
}

/**
 * Stores what Stripe did not deliver, drains what is due (batch after batch, until a pass finds nothing),
 * then one recovery pass.
 */
async function runOnce(pay: Pay): Promise<WorkerOnceView> {
  const catchUp = await catchUpOnce(pay);
  const total: { -readonly [K in keyof WebhookBatchReport]: number } = {
    processed: 0,
    ignored: 0,
    failed: 0,
    dead: 0,
  };
  for (;;) {
    const report = await pay.services.webhooks.processDue({ limit: ONCE_BATCH });
    total.processed += report.processed;
    total.ignored += report.ignored;
    total.failed += report.failed;
    total.dead += report.dead;
    // A failed event is due again only after its backoff, so this ends even when every event fails.
    if (handledCount(report) < ONCE_BATCH) {
      break;
    }
  }
  const recovery: RecoveryReport = await pay.services.payments.recover();
  const refunds: RefundRecoveryReport = await pay.services.refunds.recover();
  const renewals: RenewalReport = await pay.services.renewals.renewDue();
  return {
    webhooks: total,
    webhook_catch_up: catchUp,
    recovery: {
      keys_resumed: recovery.keysResumed,
      payments_resolved: recovery.paymentsResolved,
      keys_reaped: recovery.keysReaped,
      failures: recovery.failures.length,
    },
    refunds: {
      keys_resumed: refunds.keysResumed,
      refunds_resolved: refunds.refundsResolved,
      failures: refunds.failures.length,
    },
    renewals: { ...renewals, failures: renewals.failures.length },
  };
}

/** The catch-up of one pass; a failure (Stripe unreachable) is logged and counted, as the loop does. */
async function catchUpOnce(pay: Pay): Promise<WorkerOnceView['webhook_catch_up']> {
  try {
    const { listed, stored, alreadyKnown } = await pay.services.webhooks.catchUp();
    return { listed, stored, already_known: alreadyKnown, failures: 0 };
  } catch (error) {
    pay.logger.error('webhook catch-up failed; the next pass retries', { error });
    return { listed: 0, stored: 0, already_known: 0, failures: 1 };
  }
}

/** Resolves with the first SIGTERM or SIGINT, and stops listening for them. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
