import { Flags } from '@oclif/core';
import { DRIFT_KINDS, ValidationError, reconciled, type DriftKind, type ReconcileReport } from '@pay/core';
import { BaseCommand } from '../base-command.js';
import { EXIT_PROBLEMS } from '../exit-codes.js';
import { table } from '../table.js';

/** The `--json` shape of `pay reconcile`: the report, snake_case like every CLI output. */
export interface ReconcileView {
  since: string;
  until: string;
  fix: boolean;
  payments_checked: number;
  intents_checked: number;
  counts: Record<DriftKind, number>;
  items: {
    kind: DriftKind;
    object_id: string | null;
    stripe_id: string;
    pay: string | number | null;
    stripe: string | number | null;
    fixed: boolean;
    unfixable: boolean;
    note: string | null;
  }[];
  failures: { id: string; error: string }[];
}

/** Exit status when drift remains: report mode, unfixable items, or objects that could not be compared. */
export const DRIFT_REMAINS_EXIT = EXIT_PROBLEMS;

const UNITS_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO-8601 date, or a span back from now (`30m`, `24h`, `7d`). */
export function parseSince(value: string, now: Date): Date {
  const span = /^(\d{1,5})([mhd])$/.exec(value.trim());
  if (span !== null) {
    return new Date(now.getTime() - Number(span[1]) * (UNITS_MS[span[2] ?? 'h'] ?? 0));
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime()) || at.getTime() >= now.getTime()) {
    throw new ValidationError(
      `--since must be an ISO-8601 date in the past or a span such as 24h or 7d, got "${value.slice(0, 64)}".`,
      { param: 'since' },
    );
  }
  return at;
}

export default class Reconcile extends BaseCommand<ReconcileView> {
  static override description =
    "Compare pay's payments and refunds of a window with Stripe and report each drift by kind; with --fix, " +
    'repair what the state machines allow (event rows say `reconcile`) and cancel orphan intents that moved ' +
    'no money. Exits 0 when nothing drifts or all was fixed, 1 when drift remains, 2 on a pay error.';

  static override examples = [
    '<%= config.bin %> reconcile',
    '<%= config.bin %> reconcile --since 7d --fix',
    '<%= config.bin %> reconcile --since 2026-01-01T00:00:00Z --json',
  ];

  static override flags = {
    since: Flags.string({
      description: 'Start of the window: an ISO-8601 date, or a span back from now (30m, 24h, 7d)',
      default: '24h',
    }),
    fix: Flags.boolean({
      description: 'Repair what can be repaired; without it, only report',
      default: false,
    }),
  };

  async run(): Promise<ReconcileView> {
    const { flags } = await this.parse(Reconcile);
    const since = parseSince(flags.since, new Date());
    const { services } = await this.pay();
    const report = await services.reconcile.run({ since, fix: flags.fix });
    for (const line of describeReport(report)) {
      this.log(line);
    }
    if (!reconciled(report)) {
      // Not this.exit(): that throws, and --json would then print an error instead of the report.
      process.exitCode = DRIFT_REMAINS_EXIT;
    }
    return toReconcileView(report);
  }
}

function toReconcileView(report: ReconcileReport): ReconcileView {
  return {
    since: report.since.toISOString(),
    until: report.until.toISOString(),
    fix: report.fix,
    payments_checked: report.paymentsChecked,
    intents_checked: report.intentsChecked,
    counts: { ...report.counts },
    items: report.items.map((i) => ({
      kind: i.kind,
      object_id: i.objectId,
      stripe_id: i.stripeId,
      pay: i.pay,
      stripe: i.stripe,
      fixed: i.fixed,
      unfixable: i.unfixable,
      note: i.note,
    })),
    failures: report.failures.map(({ id, error }) => ({ id, error })),
  };
}

function stateOf(item: ReconcileReport['items'][number]): string {
  if (item.fixed) {
    return 'fixed';
  }
  return item.unfixable ? 'unfixable' : 'open';
}

function describeReport(report: ReconcileReport): string[] {
  const window = `${report.since.toISOString()} to ${report.until.toISOString()}`;
  const checked = `${report.paymentsChecked} payments and ${report.intentsChecked} Stripe intents checked`;
  if (report.items.length === 0 && report.failures.length === 0) {
    return [`No drift from ${window}: ${checked}.`];
  }
  const lines = [`Drift from ${window} (${checked}):`, ''];
  lines.push(
    ...table(
      ['KIND', 'COUNT', 'FIXED'],
      DRIFT_KINDS.map((kind) => {
        const ofKind = report.items.filter((i) => i.kind === kind);
        return [kind, String(ofKind.length), String(ofKind.filter((i) => i.fixed).length)];
      }),
    ),
  );
  if (report.items.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['KIND', 'PAY ID', 'STRIPE ID', 'PAY', 'STRIPE', 'STATE', 'NOTE'],
        report.items.map((i) => [
          i.kind,
          i.objectId ?? '-',
          i.stripeId,
          String(i.pay ?? '-'),
          String(i.stripe ?? '-'),
          stateOf(i),
          i.note ?? '',
        ]),
      ),
    );
  }
  if (report.failures.length > 0) {
    lines.push('', `Could not compare ${report.failures.length} object(s); rerun:`);
    lines.push(...report.failures.map(({ id, error }) => `  ${id}  ${error}`));
  }
  if (!report.fix && report.items.some((i) => !i.unfixable)) {
    lines.push('', 'Run again with --fix to repair what can be repaired.');
  }
  return lines;
}
