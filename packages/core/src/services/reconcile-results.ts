/*
 * The contract of reconciliation (`pay reconcile`, RELIABILITY.md H1): what drifted between pay's ledger
 * and Stripe in a window, by kind, and what was done about it.
 */

/**
 * The kinds of drift reconciliation finds:
 * - `payment_status`: a payment's status differs from its PaymentIntent's (in pay's words);
 * - `amount_refunded`: a captured payment's `amountRefunded` differs from the charge's total at Stripe;
 * - `missing_refund`: Stripe holds a refund of the payment's intent that pay has no row for (one made in
 *   Stripe's dashboard whose webhooks never arrived);
 * - `refund_status`: a refund row's status differs from its Stripe refund's, or pay never recorded which
 *   Stripe refund it is;
 * - `orphan_intent`: an intent carrying pay's metadata whose payment pay does not have, or that is not
 *   the intent pay recorded for it.
 */
export const DRIFT_KINDS = Object.freeze([
  'payment_status',
  'amount_refunded',
  'missing_refund',
  'refund_status',
  'orphan_intent',
] as const);
/** One of {@link DRIFT_KINDS}. */
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** One side's value of a drift: a status, an amount, or null when that side has no such object. */
export type DriftValue = string | number | null;

/** One drift found. */
export interface DriftItem {
  /** What drifted; decides what `pay` and `stripe` hold. */
  readonly kind: DriftKind;
  /** pay's object (`pay_…`, `rfnd_…`), or null when pay has none. */
  readonly objectId: string | null;
  /** Stripe's object (`pi_…`, `re_…`). */
  readonly stripeId: string;
  /** pay's side, in pay's words (a status, minor units), or null when pay has no such object. */
  readonly pay: DriftValue;
  /** Stripe's side, translated into pay's words so it compares with `pay`; null when Stripe has none. */
  readonly stripe: DriftValue;
  /** Repaired in this run, through the state machines, with event rows whose cause is `{ job: 'reconcile' }`. */
  readonly fixed: boolean;
  /**
   * A repair the state machines forbid (pay `succeeded`, Stripe `canceled`) or that must not be made by a
   * program (money moved for a payment pay never recorded): left for a person, in every run.
   */
  readonly unfixable: boolean;
  /** Why it is unfixable, or what was done; null when there is nothing to add. */
  readonly note: string | null;
}

/** What `run` compares. */
export interface ReconcileInput {
  /** Payments created at or after this, and intents created from a few minutes before it. */
  readonly since: Date;
  /** Payments created before this; now when omitted. */
  readonly until?: Date;
  /** Repair what can be repaired; without it, only report. */
  readonly fix: boolean;
}

/** One reconciliation run. */
export interface ReconcileReport {
  /** The window compared, from {@link ReconcileInput.since}. */
  readonly since: Date;
  /** The end of the window compared: the input's `until`, or the clock's now. */
  readonly until: Date;
  /** Whether repairs were made in this run, or drift only reported. */
  readonly fix: boolean;
  /** pay's payments compared with Stripe. */
  readonly paymentsChecked: number;
  /** Stripe's intents carrying pay's metadata that were looked at. */
  readonly intentsChecked: number;
  /** How many items of each kind. */
  readonly counts: Readonly<Record<DriftKind, number>>;
  /** Every drift found, fixed or not. */
  readonly items: readonly DriftItem[];
  /** Objects that could not be compared or repaired this run (Stripe unreachable, a race), and why. */
  readonly failures: readonly { readonly id: string; readonly error: string }[];
}

/** True when nothing is left drifting: every item was fixed and nothing failed. */
export function reconciled(report: ReconcileReport): boolean {
  return report.failures.length === 0 && report.items.every((item) => item.fixed);
}
