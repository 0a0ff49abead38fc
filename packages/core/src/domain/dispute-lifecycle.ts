import type { DisputeStatus } from './statuses.js';

/*
 * Stripe moves a dispute one way: an inquiry (`warning_needs_response → warning_under_review`) closes
 * (`warning_closed`) or becomes a chargeback (`needs_response → under_review → won | lost`), which may
 * be prevented, or appealed after a loss (`appeal_needs_response → appeal_under_review → won | lost`).
 * Stripe's events carry the time to the second only, so two reports of one second are ordered by how
 * far along this lifecycle each status is.
 */

/** How far along its lifecycle a dispute in each status is; the closing statuses rank highest. */
export const DISPUTE_STATUS_RANK: Readonly<Record<DisputeStatus, number>> = Object.freeze({
  warning_needs_response: 0,
  warning_under_review: 1,
  needs_response: 2,
  under_review: 3,
  appeal_needs_response: 4,
  appeal_under_review: 5,
  warning_closed: 6,
  prevented: 6,
  won: 6,
  lost: 6,
});

/** True for the statuses that close a dispute (a lost one may still be appealed later). */
export function isDisputeClosed(status: DisputeStatus): boolean {
  return status === 'won' || status === 'lost' || status === 'warning_closed' || status === 'prevented';
}

/**
 * True when a report (`status` as of `reportedAt`) is newer than what is stored: reported in a later
 * second, or in the same second with a status further along. Reports within one second that rank alike
 * (won and lost) cannot be told apart; the first one stored stays.
 */
export function isNewerDisputeReport(
  stored: { readonly status: DisputeStatus; readonly stripeUpdatedAt: Date },
  report: { readonly status: DisputeStatus; readonly reportedAt: Date },
): boolean {
  const storedSecond = Math.floor(stored.stripeUpdatedAt.getTime() / 1000);
  const reportSecond = Math.floor(report.reportedAt.getTime() / 1000);
  if (reportSecond !== storedSecond) {
    return reportSecond > storedSecond;
  }
  return DISPUTE_STATUS_RANK[report.status] > DISPUTE_STATUS_RANK[stored.status];
}
