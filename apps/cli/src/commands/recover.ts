import type { RecoveryReport, RefundRecoveryReport } from '@pay/core';
import { BaseCommand } from '../base-command.js';

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
  /** What could not be finished this time, and why: the exit status is 1 when there is any. */
  failures: { id: string; error: string }[];
}

/** Exit status of a pass that left objects unfinished (a PayError that stopped the pass exits 2). */
export const RECOVERY_FAILED_EXIT = 1;

export default class Recover extends BaseCommand<RecoveryView> {
  static override description =
    'Run one recovery pass: finish payments, refunds and idempotency keys a crash or an unanswered Stripe call ' +
    'left open, by asking Stripe what happened, and delete idempotency keys older than 24 h. ' +
    'Exits 1 when some could not be finished (they are listed; a later pass retries them).';

  static override examples = ['<%= config.bin %> recover', '<%= config.bin %> recover --json'];

  async run(): Promise<RecoveryView> {
    await this.parse(Recover);
    const { services } = await this.pay();
    const payments = await services.payments.recover();
    const refunds = await services.refunds.recover();
    const report: RecoveryReport = {
      ...payments,
      keysResumed: payments.keysResumed + refunds.keysResumed,
      failures: [...payments.failures, ...refunds.failures],
    };
    for (const line of describeReport(report, refunds)) {
      this.log(line);
    }
    if (report.failures.length > 0) {
      // Not this.exit(): that throws, and --json would then print an error instead of the report.
      process.exitCode = RECOVERY_FAILED_EXIT;
    }
    return toRecoveryView(report, refunds);
  }
}

function toRecoveryView(report: RecoveryReport, refunds: RefundRecoveryReport): RecoveryView {
  return {
    keys_resumed: report.keysResumed,
    payments_resolved: report.paymentsResolved,
    keys_reaped: report.keysReaped,
    refunds_resolved: refunds.refundsResolved,
    failures: report.failures.map(({ id, error }) => ({ id, error })),
  };
}

function describeReport(report: RecoveryReport, refunds: RefundRecoveryReport): string[] {
  const { keysResumed, paymentsResolved, keysReaped, failures } = report;
  const { refundsResolved } = refunds;
  if (keysResumed + paymentsResolved + keysReaped + refundsResolved === 0 && failures.length === 0) {
    return ['Nothing to recover: no payment, refund or idempotency key was left unfinished.'];
  }
  const lines = [
    `Resolved ${count(paymentsResolved, 'payment')} and ${count(refundsResolved, 'refund')} with Stripe, ` +
      `resumed ${count(keysResumed, 'idempotency key')}, ` +
      `deleted ${count(keysReaped, 'expired idempotency key')}.`,
  ];
  if (failures.length > 0) {
    lines.push(`Could not finish ${count(failures.length, 'object')}; the next pass retries:`);
    lines.push(...failures.map(({ id, error }) => `  ${id}  ${error}`));
  }
  return lines;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
