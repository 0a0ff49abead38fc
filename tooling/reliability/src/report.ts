/** The invariants of RELIABILITY.md's checkers. */
export const INVARIANTS = ['K1', 'K2', 'K3', 'K4', 'K5'] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** What each invariant promises, in the words a failure message uses. */
export const INVARIANT_TITLES: Readonly<Record<Invariant, string>> = Object.freeze({
  K1: 'at most one PaymentIntent and one successful charge per payment; no intent for a payment pay lacks',
  K2: "every payment and refund is final (or legitimately waiting) and equal to Stripe's",
  K3: 'refunds never exceed what was captured',
  K4: 'one event row per state change; replaying the events explains the row',
  K5: 'no idempotency key left locked or without its stored response',
});

/** One broken promise: which object, and what differs. */
export interface Violation {
  readonly invariant: Invariant;
  /** The object at fault: pay's id (`pay_…`, `idem_…`) or Stripe's (`pi_…`, `ch_…`, `re_…`). */
  readonly objectId: string;
  /** What differs, in a sentence that names both sides. */
  readonly message: string;
  /** The values compared, for a test's failure output. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** How many objects a run looked at: a check that saw nothing proves nothing. */
export interface CheckedCounts {
  readonly payments: number;
  readonly refunds: number;
  readonly subscriptions: number;
  readonly idempotencyKeys: number;
  readonly paymentIntents: number;
  readonly charges: number;
  readonly stripeRefunds: number;
}

/** The result of {@link checkInvariants}: `ok` when `violations` is empty. */
export interface InvariantReport {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly checked: CheckedCounts;
}

/** A readable, multi-line account of a report, one line per violation, grouped by invariant. */
export function formatReport(report: InvariantReport): string {
  const c = report.checked;
  const seen =
    `checked ${c.payments} payments, ${c.refunds} refunds, ${c.subscriptions} subscriptions, ` +
    `${c.idempotencyKeys} idempotency keys; sandbox: ${c.paymentIntents} intents, ${c.charges} charges, ` +
    `${c.stripeRefunds} refunds`;
  if (report.ok) {
    return `K1–K5 hold (${seen})`;
  }
  const lines = [`${report.violations.length} invariant violation(s) (${seen}):`];
  for (const invariant of INVARIANTS) {
    const mine = report.violations.filter((v) => v.invariant === invariant);
    if (mine.length === 0) {
      continue;
    }
    lines.push(`${invariant} — ${INVARIANT_TITLES[invariant]}:`);
    for (const v of mine) {
      const details = v.details === undefined ? '' : ` ${JSON.stringify(v.details)}`;
      lines.push(`  ${v.objectId}: ${v.message}${details}`);
    }
  }
  return lines.join('\n');
}

/** Thrown by {@link assertInvariants}: the message lists every violation; `report` holds them as data. */
export class InvariantViolationError extends Error {
  override readonly name = 'InvariantViolationError';

  constructor(readonly report: InvariantReport) {
    super(formatReport(report));
  }
}
