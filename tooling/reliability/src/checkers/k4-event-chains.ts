import type { EventRow, PayState } from '../pay-state.js';
import type { Violation } from '../report.js';
import { groupBy } from '../world.js';

/** Payment statuses after capture: every move out of one is a refund (or a failed refund given back). */
const CAPTURED: ReadonlySet<string> = new Set(['succeeded', 'partially_refunded', 'refunded']);

/**
 * The events of one object must be one chain: the first from null (creation), each from the previous
 * one's to, the last to the row's status. A missing row breaks the chain; so does one written twice.
 */
function checkChain<S extends string>(
  objectId: string,
  events: readonly EventRow<S>[],
  current: S,
  out: Violation[],
): void {
  const v = (message: string, details?: Record<string, unknown>): void => {
    out.push({ invariant: 'K4', objectId, message, ...(details ? { details } : {}) });
  };
  const chain = events.map((e) => `${e.from_status ?? '∅'}→${e.to_status}`).join(', ');
  const first = events[0];
  if (first === undefined) {
    v(`has no event rows, but is ${current}`);
    return;
  }
  if (first.from_status !== null) {
    v(`its first event moves from ${first.from_status}, not from creation`, { chain });
  }
  events.forEach((event, i) => {
    const previous = events[i - 1];
    if (previous !== undefined && event.from_status !== previous.to_status) {
      v(
        `event seq ${event.seq} moves from ${event.from_status ?? 'creation'} but the one before ended at ` +
          `${previous.to_status}: a change is missing or written twice`,
        { chain },
      );
    }
  });
  const last = events[events.length - 1];
  if (last !== undefined && last.to_status !== current) {
    v(`its events end at ${last.to_status} but the row is ${current}: a change has no event row`, { chain });
  }
}

/**
 * K4: every payment, subscription and refund has exactly one event row per state change (its events
 * form one chain ending at its status), and replaying a payment's events reproduces amount_refunded:
 * the (signed) amounts of its moves after capture — refunds, and refunds that failed and gave money
 * back — add up to it.
 */
export function evaluateK4(pay: PayState): Violation[] {
  const violations: Violation[] = [];
  const paymentEvents = groupBy(pay.paymentEvents, (e) => e.object_id);
  for (const payment of pay.payments) {
    const events = paymentEvents.get(payment.id) ?? [];
    checkChain(payment.id, events, payment.status, violations);
    const replayed = events
      .filter((e) => e.from_status !== null && CAPTURED.has(e.from_status))
      .reduce((sum, e) => sum + e.amount, 0);
    if (replayed !== payment.amount_refunded) {
      violations.push({
        invariant: 'K4',
        objectId: payment.id,
        message: `replaying its events refunds ${replayed}, but amount_refunded is ${payment.amount_refunded}`,
      });
    }
  }
  const subscriptionEvents = groupBy(pay.subscriptionEvents, (e) => e.object_id);
  for (const subscription of pay.subscriptions) {
    checkChain(
      subscription.id,
      subscriptionEvents.get(subscription.id) ?? [],
      subscription.status,
      violations,
    );
  }
  const refundEvents = groupBy(pay.refundEvents, (e) => e.object_id);
  for (const refund of pay.refunds) {
    checkChain(refund.id, refundEvents.get(refund.id) ?? [], refund.status, violations);
  }
  return violations;
}
