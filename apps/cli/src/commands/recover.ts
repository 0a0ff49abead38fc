import type { CatchUpReport, RecoveryReport, RefundRecoveryReport } from '@pay/core';
import { BaseCommand } from '../base-command.js';
import { EXIT_PROBLEMS } from '../exit-codes.js';

/** The `--json` shape of `pay recover`: the recovery report, snake_case like every CLI output. */
export interface RecoveryView {
  /** Idempotency keys resumed from their recovery point and finished. */
  keys_resumed: number;
  /** Payments whose outcome was fetched from Stripe and recorded. */
  payments_resolved: number;
  /** Idempotency keys older than 24 h deleted. */
  keys_reaped: number;
  /** Refunds whose Stripe outcome was fetched (or whose unanswered request was re-sent) and recorded. */
  refunds_resolved: number;
  /**
   * Stripe's events the webhook catch-up listed (undelivered, or newer than the newest stored), of which
   * `stored` were new to the inbox (the workers apply them) and `already_known` were not; null when it
   * failed (its failure is listed under the id `webhook_catch_up`).
   */
  webhook_catch_up: { listed: number; stored: number; already_known: number } | null;
  /** What could not be finished this time, and why: the exit status is 1 when there is any. */
  failures: { id: string; error: string }[];
}

/** Exit status of a pass that left objects unfinished (a PayError that stopped the pass exits 2). */
export const RECOVERY_FAILED_EXIT = EXIT_PROBLEMS;

export default class Recover extends BaseCommand<RecoveryView> {
  static override description =
    'Run one recovery pass: finish payments, refunds and idempotency keys a crash or an unanswered Stripe call ' +
    'left open, by asking Stripe what happened, delete idempotency keys older than 24 h, and store the ' +
    'webhook events Stripe did not deliver (the workers apply them). ' +
    'Exits 0 when all is done, 1 when some could not be finished (they are listed; a later pass retries ' +
    'them), 2 on a pay error.';

  static override examples = ['<%= config.bin %> recover', '<%= config.bin %> recover --json'];

  async run(): Promise<RecoveryView> {
    await this.parse(Recover);
    const { services } = await this.pay();
    const payments = await services.payments.recover();
    const refunds = await services.refunds.recover();
    const caughtUp = await services.webhooks.catchUp().then(
      (catchUp) => ({ catchUp, failure: null }),
      (error: unknown) => ({
        catchUp: null,
        // Stripe unreachable says nothing about the payments above: listed, as they are, not thrown.
        failure: { id: CATCH_UP_FAILURE_ID, error: error instanceof Error ? error.message : String(error) },
      }),
    );
    const report: RecoveryReport = {
      ...payments,
      keysResumed: payments.keysResumed + refunds.keysResumed,
      failures: [
        ...payments.failures,
        ...refunds.failures,
        ...(caughtUp.failure === null ? [] : [caughtUp.failure]),
      ],
    };
    for (const line of describeReport(report, refunds, caughtUp.catchUp)) {
      this.log(line);
    }
    if (report.failures.length > 0) {
      // Not this.exit(): that throws, and --json would then print an error instead of the report.
      process.exitCode = RECOVERY_FAILED_EXIT;
    }
    return toRecoveryView(report, refunds, caughtUp.catchUp);
  }
}

/** The id under which a failed webhook catch-up is listed among the failures. */
const CATCH_UP_FAILURE_ID = 'webhook_catch_up';

function toRecoveryView(
  report: RecoveryReport,
  refunds: RefundRecoveryReport,
  catchUp: CatchUpReport | null,
): RecoveryView {
  return {
    keys_resumed: report.keysResumed,
    payments_resolved: report.paymentsResolved,
    keys_reaped: report.keysReaped,
    refunds_resolved: refunds.refundsResolved,
    webhook_catch_up:
      catchUp === null
        ? null
        : { listed: catchUp.listed, stored: catchUp.stored, already_known: catchUp.alreadyKnown },
    failures: report.failures.map(({ id, error }) => ({ id, error })),
  };
}

function describeReport(
  report: RecoveryReport,
  refunds: RefundRecoveryReport,
  catchUp: CatchUpReport | null,
): string[] {
  const { keysResumed, paymentsResolved, keysReaped, failures } = report;
  const { refundsResolved } = refunds;
  const stored = catchUp?.stored ?? 0;
  if (keysResumed + paymentsResolved + keysReaped + refundsResolved + stored === 0 && failures.length === 0) {
    return ['Nothing to recover: no payment, refund, idempotency key or webhook event was left unfinished.'];
  }
  const lines = [
    `Resolved ${count(paymentsResolved, 'payment')} and ${count(refundsResolved, 'refund')} with Stripe, ` +
      `resumed ${count(keysResumed, 'idempotency key')}, ` +
      `deleted ${count(keysReaped, 'expired idempotency key')}.`,
  ];
  if (stored > 0) {
    lines.push(`Stored ${count(stored, 'webhook event')} Stripe had not delivered; the workers apply them.`);
  }
  if (failures.length > 0) {
    lines.push(`Could not finish ${count(failures.length, 'object')}; the next pass retries:`);
    lines.push(...failures.map(({ id, error }) => `  ${id}  ${error}`));
  }
  return lines;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
